"""The training engine: strategies, recipe, determinism, the selection rule, resume."""

import dataclasses
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keras_cnn_course.training import Recipe, best_index, select_epoch, selected_metrics


pytestmark = pytest.mark.usefixtures("restore_op_determinism")


def tiny_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64")


def tiny_model():
    import keras

    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu", name="fc1")(inputs)
    hidden = keras.layers.Dropout(0.25, name="dropout")(hidden)
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(hidden)
    return keras.Model(inputs, outputs)


# --- the selection rule (pure) -----------------------------------------------------------------

def test_selection_takes_best_validation_epoch_and_ties_go_to_the_later_epoch():
    history = {"epoch": [1, 2, 3, 4, 5], "val_accuracy": [0.90, 0.95, 0.93, 0.95, 0.94],
               "test_accuracy": [0.89, 0.94, 0.96, 0.93, 0.97]}
    assert select_epoch(history) == 3
    figures = selected_metrics(history)
    assert figures["epoch"] == 4 and figures["test_accuracy"] == 0.93


def test_selection_ignores_nan_supports_min_and_explains_a_missing_monitor():
    assert best_index([float("nan"), 0.5, 0.7, float("nan")]) == 2
    assert best_index([0.3, 0.2, 0.2, 0.4], mode="min") == 2
    with pytest.raises(ValueError, match="val_accuracy"):
        select_epoch({"accuracy": [0.5]})
    with pytest.raises(ValueError, match="no value"):
        best_index([float("nan")])


# --- recipe -------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, name", [
    ({"optimizer": "sgdd"}, "optimizer"), ({"momentum": 0.9, "optimizer": "adam"}, "momentum"),
    ({"batch_size": 0}, "batch_size"), ({"mixed_precision": "fp8"}, "mixed_precision"),
    ({"schedule": "step"}, "schedule"), ({"seed": -1}, "seed"), ({"dropout": 1.5}, "dropout"),
    ({"steps_per_epoch": 15, "steps_per_execution": 10}, "multiple of steps_per_execution"),
])
def test_recipe_rejects_bad_values_naming_the_field(change, name):
    with pytest.raises(ValueError, match=name):
        Recipe(**change)


def test_recipe_scales_the_rate_linearly_and_decays_over_all_steps():
    recipe = Recipe(learning_rate=0.05, epochs=3, schedule="cosine", momentum=0.9, nesterov=True)
    schedule = recipe.learning_rate_schedule(steps_per_epoch=10, replicas=2)
    assert float(schedule(0)) == pytest.approx(0.1)  # 0.05 x 2 replicas
    assert float(schedule(15)) == pytest.approx(0.05)  # half way down the cosine
    assert float(schedule(30)) == pytest.approx(0.0, abs=1e-7)  # 3 epochs x 10 steps
    optimizer = recipe.build_optimizer(steps_per_epoch=10, replicas=2)
    assert optimizer.momentum == 0.9 and optimizer.nesterov
    assert Recipe(learning_rate=0.05, lr_scaling="none").learning_rate_schedule(10, 4) == 0.05


def test_auto_precision_is_bfloat16_only_where_the_cpu_computes_it(tmp_path):
    from keras_cnn_course.training.recipe import native_bfloat16

    def cpuinfo(flags):
        path = tmp_path / f"cpuinfo_{len(flags)}"
        path.write_text(f"processor\t: 0\nflags\t\t: fpu sse2 {flags}\n")
        return str(path)

    assert native_bfloat16(cpuinfo("avx2 fma amx_bf16 amx_tile"))  # Sapphire Rapids
    assert native_bfloat16(cpuinfo("avx2 avx512f avx512_bf16"))  # Zen 4, Cooper Lake
    assert not native_bfloat16(cpuinfo("avx2 fma avx512f avx512bw"))  # emulated: 0.37x float32
    assert not native_bfloat16(str(tmp_path / "missing"))  # no /proc/cpuinfo: stay in float32
    expected = "mixed_bfloat16" if native_bfloat16() else "float32"
    assert Recipe(mixed_precision="auto").dtype_policy == expected
    assert Recipe(mixed_precision="bfloat16").dtype_policy == "mixed_bfloat16"
    assert Recipe().dtype_policy == "float32"


# --- fit ----------------------------------------------------------------------------------------

