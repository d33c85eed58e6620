"""Checks for notebooks/02_layers_pooling_normalization (lecture note 002)."""

from keras_cnn_course.exercises.checker import (
    call, callable_answer, compare_array, compare_models, compare_returned, model_answer, passed,
    random_arrays)
from keras_cnn_course.lecture import arithmetic, normalization, structure

PARAM_CASES = ((5, 3, 6), (3, 64, 64), (1, 192, 32), (11, 3, 96), ((3,), 15, 15), ((1, 7), 4, 2))


def conv_params(function):
    """function(kernel_size, in_channels, filters): weights + biases of a convolution."""
    exercise = "parameters of a convolution"
    function = callable_answer(exercise, function, "my_conv_params")
    for kernel, channels, filters in PARAM_CASES:
        compare_returned(exercise, f"kernel_size={kernel!r}, in_channels={channels}, "
                         f"filters={filters}", call(exercise, function, kernel, channels, filters),
                         arithmetic.conv_params(kernel, channels, filters))
    passed(exercise)


def lenet5(build):
    """build(): LeNet-5 as a keras.Model, compared layer by layer with get_model('lenet5')."""
    from keras_cnn_course.models import get_model

    exercise = "LeNet-5 from layers"
    model = model_answer(exercise, build, "build_lenet5")
    total = compare_models(exercise, model, get_model("lenet5"))
    passed(exercise, f"{total:,} parameters, layer by layer as `get_model('lenet5')`")


def normalizations(batch_norm, layer_norm):
    """batch_norm(x), layer_norm(x) for (N, H, W, C) tensors, epsilon 1e-3, no gamma/beta."""
    exercise = "batch and layer normalization"
    batch_norm = callable_answer(exercise, batch_norm, "my_batch_norm")
    layer_norm = callable_answer(exercise, layer_norm, "my_layer_norm")
    for seed, shape in enumerate(((4, 3, 3, 2), (2, 5, 4, 3))):
        (x,) = random_arrays(seed, shape)
        x = 3 * x + 1
        compare_array(exercise, call(exercise, batch_norm, x),
                      normalization.normalize(x, "batch"), f"batch norm of x {shape}", atol=1e-5)
        compare_array(exercise, call(exercise, layer_norm, x),
                      normalization.normalize(x, "layer"), f"layer norm of x {shape}", atol=1e-5)
    passed(exercise, "statistics over the right axes")


def pointwise(function):
    """function(x, weights, bias): a 1×1 convolution of an (H, W, C_in) map."""
    exercise = "1×1 convolution"
    function = callable_answer(exercise, function, "my_pointwise")
    for seed, (shape, out) in enumerate((((4, 4, 3), 2), ((2, 5, 6), 4))):
        x, weights, bias = random_arrays(seed, shape, (shape[-1], out), (out,))
        compare_array(exercise, call(exercise, function, x, weights, bias),
                      structure.pointwise_dense(x, weights, bias), f"x {shape} -> {out} channels")
    passed(exercise)
