"""Output sizes and parameter counts against what Keras layers actually produce."""

import itertools

import keras
import numpy as np
import pytest

from keras_cnn_course.lecture import arithmetic as ar


def keras_conv_width(size, kernel, stride, padding, dilation):
    x = np.zeros((1, size, size, 1), "float32")
    w = np.zeros((kernel, kernel, 1, 1), "float32")
    return keras.ops.conv(x, w, strides=stride, padding=padding, dilation_rate=dilation).shape[1]


CASES = [(w, f, s, d)
         for w, f, s, d in itertools.product(range(5, 12), range(1, 5), (1, 2, 3), (1, 2))
         if not (s > 1 and d > 1) and d * (f - 1) + 1 <= w]


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv_output_size_matches_keras(padding):
    for size, kernel, stride, dilation in CASES:
        expected = keras_conv_width(size, kernel, stride, padding, dilation)
        assert ar.conv_output_size(size, kernel, stride, padding, dilation) == expected


def test_integer_padding_matches_zero_padding_then_valid_conv():
    for (size, kernel, stride, dilation), pad in itertools.product(CASES[::5], (1, 2)):
        padded = keras.layers.ZeroPadding2D(pad)(np.zeros((1, size, size, 1), "float32"))
        w = np.zeros((kernel, kernel, 1, 1), "float32")
        out = keras.ops.conv(padded, w, strides=stride, dilation_rate=dilation).shape[1]
        assert ar.conv_output_size(size, kernel, stride, pad, dilation) == out


def test_same_padding_is_what_tensorflow_adds():
    for size, kernel, stride, dilation in CASES[::3]:
        before, after = ar.same_padding(size, kernel, stride, dilation)
        x = np.random.default_rng(0).normal(size=(1, size, size, 1)).astype("float32")
        w = np.random.default_rng(1).normal(size=(kernel, kernel, 1, 1)).astype("float32")
        same = keras.ops.conv(x, w, stride, "same", dilation_rate=dilation)
        explicit = keras.ops.conv(np.pad(x, [(0, 0), (before, after), (before, after), (0, 0)]),
                                  w, stride, "valid", dilation_rate=dilation)
        np.testing.assert_allclose(same, explicit, atol=1e-5)


def test_lecture_examples():
    assert ar.conv_output_size(7, 3) == 5  # lecture note 002
    assert ar.conv_output_size(32, 5) == 28  # lecture note 001: 32x32x3 with 5x5 filters
    assert ar.conv_output_size(32, 3, 1, 1) == 32  # F = 3, S = 1, P = 1 keeps the size
    assert ar.conv_output_size(7, 3, 1, (3 - 1) // 2) == 7  # P = (K - 1)/2 is "same"
    assert ar.effective_kernel_size(3, dilation=2) == 5


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pool_output_size_matches_keras(padding):
    for size, pool, stride in itertools.product(range(2, 10), (2, 3), (None, 1, 2)):
        if pool > size:
            continue
        layer = keras.layers.MaxPooling2D(pool, stride, padding)
        assert ar.pool_output_size(size, pool, stride, padding) == \
            layer(np.zeros((1, size, size, 1), "float32")).shape[1]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("output_padding", [None, 0, 1])
def test_transposed_conv_output_size_matches_keras(padding, output_padding):
    for size, kernel, stride in itertools.product((3, 4, 7), (1, 2, 3, 4), (2, 3)):
        if padding == "same" and kernel % 2 == 0 and output_padding == 0:
            with pytest.raises(ValueError, match="even kernel"):  # TensorFlow refuses it too
                ar.transposed_conv_output_size(size, kernel, stride, padding, output_padding)
            continue
        layer = keras.layers.Conv2DTranspose(1, kernel, stride, padding,
                                             output_padding=output_padding)
        out = layer(np.zeros((1, size, size, 1), "float32")).shape[1]
        assert ar.transposed_conv_output_size(size, kernel, stride, padding, output_padding) == out


def test_transposed_size_inverts_the_convolution_size():
    """s(H - 1) + k - 2p + a maps back to H under the convolution with the same k, s, p."""
    grid = itertools.product(range(1, 8), range(1, 6), (1, 2, 3), (0, 1, 2))
    for size, kernel, stride, pad in grid:
        if 2 * pad >= kernel + stride * (size - 1):
            continue
        for extra in range(stride):
            up = ar.transposed_conv_output_size(size, kernel, stride, pad, extra)
            assert ar.conv_output_size(up, kernel, stride, pad) == size


def test_parameter_counts_match_keras():
    grid = itertools.product((1, 3, (5, 2)), (1, 3), (2, 7), (True, False))
    for kernel, c_in, c_out, bias in grid:
        layer = keras.layers.Conv2D(c_out, kernel, use_bias=bias)
        layer.build((None, 9, 9, c_in))
        assert ar.conv_params(kernel, c_in, c_out, bias) == layer.count_params()
    conv1d = keras.layers.Conv1D(15, 3)  # lecture note 004: C_i × C_o × K weights, C_o biases
    conv1d.build((None, 19, 15))
    assert ar.conv_params((3,), 15, 15) == conv1d.count_params() == 15 * 15 * 3 + 15
    dense = keras.layers.Dense(11)
    dense.build((None, 13))
    assert ar.dense_params(13, 11) == dense.count_params()


def test_alexnet_conv1_vs_dense():
    layer = keras.layers.Conv2D(96, 11, strides=4)
    out = layer(np.zeros((1, 227, 227, 3), "float32"))
    numbers = ar.alexnet_conv1_vs_dense()
    assert numbers["output_shape"] == tuple(out.shape[1:]) == (55, 55, 96)
    assert numbers["conv_params"] == layer.count_params() == 34_944
    assert numbers["dense_inputs"] == 154_587 and numbers["dense_outputs"] == 290_400
    assert numbers["dense_params"] == 154_587 * 290_400 + 290_400 == 44_892_355_200
    assert round(numbers["dense_params"] / 1e9, 1) == 44.9


def test_three_3x3_vs_one_7x7():
    for channels in (1, 4, 16):
        stack = keras.Sequential([keras.Input((15, 15, channels))] + [
            keras.layers.Conv2D(channels, 3, padding="same", use_bias=False) for _ in range(3)])
        big = keras.Sequential([keras.Input((15, 15, channels)),
                                keras.layers.Conv2D(channels, 7, padding="same", use_bias=False)])
        weights = ar.small_filter_weights(channels)
        assert weights == {"three_3x3": stack.count_params(), "one_7x7": big.count_params()}
        assert weights == {"three_3x3": 27 * channels**2, "one_7x7": 49 * channels**2}


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="stride"):
        ar.conv_output_size(10, 3, stride=0)
    with pytest.raises(ValueError, match="padding"):
        ar.conv_output_size(10, 3, padding="full")
    with pytest.raises(ValueError, match="does not fit"):
        ar.conv_output_size(4, 5)
    with pytest.raises(ValueError, match="output_padding"):
        ar.transposed_conv_output_size(4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="kernel_size"):
        ar.conv_params(0, 3, 4)
