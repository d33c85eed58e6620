"""Down/up-sampling on lecture note 004's 4×4 grid against Keras layers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cnn_course.lecture import sampling
from keras_cnn_course.lecture.sampling import EXAMPLE_4X4


def keras_out(layer, x):
    return np.asarray(layer(np.asarray(x, "float32")[None, ..., None]))[0, ..., 0]


def test_downsampling_the_4x4_example():
    np.testing.assert_array_equal(sampling.subsample(EXAMPLE_4X4), [[1, 4], [9, 15]])
    np.testing.assert_array_equal(sampling.max_pool(EXAMPLE_4X4), [[7, 6], [13, 15]])
    np.testing.assert_array_equal(sampling.mean_pool(EXAMPLE_4X4), [[4, 3], [10.5, 12.5]])
    np.testing.assert_allclose(sampling.max_pool(EXAMPLE_4X4),
                               keras_out(keras.layers.MaxPooling2D(2), EXAMPLE_4X4))
    np.testing.assert_allclose(sampling.mean_pool(EXAMPLE_4X4),
                               keras_out(keras.layers.AveragePooling2D(2), EXAMPLE_4X4))
    # subsampling is a stride-2 1x1 convolution with weight 1
    np.testing.assert_allclose(sampling.subsample(EXAMPLE_4X4),
                               keras.ops.conv(EXAMPLE_4X4[None, ..., None].astype("float32"),
                                              np.ones((1, 1, 1, 1), "float32"), 2)[0, ..., 0])


def test_nearest_and_bilinear_upsampling():
    small = sampling.max_pool(EXAMPLE_4X4)
    for interpolation, ours in (("nearest", sampling.nearest_upsample(small)),
                                ("bilinear", sampling.bilinear_upsample(small))):
        expected = keras_out(keras.layers.UpSampling2D(2, interpolation=interpolation), small)
        np.testing.assert_allclose(ours, expected, atol=1e-5)
    x = np.random.default_rng(3).normal(size=(3, 5, 2))
    aligned = tf.compat.v1.image.resize_bilinear(x[None].astype("float32"), (6, 10),
                                                 align_corners=True)[0]
    np.testing.assert_allclose(sampling.bilinear_upsample(x, 2, align_corners=True), aligned,
                               atol=1e-5)


def test_bed_of_nails_is_a_transposed_convolution():
    small = sampling.max_pool(EXAMPLE_4X4)
    nails = sampling.bed_of_nails(small)
    np.testing.assert_array_equal(nails, [[7, 0, 6, 0], [0, 0, 0, 0], [13, 0, 15, 0], [0, 0, 0, 0]])
    layer = keras.layers.Conv2DTranspose(1, 2, strides=2, use_bias=False)
    layer.build((None, 2, 2, 1))
    layer.set_weights([np.array([[1, 0], [0, 0]], "float32")[..., None, None]])
    np.testing.assert_allclose(nails, keras_out(layer, small))


def test_max_unpooling_puts_values_back_at_the_switches():
    pooled, switches = sampling.max_pool_with_switches(EXAMPLE_4X4)
    unpooled = sampling.max_unpool(pooled, switches)
    spread = sampling.nearest_upsample(pooled)
    np.testing.assert_array_equal(unpooled, np.where(EXAMPLE_4X4 == spread, EXAMPLE_4X4, 0))
    assert switches.sum() == 4
    # same as the switches TensorFlow records (flat arg-max indices)
    _, argmax = tf.nn.max_pool_with_argmax(EXAMPLE_4X4[None, ..., None].astype("float32"), 2, 2,
                                           "VALID")
    np.testing.assert_array_equal(np.flatnonzero(switches), np.sort(argmax.numpy().ravel()))


def test_package_layers_agree():
    """keras_cnn_course.models.layers' Keras layers do what these functions do."""
    layers = pytest.importorskip("keras_cnn_course.models.layers")
    x = np.random.default_rng(4).normal(size=(6, 8, 3))
    pooled, switches = layers.MaxPoolingWithArgmax2D(2)(x[None].astype("float32"))
    ours_pooled, ours_switches = sampling.max_pool_with_switches(x)
    np.testing.assert_allclose(pooled[0], ours_pooled, atol=1e-6)
    np.testing.assert_allclose(layers.MaxUnpooling2D(2)([pooled, switches])[0],
                               sampling.max_unpool(ours_pooled, ours_switches), atol=1e-6)
    np.testing.assert_allclose(layers.BedOfNails2D(2)(ours_pooled[None].astype("float32"))[0],
                               sampling.bed_of_nails(ours_pooled), atol=1e-6)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="divisible by 2"):
        sampling.max_pool(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="factor"):
        sampling.mean_pool(EXAMPLE_4X4, 0)
    with pytest.raises(ValueError, match="switches"):
        sampling.max_unpool(np.zeros((2, 2)), np.zeros((6, 6), bool))
