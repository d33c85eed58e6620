"""Copies inside one compiled step train exactly as separate runs (training/multi_seed.py)."""

import numpy as np
import pytest

from keras_cnn_course import data
from keras_cnn_course.models import get_model
from keras_cnn_course.training import Recipe
from keras_cnn_course.training.multi_seed import (Copy, build_copy, copies_dataset, data_order,
                                                  train_copies, vectorise)


pytestmark = pytest.mark.usefixtures("restore_op_determinism")


@pytest.fixture(scope="module")
def mnist1d():
    arrays = data.load_mnist1d()
    return (arrays["x"].astype("float32"), arrays["y"]), (arrays["x_test"].astype("float32"),
                                                         arrays["y_test"])


def cnn():
    return get_model("mnist1d_cnn", classifier_activation=None)


def fc():
    return get_model("mnist1d_fc", classifier_activation=None)


def separate_run(build, seed, train, recipe, steps):
    """An ordinary Keras run: one model, its own seed, batches in data_order(seed)."""
    import keras
    import tensorflow as tf

    x, y = train
    order = data_order(len(y), recipe.batch_size, seed, recipe.shuffle)
    batches = order.map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx)))
    model = build_copy(build, seed)
    model.compile(recipe.build_optimizer(steps), keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), jit_compile=False)
    model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    return model


@pytest.mark.parametrize("optimizer, steps", [("sgd", 60), ("adam", 30)])
def test_each_copy_trains_exactly_as_a_separate_run(mnist1d, optimizer, steps):
    """Adam is checked over fewer steps: it amplifies float rounding (two ordinary runs of the FC
    net that differ only in XLA on/off differ by 0.18 in a weight after 120 steps)."""
    train, test = mnist1d
    reversed_signals = (train[0][:, ::-1].copy(), train[1])  # a copy with its own data set
    recipe = Recipe(optimizer=optimizer, learning_rate=0.01, batch_size=100, epochs=2,
                    steps_per_epoch=steps // 2, jit_compile=True, steps_per_execution=5,
                    deterministic=False)
    copies = [Copy("cnn", cnn, 3, train, test), Copy("fc", fc, 4, reversed_signals, test)]
    result = train_copies(copies, recipe)
    assert result.steps == steps and list(result.curves["step"].unique()) == [0, steps // 2, steps]
    for k, (copy, trained) in enumerate(zip(copies, result.models)):
        alone = separate_run(copy.build, copy.seed, copy.train, recipe, steps)
        for mine, theirs in zip(trained.get_weights(), alone.get_weights()):
            np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=2e-5)
        x_test, y_test = copy.test
        error = 100 * (alone.predict(x_test, verbose=0).argmax(-1) != y_test).mean()
        assert abs(result.final.loc[k, "test_error"] - error) <= 0.2  # 2 borderline examples


def test_copies_start_from_the_weights_of_a_separately_built_model():
    built = [build_copy(cnn, seed) for seed in (0, 1)]
    assert not np.allclose(built[0].get_weights()[0], built[1].get_weights()[0])
    stacked, _ = vectorise([build_copy(cnn, seed) for seed in (0, 1)] + [build_copy(fc, 2)])
    x = np.random.default_rng(0).normal(size=(7, 3, 40)).astype("float32")
    logits = stacked.predict_on_batch(x)
    for k, model in enumerate(built + [build_copy(fc, 2)]):
        np.testing.assert_allclose(logits[:, k], model.predict_on_batch(x[:, k]), rtol=1e-5, atol=1e-6)


def test_data_order_is_a_pure_function_of_the_seed():
    first = [b.numpy() for b in data_order(10, 4, seed=7).take(6)]
    again = [b.numpy() for b in data_order(10, 4, seed=7).take(6)]
    other = [b.numpy() for b in data_order(10, 4, seed=8).take(3)]
    assert [len(b) for b in first] == [4, 4, 2, 4, 4, 2]  # a partial batch ends each pass
    assert all((a == b).all() for a, b in zip(first, again))
    assert sorted(np.concatenate(first[:3])) == list(range(10))  # each pass is a permutation
    assert not all((a == b).all() for a, b in zip(first, other))
    in_order = [b.numpy().tolist() for b in data_order(5, 2, seed=7, shuffle=False).take(4)]
    assert in_order == [[0, 1], [2, 3], [4], [0, 1]]


def test_copies_dataset_gives_each_copy_its_own_examples_in_its_own_order():
    x = np.arange(12, dtype="float32").reshape(6, 2)
    copies = [Copy("a", None, 1, (x, np.arange(6)), None), Copy("b", None, 2, (-x, np.arange(6)), None)]
    xs, ys = next(iter(copies_dataset(copies, batch_size=3)))
    assert xs.shape == (3, 2, 2) and ys.shape == (3, 2)
    for k, copy in enumerate(copies):
        expected = next(iter(data_order(6, 3, copy.seed))).numpy()
        np.testing.assert_array_equal(ys[:, k], expected)
        np.testing.assert_array_equal(xs[:, k], copy.train[0][expected])


def test_bad_input_is_refused_with_a_clear_error(mnist1d):
    train, test = mnist1d
    with pytest.raises(ValueError, match="classifier_activation=None"):
        vectorise([get_model("mnist1d_cnn")])
    with pytest.raises(ValueError, match="optimizer 'adamw'"):
        train_copies([Copy("cnn", cnn, 0, train, test)], Recipe(optimizer="adamw", steps_per_epoch=1))
    with pytest.raises(ValueError, match="steps_per_epoch"):
        train_copies([Copy("cnn", cnn, 0, train, test)], Recipe())
    with pytest.raises(ValueError, match="same number of training examples"):
        copies_dataset([Copy("a", cnn, 0, train, test),
                        Copy("b", cnn, 0, (train[0][:10], train[1][:10]), test)], 5)


def test_networks_that_are_not_a_plain_chain_are_refused():
    import keras

    def residual():  # mnist1d's own MLPBase has this shape: h + relu(W2 h)
        inputs = keras.Input((40,))
        hidden = keras.layers.Dense(8, activation="relu")(inputs)
        hidden = keras.layers.Add()([hidden, keras.layers.Dense(8, activation="relu")(hidden)])
        return keras.Model(inputs, keras.layers.Dense(10)(hidden))

    def shared():  # one layer applied twice: only the probe can tell
        inputs = keras.Input((40,))
        twice = keras.layers.Dense(40, activation="relu")
        return keras.Model(inputs, keras.layers.Dense(10)(twice(twice(inputs))))

    with pytest.raises(ValueError, match="'add'.*no vectorised form"):
        vectorise([build_copy(residual, 0)])
    with pytest.raises(ValueError, match="does not reproduce copy 0"):
        vectorise([build_copy(shared, 0)])