def test_same_seed_gives_identical_history_and_another_seed_does_not(tmp_path):
    from keras_cnn_course.training import fit

    x, y = tiny_data()
    recipe = Recipe(learning_rate=0.2, batch_size=16, epochs=2, seed=7, l2=1e-3)
    runs = [fit(tiny_model, recipe, (x, y), (x[:32], y[:32]), (x[32:64], y[32:64]), verbose=0)
            for _ in range(2)]
    assert runs[0].history == runs[1].history
    assert set(runs[0].history) >= {"loss", "accuracy", "val_accuracy", "test_accuracy"}
    assert runs[0].model.losses  # Recipe.l2 reached the kernels
    other = fit(tiny_model, Recipe(learning_rate=0.2, batch_size=16, epochs=2, seed=8, l2=1e-3),
                (x, y), verbose=0)
    assert other.history["loss"] != runs[0].history["loss"]
    result = runs[0]
    assert result.selected_epoch == select_epoch(result.history) + 1
    assert result.images_per_second > 0 and result.wall_seconds > 0
    assert result.steps == 2 * math.ceil(96 / 16) and result.global_batch_size == 16
    assert result.precision == "float32"
    assert fit(tiny_model, dataclasses.replace(recipe, epochs=1, mixed_precision="bfloat16"),
               (x, y), verbose=0).precision == "mixed_bfloat16"


def test_steps_per_execution_changes_the_speed_not_the_arithmetic():
    from keras_cnn_course.training import fit

    x, y = tiny_data()  # 6 batches an epoch: the last execution of 4 steps runs only 2
    recipe = Recipe(optimizer="adam", learning_rate=0.01, schedule="cosine", batch_size=16,
                    epochs=3, seed=7, ema=True)
    histories = [fit(tiny_model, dataclasses.replace(recipe, steps_per_execution=steps), (x, y),
                     (x[:32], y[:32]), verbose=0).history for steps in (1, 4)]
    assert histories[0] == histories[1]


