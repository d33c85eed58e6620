"""ByteDropout is Keras' Dropout in distribution: the keep rate, the scaling, inference, fallbacks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cnn_course.models import get_model
from keras_cnn_course.models.byte_dropout import ByteDropout


def kept(layer, shape=(1000, 1000), dtype="float32"):
    """The layer's output on ones in training, and which units it kept."""
    outputs = np.asarray(layer(tf.ones(shape, dtype), training=True)).astype("float32")
    return outputs, outputs != 0


@pytest.mark.parametrize("rate", [0.5, 0.25, 0.75])
def test_keeps_one_minus_rate_of_the_units_and_scales_them(rate):
    outputs, keep = kept(ByteDropout(rate, seed=1))
    sigma = np.sqrt(rate * (1 - rate) / keep.size)
    assert abs(keep.mean() - (1 - rate)) < 5 * sigma
    np.testing.assert_allclose(outputs[keep], 1 / (1 - rate))
    # each byte of a random word decides one unit: all four byte positions are unbiased
    for lane in range(4):
        assert abs(keep.reshape(-1, 4)[:, lane].mean() - (1 - rate)) < 5 * 2 * sigma
    # neighbouring units (bytes of one word) are independent
    pairs = keep.reshape(-1, 2)
    both = (pairs[:, 0] & pairs[:, 1]).mean()
    assert abs(both - (1 - rate) ** 2) < 5 * np.sqrt((1 - rate) ** 2 / pairs.shape[0])


def test_masks_change_every_call_and_repeat_with_the_seed():
    first, second = ByteDropout(0.5, seed=3), ByteDropout(0.5, seed=3)
    a, b = kept(first)[1], kept(first)[1]
    assert 0.45 < (a == b).mean() < 0.55  # a new mask each step
    np.testing.assert_array_equal(kept(second)[1], a)  # the same seed, the same masks


def test_identity_at_inference_and_dtype_kept():
    x = tf.random.normal((4, 10))
    np.testing.assert_array_equal(ByteDropout(0.5)(x, training=False), x)
    mixed = ByteDropout(0.5, seed=0, dtype="mixed_bfloat16")
    assert mixed(tf.ones((2, 8)), training=True).dtype == tf.bfloat16
    outputs, keep = kept(mixed, shape=(64, 100))
    np.testing.assert_array_equal(outputs[keep], 2.0)


def test_odd_sizes_use_the_spare_bytes_correctly():
    layer = ByteDropout(0.5, seed=0)
    outputs, keep = kept(layer, shape=(3, 5, 7))
    assert outputs.shape == (3, 5, 7) and 0 < keep.sum() < keep.size
    model_input = keras.Input((7,))
    model = keras.Model(model_input, ByteDropout(0.5, seed=0)(model_input))
    assert model(np.ones((5, 7), "float32"), training=True).shape == (5, 7)


@pytest.mark.parametrize("options", [{"rate": 0.3}, {"rate": 0.5, "noise_shape": (None, 1)}])
def test_rates_a_byte_cannot_express_fall_back_to_keras(options):
    layer = ByteDropout(**options, seed=5)
    assert layer.byte_threshold() is None
    expected = keras.layers.Dropout(**options, seed=5)
    x = tf.ones((200, 50))
    np.testing.assert_array_equal(layer(x, training=True), expected(x, training=True))


def test_gradient_is_the_mask_times_the_scale():
    layer = ByteDropout(0.5, seed=2)
    x = tf.Variable(tf.random.normal((32, 40)))
    with tf.GradientTape() as tape:
        y = layer(x, training=True)
        total = tf.reduce_sum(y)
    gradient = tape.gradient(total, x).numpy()
    np.testing.assert_array_equal(gradient, np.where(y.numpy() != 0, 2.0, 0.0))


def test_nielsen_final_net_uses_it_and_round_trips(tmp_path):
    model = get_model("nielsen_double_fc_dropout")
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [type(layer) for layer in dropouts] == [ByteDropout] * 3
    assert [layer.byte_threshold() for layer in dropouts] == [128] * 3
    path = tmp_path / "final.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer) for layer in loaded.layers if "dropout" in layer.name] == [ByteDropout] * 3
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype="float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
