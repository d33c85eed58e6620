"""Structure claims of lecture notes 001/002/004 against Keras layers and explicit matrices."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cnn_course.lecture import structure
from keras_cnn_course.lecture.receptive_field import gradient_support, support_extent
from keras_cnn_course.lecture.sampling import max_pool, subsample

RNG = np.random.default_rng(2)
KERNEL = np.array([0.5, -1.0, 2.0])


def conv1d(x, kernel, stride, padding):
    layer = keras.layers.Conv1D(1, len(kernel), strides=stride, padding=padding, use_bias=False)
    layer.build((None, len(x), 1))
    layer.set_weights([np.asarray(kernel)[:, None, None]])
    return np.asarray(layer(x[None, :, None].astype("float32")))[0, :, 0]


@pytest.mark.parametrize("stride", [1, 2])
def test_conv1d_is_a_sparse_weight_tied_matrix(stride):
    x = RNG.normal(size=6)
    for padding in ("valid", "same"):
        omega = structure.conv1d_matrix(KERNEL, 6, stride, padding)
        np.testing.assert_allclose(omega @ x, conv1d(x, KERNEL, stride, padding), atol=1e-5)
    omega = structure.conv1d_matrix(KERNEL, 6, stride, 1)  # UDL fig. 10.4: zero padding 1
    np.testing.assert_allclose(omega @ x, conv1d(np.pad(x, 1), KERNEL, stride, "valid"), atol=1e-5)
    assert omega.shape == (6 // stride, 6) and (omega != 0).sum() <= 3 * omega.shape[0]
    for i in range(1, omega.shape[0] - 1):  # every interior row is the kernel, shifted
        np.testing.assert_array_equal(omega[i, i * stride - 1:i * stride + 2], KERNEL)


@pytest.mark.parametrize("padding, length", [("valid", 7), ("same", 6)])
def test_transposed_convolution_is_the_transposed_matrix(padding, length):
    y = RNG.normal(size=3)
    layer = keras.layers.Conv1DTranspose(1, 3, strides=2, padding=padding, use_bias=False)
    layer.build((None, 3, 1))
    layer.set_weights([KERNEL[:, None, None]])
    out = np.asarray(layer(y[None, :, None].astype("float32")))[0, :, 0]
    np.testing.assert_allclose(structure.transposed_conv1d_matrix(KERNEL, length, 2, padding) @ y,
                               out, atol=1e-5)
    # the same thing as the gradient of the stride-2 convolution (vector-Jacobian product)
    x = tf.zeros((length,))
    with tf.GradientTape() as tape:
        tape.watch(x)
        down = tf.nn.conv1d(x[None, :, None], KERNEL[:, None, None].astype("float32"), 2,
                            padding.upper())[0, :, 0]
    np.testing.assert_allclose(tape.gradient(down, x, output_gradients=y.astype("float32")),
                               out, atol=1e-5)


@pytest.mark.parametrize("stride, padding", [(2, 0), (2, 1), (3, 0), (1, 1)])
def test_transposed_convolution_inserts_zeros_then_convolves(stride, padding):
    y = RNG.normal(size=4)
    out = structure.transposed_conv1d(y, KERNEL, stride, padding)
    assert len(out) == stride * (4 - 1) + 3 - 2 * padding
    np.testing.assert_allclose(
        out, structure.transposed_conv1d_matrix(KERNEL, len(out), stride, padding) @ y, atol=1e-12)
    if padding == 0:
        layer = keras.layers.Conv1DTranspose(1, 3, strides=stride, use_bias=False)
        layer.build((None, 4, 1))
        layer.set_weights([KERNEL[:, None, None]])
        np.testing.assert_allclose(out, layer(y[None, :, None].astype("float32"))[0, :, 0],
                                   atol=1e-5)


def test_two_linear_convolutions_are_one():
    a, b = RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3))
    x = RNG.normal(size=(12, 12))
    model = keras.Sequential([keras.Input((12, 12, 1)),
                              keras.layers.Conv2D(1, 3, use_bias=False),
                              keras.layers.Conv2D(1, 3, use_bias=False)])
    model.set_weights([a[..., None, None], b[..., None, None]])
    single = structure.compose_kernels(a, b)
    assert single.shape == (5, 5)
    np.testing.assert_allclose(model(x[None, ..., None].astype("float32"))[0, ..., 0],
                               conv2d(x, single), atol=1e-4)


def conv2d(x, kernel, **options):
    return keras.ops.conv(x[None, ..., None].astype("float32"),
                          kernel[..., None, None].astype("float32"), **options)[0, ..., 0]


def test_stride_two_is_stride_one_then_subsampling():
    kernel = RNG.normal(size=(3, 3))
    for size in (9, 10):
        x = RNG.normal(size=(size, size))
        full = np.asarray(conv2d(x, kernel, padding="valid"))
        np.testing.assert_allclose(conv2d(x, kernel, strides=2, padding="valid"), full[::2, ::2],
                                   atol=1e-5)
    x = RNG.normal(size=(8, 8))  # Keras "same", even size: the padding moves, offset 1
    same = np.asarray(conv2d(x, kernel, padding="same"))
    np.testing.assert_allclose(conv2d(x, kernel, strides=2, padding="same"), same[1::2, 1::2],
                               atol=1e-5)
    np.testing.assert_allclose(subsample(same), same[::2, ::2])


def test_one_by_one_convolution_is_a_dense_layer_at_every_position():
    x = RNG.normal(size=(2, 5, 4, 3)).astype("float32")
    conv = keras.layers.Conv2D(6, 1)
    conv.build(x.shape)
    weights, bias = conv.get_weights()
    dense = keras.layers.Dense(6)
    dense.build((None, 3))
    dense.set_weights([weights[0, 0], bias])
    np.testing.assert_allclose(conv(x), structure.pointwise_dense(x, weights[0, 0], bias),
                               atol=1e-5)
    np.testing.assert_allclose(conv(x), dense(x.reshape(-1, 3)).numpy().reshape(2, 5, 4, 6),
                               atol=1e-5)


def test_dilation_widens_the_receptive_field_with_the_same_weights():
    kernel = RNG.normal(size=(3, 3))
    x = RNG.normal(size=(11, 11))
    dilated = conv2d(x, kernel, dilation_rate=2)
    np.testing.assert_allclose(dilated, conv2d(x, structure.dilate_kernel(kernel, 2)), atol=1e-5)
    widths = []
    for rate in (1, 2, 3):
        model = keras.Sequential([keras.Input((11, 11, 1)),
                                  keras.layers.Conv2D(1, 3, dilation_rate=rate)])
        (top, bottom), _ = support_extent(gradient_support(model))
        widths.append((bottom - top + 1, model.count_params()))
    assert widths == [(3, 10), (5, 10), (7, 10)]


def test_convolution_is_translation_equivariant():
    x = RNG.normal(size=(16, 16, 2))
    layer = keras.layers.Conv2D(3, 3, padding="same")

    def operation(image):
        return np.asarray(layer(image[None].astype("float32")))[0]

    for shift in ((1, 0), (2, -3)):
        assert structure.equivariance_error(operation, x, shift, margin=5) < 1e-5
    # a dense layer on the flattened image is not
    dense = keras.layers.Dense(16 * 16 * 3)

    def dense_operation(image):
        return np.asarray(dense(image.reshape(1, -1).astype("float32"))).reshape(16, 16, 3)

    assert structure.equivariance_error(dense_operation, x, (1, 0), margin=5) > 0.1
    # invariance, f(t(x)) = f(x): a global max over the equivariant map, for content that stays
    # clear of the borders
    blob = np.zeros((16, 16, 2))
    blob[5:9, 4:7] = RNG.normal(size=(4, 3, 2))
    head = keras.Sequential([keras.layers.Conv2D(3, 3, padding="same", use_bias=False),
                             keras.layers.GlobalMaxPooling2D()])
    before = head(blob[None].astype("float32"))
    after = head(structure.translate(blob, (3, 4))[None].astype("float32"))
    np.testing.assert_allclose(before, after, atol=1e-6)


def test_max_pooling_is_partially_invariant():
    feature = RNG.random((32, 32))
    pool = keras.layers.MaxPooling2D(2)
    table = structure.max_pool_invariance(feature, shifts=range(3))
    assert table.loc[0, "unchanged_pooled"] == 1.0
    assert table.loc[1, "unchanged_map"] == 0.0  # a generic map changes everywhere ...
    assert 0.15 < table.loc[1, "unchanged_pooled"] < 0.6  # ... its max-pooling in part only
    moved = structure.translate(feature, (0, 2))  # a shift by the stride moves the pooled map
    pooled = np.asarray(pool(moved[None, ..., None]))[0, ..., 0]
    np.testing.assert_allclose(pooled[:, 1:], max_pool(feature)[:, :-1])
    np.testing.assert_allclose(max_pool(moved), pooled)