def test_a_killed_fit_resumes_from_its_last_finished_epoch(tmp_path):
    import keras

    from keras_cnn_course.training import fit, read_history

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt("killed")

    class Epochs(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_epoch_begin(self, epoch, logs=None):
            self.seen.append(epoch)

    x, y = tiny_data()
    recipe = Recipe(learning_rate=0.2, batch_size=16, epochs=4, seed=1)
    with pytest.raises(KeyboardInterrupt):
        fit(tiny_model, recipe, (x, y), (x[:32], y[:32]), log_dir=tmp_path, callbacks=[Crash()],
            verbose=0)
    assert (tmp_path / "backup").exists()
    first_two = read_history(tmp_path / "history.csv")
    epochs = Epochs()
    result = fit(tiny_model, recipe, (x, y), (x[:32], y[:32]), log_dir=tmp_path,
                 callbacks=[epochs], verbose=0)
    assert epochs.seen == [2, 3]  # only the unfinished epochs ran again
    assert result.history["epoch"] == [1, 2, 3, 4]
    assert result.history["loss"][:2] == first_two["loss"]
    assert not (tmp_path / "backup").exists()  # a finished run leaves no backup behind


def test_bad_inputs_give_clear_errors():
    import tensorflow as tf

    from keras_cnn_course.training import choose_strategy, configure_cpu_replicas, fit

    x, y = tiny_data()
    with pytest.raises(ValueError, match="train"):
        fit(tiny_model, Recipe(), (x, y[:10]), verbose=0)
    with pytest.raises(ValueError, match="replicas"):
        choose_strategy(replicas=0)
    cluster = json.dumps({"cluster": {"worker": ["localhost:1", "localhost:2"]},
                          "task": {"type": "worker", "index": 0}})
    with pytest.raises(ValueError, match="TF_CONFIG"):
        choose_strategy(replicas=2, tf_config=cluster)
    tf.constant(1.0)  # TensorFlow is initialised from here on
    with pytest.raises(RuntimeError, match="already initialised"):
        configure_cpu_replicas(16)


# --- several replicas (a fresh process: logical devices must exist before TF initialises) -------

REPLICA_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, tensorflow as tf
    sys.path.insert(0, TESTS)
    from test_training import tiny_data, tiny_model
    from keras_cnn_course.training import CustomLoop, Recipe, choose_strategy, fit

    custom_loop_runs = []
    original_fit = CustomLoop.fit
    def counted_fit(self, *args, **kwargs):
        custom_loop_runs.append(1)
        return original_fit(self, *args, **kwargs)
    CustomLoop.fit = counted_fit
    mirrored = choose_strategy(replicas=2)
    x, y = tiny_data(64)
    def run(strategy, batch, rate, precision=None, **kw):
        recipe = Recipe(learning_rate=rate, batch_size=batch, epochs=2, steps_per_epoch=4,
                        shuffle=False, dropout=False, steps_per_execution=2,
                        mixed_precision=precision)
        result = fit(tiny_model, recipe, (x, y), verbose=0, strategy=strategy, **kw)
        return {"loss": result.history["loss"], "replicas": result.replicas,
                "batch": result.global_batch_size, "steps": result.steps,
                "precision": result.precision,
                "weights": [w.tolist() for w in result.model.get_weights()]}
    multi_worker = tf.distribute.MultiWorkerMirroredStrategy()
    out = {"one": run(tf.distribute.get_strategy(), 8, 0.1),
           "one_custom_loop": run(tf.distribute.get_strategy(), 8, 0.1, custom_loop=True),
           "mirrored": run(mirrored, 4, 0.05),
           "multi_worker": run(multi_worker, 8, 0.1),
           "custom_loop_runs": len(custom_loop_runs),
           "bfloat16": {"one": run(tf.distribute.get_strategy(), 8, 0.1, "bfloat16"),
                        "mirrored": run(mirrored, 4, 0.05, "bfloat16"),
                        "multi_worker": run(multi_worker, 8, 0.1, "bfloat16")}}
    print("RESULT" + json.dumps(out))
""")


def test_two_cpu_replicas_match_one_device_at_the_same_global_batch():
    script = REPLICA_SCRIPT.replace("TESTS", repr(os.path.dirname(__file__)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=240, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.split("RESULT", 1)[1])
    assert out.pop("custom_loop_runs") == 3  # asked for once; chosen by itself for the others
    bfloat16 = out.pop("bfloat16")  # mixed precision: the same path, to bfloat16's precision
    for name, other in bfloat16.items():
        assert other["precision"] == "mixed_bfloat16", name
        np.testing.assert_allclose(other["loss"], bfloat16["one"]["loss"], rtol=2e-2, err_msg=name)
        np.testing.assert_allclose(other["loss"], out["one"]["loss"], rtol=5e-2, err_msg=name)
    one = out.pop("one")
    assert (one["replicas"], one["batch"], one["steps"]) == (1, 8, 8)
    assert all(other["steps"] == 8 for other in out.values())
    assert (out["mirrored"]["replicas"], out["mirrored"]["batch"]) == (2, 8)
    for name, other in out.items():  # 2 x 4 at rate 0.05 (linear rule: 0.1) == 1 x 8 at 0.1
        np.testing.assert_allclose(other["loss"], one["loss"], rtol=1e-5, err_msg=name)
        for mine, theirs in zip(other["weights"], one["weights"]):
            np.testing.assert_allclose(mine, theirs, atol=1e-5, err_msg=name)


def test_side_by_side_workers_run_one_thread_each_and_yield_every_result():
    import tensorflow as tf

    from keras_cnn_course.training.side_by_side import side_by_side

    threads = list(side_by_side(tf.config.threading.get_intra_op_parallelism_threads,
                                [(), (), ()], workers=2))
    assert threads == [1, 1, 1]
    assert sorted(side_by_side(pow, [(2, 3), (3, 2)], workers=1)) == [8, 9]
    with pytest.raises(ValueError, match="workers must be at least 1"):
        list(side_by_side(pow, [(2, 3)], workers=0))


def test_a_training_pipeline_given_as_a_function_is_built_seeded_whatever_ran_before():
    import keras
    import tensorflow as tf

    from keras_cnn_course.training import Recipe, fit

    x, y = tiny_data(64)
    drawn, logs = [], []

    def pipeline(batch):  # what a study passes: its shuffled, augmented data at the global batch
        drawn.append(float(tf.random.uniform(())))
        return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64, seed=1).batch(batch)

    class FirstLabels(keras.callbacks.Callback):
        log_dir = None  # `fit` fills it in: the run's own log directory

        def on_train_begin(self, logs_=None):
            logs.append(self.log_dir)

    recipe = Recipe(learning_rate=0.1, batch_size=16, epochs=1, seed=4)
    results = []
    for earlier_seed in (5, 7):  # a previous run in the same process left its global seed
        keras.utils.set_random_seed(earlier_seed)
        results.append(fit(tiny_model, recipe, pipeline, verbose=0, callbacks=[FirstLabels()]))
    assert drawn[0] == drawn[1]
    assert results[0].history["loss"] == results[1].history["loss"]
    assert results[0].global_batch_size == 16 and results[0].steps == 4
    assert all(log_dir is not None and log_dir.name.startswith("kcc-fit-") for log_dir in logs)
    assert results[0].log_dir is None  # a temporary directory, gone after `fit`
