"""Checks for notebooks/00_convolution_and_backprop (lecture note 000)."""

import numpy as np

from keras_cnn_course.exercises.checker import (
    a_type, call, callable_answer, compare_array, compare_returned, fail, passed, random_arrays)
from keras_cnn_course.lecture import arithmetic, backprop, correlation

SHAPES = (((5, 5), (3, 3)), ((6, 7), (2, 3)), ((4, 4), (4, 4)), ((8, 5), (1, 2)))


def _operation(exercise, function, name, oracle):
    function = callable_answer(exercise, function, name)
    for seed, (image_shape, kernel_shape) in enumerate(SHAPES):
        image, kernel = random_arrays(seed, image_shape, kernel_shape)
        case = f"image {image_shape}, kernel {kernel_shape}"
        compare_array(exercise, call(exercise, function, image, kernel),
                      oracle(image, kernel, "valid"), case)
    passed(exercise, f"{len(SHAPES)} image/kernel pairs match `correlation.{oracle.__name__}`")


def cross_correlation(function):
    """function(image, kernel): the 'valid' cross-correlation (I ⋆ K)(i, j)."""
    _operation("cross-correlation", function, "my_correlate", correlation.correlate)


def convolution(function):
    """function(image, kernel): the 'valid' true convolution (I * K)(i, j)."""
    _operation("convolution", function, "my_convolve", correlation.convolve)


def conv_backward(input_gradient, kernel_gradient):
    """The gradients of z = x ⋆ w + b (Keras' Conv2D): ∂L/∂x and ∂L/∂w given δ = ∂L/∂z."""
    exercise = "backward pass of a convolution"
    input_gradient = callable_answer(exercise, input_gradient, "my_input_gradient")
    kernel_gradient = callable_answer(exercise, kernel_gradient, "my_kernel_gradient")
    for seed, (x_shape, w_shape) in enumerate(SHAPES):
        x, w = random_arrays(seed, x_shape, w_shape)
        (delta,) = random_arrays(seed + 10, backprop.conv_forward(x, w).shape)
        case = f"x {x_shape}, w {w_shape}"
        compare_array(exercise, call(exercise, input_gradient, delta, w),
                      backprop.input_gradient(delta, w), f"∂L/∂x for {case}")
        compare_array(exercise, call(exercise, kernel_gradient, x, delta),
                      backprop.kernel_gradient(x, delta), f"∂L/∂w for {case}")
    passed(exercise, "both gradients match `backprop` (itself checked against tf.GradientTape)")


def max_pool_gradient(function):
    """function(x, upstream): ∂L/∂x of 2×2 max pooling."""
    exercise = "gradient of max pooling"
    function = callable_answer(exercise, function, "my_max_pool_gradient")
    for seed, shape in enumerate(((4, 4), (6, 8), (2, 2))):
        x, upstream = random_arrays(seed, shape, (shape[0] // 2, shape[1] // 2))
        compare_array(exercise, call(exercise, function, x, upstream),
                      backprop.max_pool_gradient(x, upstream), f"x of shape {shape}")
    passed(exercise)


def transposed_size(function):
    """function(size, kernel_size, stride, padding): a transposed convolution's output size."""
    exercise = "transposed convolution output size"
    function = callable_answer(exercise, function, "my_transposed_size")
    for size, kernel, stride, padding in ((4, 3, 1, 0), (4, 3, 2, 0), (5, 4, 2, 1), (7, 5, 3, 2),
                                          (1, 2, 2, 0)):
        compare_returned(exercise, f"H={size}, k={kernel}, s={stride}, p={padding}",
                         call(exercise, function, size, kernel, stride, padding),
                         arithmetic.transposed_conv_output_size(size, kernel, stride, padding))
    passed(exercise, "it agrees with Keras' Conv2DTranspose (output_padding 0)")


def identities(answer):
    """answer: {identity: bool} for 'valid' mode with a 5×5 image and a 3×3 kernel."""
    exercise = "which identities hold"
    if answer is ... or answer is None:
        fail(exercise, f"`identities_hold` is not filled in yet (received {answer!r}).")
    if not isinstance(answer, dict):
        fail(exercise, f"`identities_hold` must be a dict {{identity: True/False}}; received "
                       f"{a_type(answer)}.")
    image, kernel = random_arrays(0, (5, 5), (3, 3))
    table = correlation.identity_table(image, kernel).loc["valid"]
    missing = [name for name in table.index if name not in answer]
    if missing:
        fail(exercise, f"no answer for {missing[0]!r}; answer True or False for each of "
                       f"{list(table.index)}.")
    for name, difference in table.items():
        holds = bool(np.isfinite(difference) and difference < 1e-9)
        if not isinstance(answer[name], bool):
            fail(exercise, f"the answer for {name!r} must be True or False; received "
                           f"{answer[name]!r}.")
        if answer[name] != holds:
            fail(exercise, f"your answer for {name!r} is wrong: compute both sides with your "
                           f"functions and compare.")
    passed(exercise)
