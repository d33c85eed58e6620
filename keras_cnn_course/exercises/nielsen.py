"""Checks for notebooks/04_nielsen_mnist (Nielsen's chapter-6 progression)."""

import numpy as np

from keras_cnn_course.data.expand import SHIFTS, shift_image
from keras_cnn_course.exercises.checker import (
    call, callable_answer, compare_array, compare_models, fail, model_answer, passed)

# (rows, cols) of each shift in SHIFTS' order: down, up, right, left.
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def second_network(build):
    """build(): Nielsen's second network (two conv-pool layers, 100 sigmoid units)."""
    from keras_cnn_course.models import get_model

    exercise = "Nielsen's second network"
    model = model_answer(exercise, build, "build_second_network")
    total = compare_models(exercise, model, get_model("nielsen_dbl_conv"))
    passed(exercise, f"{total:,} parameters, layer by layer as `get_model('nielsen_dbl_conv')`")


def shift(function):
    """function(images, rows, cols): (N, 28, 28) images moved by one pixel, zeros shifted in."""
    exercise = "expanding the training data"
    function = callable_answer(exercise, function, "my_shift")
    images = np.random.default_rng(0).integers(1, 256, size=(3, 28, 28)).astype(np.uint8)
    for (rows, cols), arguments in zip(DIRECTIONS, SHIFTS):
        got = call(exercise, function, images.copy(), rows, cols)
        compare_array(exercise, got, shift_image(images, *arguments),
                      f"a shift by (rows={rows}, cols={cols})")
    passed(exercise, "the four shifts of Nielsen's expand_mnist.py")


def misclassified(function):
    """function(probabilities, labels): sorted indices of the examples predicted wrong."""
    exercise = "misclassified digits"
    function = callable_answer(exercise, function, "my_misclassified")
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=50)
    labels = rng.integers(0, 10, size=50)
    labels[:20] = probabilities[:20].argmax(axis=1)
    got = call(exercise, function, probabilities, labels)
    if got is None or np.ndim(got) != 1:
        fail(exercise, f"return a 1-D array of indices; received {type(got).__name__} "
                       f"{'of shape ' + str(np.shape(got)) if got is not None else ''}.")
    compare_array(exercise, got, np.flatnonzero(probabilities.argmax(axis=1) != labels),
                  "50 predictions")
    passed(exercise)
