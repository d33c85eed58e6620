"""Batch, layer and instance normalisation against Keras' layers, train and inference."""

import keras
import numpy as np
import pytest

from keras_cnn_course.lecture import normalization as norm

X = np.random.default_rng(5).normal(2.0, 3.0, size=(4, 5, 6, 3)).astype("float32")


@pytest.mark.parametrize("kind, layer", [
    ("batch", lambda: keras.layers.BatchNormalization()),
    ("layer", lambda: keras.layers.LayerNormalization(axis=(1, 2, 3), epsilon=1e-3)),
    ("layer", lambda: keras.layers.GroupNormalization(groups=1, epsilon=1e-3)),
    ("instance", lambda: keras.layers.GroupNormalization(groups=3, epsilon=1e-3)),
])
def test_axes_match_keras_layers(kind, layer):
    np.testing.assert_allclose(norm.normalize(X, kind), layer()(X, training=True), atol=1e-4)


def test_keras_default_layer_normalization_is_per_position():
    keras_default = keras.layers.LayerNormalization(epsilon=1e-3)(X)  # axis=-1: channels only
    assert not np.allclose(norm.normalize(X, "layer"), keras_default, atol=1e-2)


def test_batch_norm_train_vs_inference():
    layer = keras.layers.BatchNormalization(momentum=0.9)
    layer.build(X.shape)
    mean0, var0 = np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)
    train = layer(X, training=True)  # normalises with this batch's statistics ...
    np.testing.assert_allclose(train, norm.normalize(X, "batch"), atol=1e-4)
    expected = norm.update_moving_statistics(mean0, var0, X, momentum=0.9)  # ... and updates
    np.testing.assert_allclose(layer.moving_mean, expected[0], atol=1e-5)
    np.testing.assert_allclose(layer.moving_variance, expected[1], atol=1e-4)
    test = layer(X, training=False)  # at test time the running averages are used
    np.testing.assert_allclose(test, norm.batch_norm_inference(X, *expected), atol=1e-4)
    assert not np.allclose(test, train, atol=1e-2)
    np.testing.assert_allclose(layer(X[:1], training=False), test[:1], atol=1e-5)  # batch-free


def test_statistics_are_where_the_lecture_says():
    for kind, per in (("batch", (3,)), ("layer", (4,)), ("instance", (4, 3))):
        y = norm.normalize(X, kind)
        axes = norm.AXES[kind]
        np.testing.assert_allclose(y.mean(axis=axes), np.zeros(per), atol=1e-5)
        assert np.allclose(y.var(axis=axes), 1.0, atol=1e-2)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="kind"):
        norm.normalize(X, "group")
    with pytest.raises(ValueError, match="N, H, W, C"):
        norm.normalize(X[0], "batch")
