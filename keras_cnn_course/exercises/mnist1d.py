"""Checks for notebooks/05_mnist1d (the MNIST-1D study: a CNN vs fully connected nets)."""

from keras_cnn_course.exercises.checker import compare_models, compare_number, model_answer, passed


def cnn(build):
    """build(): the MNIST-1D CNN (three Conv1D layers, 15 channels, kernel 3, stride 2)."""
    from keras_cnn_course.models import get_model

    exercise = "the MNIST-1D CNN"
    model = model_answer(exercise, build, "build_cnn")
    total = compare_models(exercise, model, get_model("mnist1d_cnn"))
    passed(exercise, f"{total:,} parameters, layer by layer as `get_model('mnist1d_cnn')`")


def receptive_field(answer):
    """answer: how many of the 40 inputs one unit of conv3 sees."""
    from keras_cnn_course.lecture.receptive_field import layer_table
    from keras_cnn_course.models import get_model

    table = layer_table(get_model("mnist1d_cnn")).set_index("name")
    compare_number("receptive field of conv3", "rf_conv3", answer,
                   int(table.loc["conv3", "receptive field"]))
    passed("receptive field of conv3", "each of its 4 positions sees part of the signal")


def fc_parameters(answer):
    """answer: the parameters of the fully connected net 40-285-135-60-10."""
    from keras_cnn_course.models import get_model

    compare_number("parameters of the fully connected net", "fc_params", answer,
                   get_model("mnist1d_fc").count_params())
    passed("parameters of the fully connected net")
