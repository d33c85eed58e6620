"""Checks for notebooks/01_filters_and_receptive_fields (lecture notes 001 and 003)."""

import numpy as np

from keras_cnn_course.exercises.checker import (
    call, callable_answer, compare_array, compare_number, compare_returned, fail, passed)
from keras_cnn_course.lecture import arithmetic, filters

SIZE_CASES = ((7, 3, 1, 0), (7, 3, 2, 0), (32, 5, 1, 2), (227, 11, 4, 0), (28, 5, 1, 0),
              (10, 4, 3, 1), (5, 5, 1, 0))
# (kernel, stride) stacks; the oracle is a Keras model's layer table.
STACKS = ([(3, 1)], [(3, 1), (3, 1)], [(3, 1)] * 3, [(3, 1), (3, 2), (3, 1)],
          [(5, 1), (2, 2), (5, 1), (2, 2)], [(7, 2), (3, 2), (3, 1)])


def output_size(function):
    """function(W, F, S, P): the output width of a convolution (lecture note 001)."""
    exercise = "output size"
    function = callable_answer(exercise, function, "my_output_size")
    for width, kernel, stride, padding in SIZE_CASES:
        compare_returned(exercise, f"W={width}, F={kernel}, S={stride}, P={padding}",
                         call(exercise, function, width, kernel, stride, padding),
                         arithmetic.conv_output_size(width, kernel, stride, padding))
    passed(exercise, f"{len(SIZE_CASES)} cases agree with `arithmetic.conv_output_size`")


def _stack_receptive_field(stack):
    import keras

    from keras_cnn_course.lecture.receptive_field import layer_table

    layers = [keras.layers.Conv2D(1, k, strides=s) for k, s in stack]
    model = keras.Sequential([keras.Input((64, 64, 1)), *layers])
    return int(layer_table(model)["receptive field"].iloc[-1])


def receptive_field(function):
    """function(layers): the receptive field of a stack of (kernel, stride) layers."""
    exercise = "receptive field"
    function = callable_answer(exercise, function, "my_receptive_field")
    for stack in STACKS:
        compare_returned(exercise, f"the stack {stack}", call(exercise, function, list(stack)),
                         _stack_receptive_field(stack))
    passed(exercise, f"{len(STACKS)} stacks agree with the layer tables of Keras models")


def sobel_y(kernel):
    """kernel: the corrected vertical Sobel kernel (3×3)."""
    exercise = "Sobel kernel"
    if kernel is ... or kernel is None:
        fail(exercise, f"`sobel_y` is not filled in yet (received {kernel!r}).")
    kernel = np.asarray(kernel, dtype=float)
    if np.array_equal(kernel, filters.SOBEL_Y_AS_PRINTED):
        fail(exercise, "that is the kernel as printed: it sums to -8, so it responds to flat "
                       "regions. A derivative kernel must sum to 0.")
    compare_array(exercise, kernel, filters.SOBEL_Y, "the vertical Sobel kernel")
    passed(exercise, "it sums to 0 and responds to horizontal edges only")


def alexnet_conv1(conv_params, dense_params):
    """AlexNet's conv1 (227×227×3 -> 55×55×96, 11×11 stride 4) vs a dense layer, by hand."""
    exercise = "AlexNet conv1 vs a dense layer"
    reference = arithmetic.alexnet_conv1_vs_dense()
    compare_number(exercise, "conv1_params", conv_params, reference["conv_params"])
    compare_number(exercise, "dense_params", dense_params, reference["dense_params"])
    passed(exercise, f"weight sharing saves a factor of {dense_params / conv_params:,.0f}")
