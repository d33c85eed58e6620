"""The lecture's upsampling layers (max unpooling with switches, bed of nails) and AlexNet's LRN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cnn_course.models.layers import (BedOfNails2D, LocalResponseNormalization,
                                            MaxPoolingWithArgmax2D, MaxUnpooling2D)

# The 4x4 example: max pooling 2x2 keeps 4, 5, 7, 8 and records where they were.
X = np.array([[1, 2, 0, 1],
              [3, 4, 5, 0],
              [0, 1, 2, 8],
              [7, 0, 1, 3]], dtype=np.float32)


def as_batch(image):
    return image[None, :, :, None]


def test_max_pooling_records_the_switches():
    pooled, switches = MaxPoolingWithArgmax2D(2)(as_batch(X))
    np.testing.assert_array_equal(pooled[0, :, :, 0], [[4, 5], [7, 8]])
    np.testing.assert_array_equal(switches[0, :, :, 0], [[5, 6], [12, 11]])  # row * 4 + column


def test_max_unpooling_puts_each_value_back_where_its_maximum_was():
    pooled, switches = MaxPoolingWithArgmax2D(2)(as_batch(X))
    unpooled = MaxUnpooling2D(2)([pooled, switches])
    np.testing.assert_array_equal(unpooled[0, :, :, 0], [[0, 0, 0, 0],
                                                         [0, 4, 5, 0],
                                                         [0, 0, 0, 8],
                                                         [7, 0, 0, 0]])


def test_bed_of_nails_puts_each_value_in_the_top_left_of_its_block():
    out = BedOfNails2D(2)(as_batch(np.array([[4, 5], [7, 8]], dtype=np.float32)))
    np.testing.assert_array_equal(out[0, :, :, 0], [[4, 0, 5, 0],
                                                    [0, 0, 0, 0],
                                                    [7, 0, 8, 0],
                                                    [0, 0, 0, 0]])


def test_unpooling_matches_the_gradient_of_max_pooling_across_batch_and_channels():
    # Oracle: d(sum of max_pool2d)/dx is 1 exactly at each window's maximum.
    x = tf.constant(np.random.default_rng(0).random((3, 6, 8, 4), dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.nn.max_pool2d(x, 2, 2, "VALID"))
    indicator = tape.gradient(total, x)
    pooled, switches = MaxPoolingWithArgmax2D(2)(x)
    np.testing.assert_array_equal(MaxUnpooling2D(2)([tf.ones_like(pooled), switches]), indicator)
    np.testing.assert_array_equal(MaxUnpooling2D(2)([pooled, switches]), x * indicator)


def test_bed_of_nails_matches_strided_assignment_and_sizes():
    x = np.random.default_rng(1).random((2, 3, 5, 2), dtype=np.float32)
    expected = np.zeros((2, 9, 10, 2), np.float32)
    expected[:, ::3, ::2] = x
    np.testing.assert_array_equal(BedOfNails2D((3, 2))(x), expected)


def test_layers_in_a_model_train_save_and_load(tmp_path):
    inputs = keras.Input((None, None, 2))
    pooled, switches = MaxPoolingWithArgmax2D(2, name="pool")(inputs)
    x = keras.layers.Conv2D(2, 1, name="mix")(pooled)
    x = keras.layers.Add(name="add")([MaxUnpooling2D(2, name="unpool")([x, switches]),
                                      BedOfNails2D(2, name="nails")(x)])
    model = keras.Model(inputs, LocalResponseNormalization(depth=1, name="lrn")(x))
    assert model.output_shape == (None, None, None, 2)
    data = np.random.default_rng(2).random((4, 8, 6, 2), dtype=np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(data))
    assert np.any(tape.gradient(loss, model.get_layer("mix").kernel))  # gradients pass through
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded(data), model(data), rtol=1e-6)


def test_local_response_normalization_is_the_papers_formula():
    a = np.random.default_rng(3).random((1, 2, 2, 7), dtype=np.float32) * 10
    out = LocalResponseNormalization(depth=5, k=2.0, alpha=1e-4, beta=0.75)(a)
    squares = np.pad(a ** 2, [(0, 0)] * 3 + [(2, 2)])
    window = sum(squares[..., i:i + 7] for i in range(5))
    np.testing.assert_allclose(out, a / (2.0 + 1e-4 * window) ** 0.75, rtol=1e-5)


@pytest.mark.parametrize("make, argument", [
    (lambda: MaxPoolingWithArgmax2D(pool_size=0), "pool_size=0"),
    (lambda: MaxPoolingWithArgmax2D(padding="full"), "padding='full'"),
    (lambda: MaxUnpooling2D(size=(2, -1)), "size=(2, -1)"),
    (lambda: BedOfNails2D(size=0), "size=0"),
    (lambda: LocalResponseNormalization(depth=4), "depth=4"),
])
def test_bad_arguments(make, argument):
    with pytest.raises(ValueError, match=argument.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_unpooling_needs_matching_values_and_switches():
    pooled, switches = MaxPoolingWithArgmax2D(2)(keras.Input((4, 4, 3)))
    with pytest.raises(ValueError, match="same shape"):
        MaxUnpooling2D(2)([pooled[..., :2], switches])
