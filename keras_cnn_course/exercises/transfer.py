"""Checks for notebooks/06_transfer (transfer learning from ImageNet on real photos)."""

import numpy as np

from keras_cnn_course.exercises.checker import (
    a_type, call, callable_answer, compare_array, fail, model_answer, passed)


def preprocess(function):
    """function(images): RGB pixels in [0, 255] -> EfficientNet-Lite0's input range."""
    from keras_cnn_course.transfer import preprocess_input

    exercise = "preprocessing"
    function = callable_answer(exercise, function, "my_preprocess")
    images = np.random.default_rng(0).integers(0, 256, size=(2, 8, 8, 3)).astype(np.float32)
    images[0, 0, 0] = (0, 255, 128)
    compare_array(exercise, call(exercise, function, images.copy()),
                  preprocess_input(images.copy()), "two 8×8 RGB images", atol=1e-4)
    passed(exercise)


def frozen_head(build):
    """build(): the frozen case, a backbone whose weights do not train plus a new softmax."""
    import keras

    exercise = "a frozen backbone with a new head"
    model = model_answer(exercise, build, "build_frozen")
    last = model.layers[-1]
    if not isinstance(last, keras.layers.Dense) or last.units != 6:
        fail(exercise, f"the last layer must be a new Dense layer with 6 units (the photos' "
                       f"classes); received {type(last).__name__} with output "
                       f"{tuple(last.output.shape[1:])}.")
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    if trainable != last.count_params():
        fail(exercise, f"{trainable:,} weights would train; only the new layer's "
                       f"{last.count_params():,} should.")
    passed(exercise, f"{trainable:,} trainable weights of {model.count_params():,}: only the "
                     f"new layer learns")


def accuracy(function):
    """function(probabilities, labels): the fraction of examples whose top class is the label."""
    exercise = "accuracy"
    function = callable_answer(exercise, function, "my_accuracy")
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(6), size=40)
    labels = rng.integers(0, 6, size=40)
    labels[:15] = probabilities[:15].argmax(axis=1)
    got = call(exercise, function, probabilities, labels)
    expected = float(np.mean(probabilities.argmax(axis=1) == labels))
    if not isinstance(got, (float, int, np.floating, np.integer)) or isinstance(got, bool):
        fail(exercise, f"return one number (a fraction); received {a_type(got)}.")
    if not np.isclose(got, expected):
        side = "too large" if got > expected else "too small"
        fail(exercise, f"on 40 predictions you return {float(got):.4f}, which is {side} "
                       f"(a fraction in [0, 1], not a percentage).")
    passed(exercise)
