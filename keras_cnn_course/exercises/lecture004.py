"""Checks for notebooks/03_1d_cnns_down_and_upsampling (lecture note 004)."""

from keras_cnn_course.exercises.checker import (
    call, callable_answer, compare_array, passed, random_arrays)
from keras_cnn_course.lecture import sampling, structure

MATRIX_CASES = (((1.0, 2.0, 3.0), 6, 1, 0), ((1.0, 2.0, 3.0), 6, 1, 1), ((2.0, -1.0, 4.0), 7, 2, 1),
                ((1.0, -1.0), 5, 1, 0), ((1.0, 2.0, 3.0, 4.0, 5.0), 9, 2, 2))


def conv1d_matrix(function):
    """function(kernel, length, stride, padding): the matrix Ω with Ω @ x = Conv1D(x)."""
    exercise = "convolution as a matrix"
    function = callable_answer(exercise, function, "my_conv1d_matrix")
    for kernel, length, stride, padding in MATRIX_CASES:
        compare_array(exercise, call(exercise, function, kernel, length, stride, padding),
                      structure.conv1d_matrix(kernel, length, stride, padding),
                      f"kernel {kernel}, length {length}, stride {stride}, padding {padding}")
    passed(exercise, "every row holds the same weights, shifted by the stride")


def downsampling(subsample, max_pool, mean_pool):
    """Each function(x) downsamples an (H, W) grid by 2."""
    exercise = "downsampling"
    for name, function, oracle in (("my_subsample", subsample, sampling.subsample),
                                   ("my_max_pool", max_pool, sampling.max_pool),
                                   ("my_mean_pool", mean_pool, sampling.mean_pool)):
        function = callable_answer(exercise, function, name)
        for x in (sampling.EXAMPLE_4X4, *random_arrays(1, (6, 8))):
            compare_array(exercise, call(exercise, function, x), oracle(x),
                          f"`{name}` on a {x.shape} grid")
    passed(exercise, "all three agree with `sampling`")


def max_unpool(function):
    """function(pooled, switches): max unpooling by 2 with the switches of max pooling."""
    exercise = "max unpooling"
    function = callable_answer(exercise, function, "my_max_unpool")
    for x in (sampling.EXAMPLE_4X4, *random_arrays(2, (6, 4))):
        pooled, switches = sampling.max_pool_with_switches(x)
        compare_array(exercise, call(exercise, function, pooled, switches),
                      sampling.max_unpool(pooled, switches), f"a {x.shape} grid")
    passed(exercise)


def dilate(function):
    """function(kernel, rate): the kernel with rate - 1 zeros between its entries."""
    exercise = "dilated kernel"
    function = callable_answer(exercise, function, "my_dilate")
    for seed, (shape, rate) in enumerate((((3, 3), 2), ((3, 3), 1), ((2, 3), 3))):
        (kernel,) = random_arrays(seed, shape)
        compare_array(exercise, call(exercise, function, kernel, rate),
                      structure.dilate_kernel(kernel, rate), f"a {shape} kernel, rate {rate}")
    passed(exercise, "same weights, larger span")
