"""The fused Adam update equals Keras' Adam to float rounding, with every Keras feature around it."""

import keras
import numpy as np
import pytest

from keras_cnn_course.training import Recipe
from keras_cnn_course.training.fused_adam import FusedAdam, FusedAdamW


def train(optimizer, epochs=2):
    """100 steps of a small regression: returns the initial and the trained weights."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3200, 20)).astype("float32")
    y = (x @ rng.normal(size=(20, 3))).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(3)])
    initial = model.get_weights()
    model.compile(optimizer, "mse")
    model.fit(x, y, batch_size=64, epochs=epochs, shuffle=False, verbose=0)
    return initial, model.get_weights()


@pytest.mark.parametrize("fused, keras_optimizer, options", [
    (FusedAdam, keras.optimizers.Adam, {}),
    (FusedAdam, keras.optimizers.Adam, {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}),
    (FusedAdam, keras.optimizers.Adam, {"use_ema": True, "clipnorm": 1.0}),
    (FusedAdamW, keras.optimizers.AdamW, {"weight_decay": 0.05}),
])
def test_fused_adam_trains_like_keras_adam(fused, keras_optimizer, options):
    schedule = keras.optimizers.schedules.CosineDecay(0.01, decay_steps=100)
    initial, expected = train(keras_optimizer(schedule, **options))
    _, weights = train(fused(schedule, **options))
    moved = max(float(np.abs(w - w0).max()) for w, w0 in zip(expected, initial))
    assert moved > 0.05  # 100 steps moved the weights far beyond the tolerance below
    for mine, theirs in zip(weights, expected, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_amsgrad_falls_back_to_keras_update():
    _, expected = train(keras.optimizers.Adam(0.01, amsgrad=True), epochs=1)
    _, weights = train(FusedAdam(0.01, amsgrad=True), epochs=1)
    for mine, theirs in zip(weights, expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_recipes_build_the_fused_optimizers_and_they_serialize():
    adam = Recipe(optimizer="adam", learning_rate=1e-3).build_optimizer(steps_per_epoch=10)
    adamw = Recipe(optimizer="adamw", weight_decay=0.01).build_optimizer(steps_per_epoch=10)
    assert type(adam) is FusedAdam and type(adamw) is FusedAdamW
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(adamw))
    assert type(restored) is FusedAdamW and restored.weight_decay == pytest.approx(0.01)
