"""`fit`: train a network by a recipe, log every epoch, resume after a kill, apply the book's rule.

    result = fit(lambda: get_model("nielsen_shallow"), Recipe(learning_rate=0.1, batch_size=10),
                 train=splits.train, validation=splits.validation, test=splits.test,
                 log_dir="runs/shallow-seed0")
    result.selected["test_accuracy"]  # test accuracy at the best validation epoch (ties: later)

Each epoch's logs hold loss/accuracy, val_* and test_* figures (the test set is scored after every
epoch so the selection rule can be applied afterwards), and the seconds it took. They stream to
`log_dir/history.csv` (CSVLogger); `log_dir/backup/` (BackupAndRestore) lets a killed run resume
from its last finished epoch when `fit` is called again with the same `log_dir`.
"""

import contextlib
import dataclasses
import importlib.util
import tempfile
import time
from pathlib import Path

import keras
import pandas as pd
import tensorflow as tf

from keras_cnn_course.data.pipelines import gathered_batches
from keras_cnn_course.training import strategy as strategies
from keras_cnn_course.training.custom_loop import CustomLoop
from keras_cnn_course.training.determinism import seed_everything
from keras_cnn_course.training.selection import selected_metrics

TIMING = ("seconds", "train_seconds")


@dataclasses.dataclass
class FitResult:
    history: dict  # metric name -> per-epoch list; "epoch" is 1-based
    selected_epoch: int  # 1-based; best val_accuracy, ties to the later epoch (last epoch if none)
    selected: dict  # every figure at the selected epoch
    final: dict  # every figure at the last epoch
    wall_seconds: float  # sum of epoch times (training + evaluation), across resumes
    images_per_second: float  # training images / training seconds
    epoch_seconds: list
    steps: int  # optimizer steps over all epochs
    global_batch_size: int
    replicas: int
    model: keras.Model
    precision: str = "float32"  # the Keras dtype policy it trained under, e.g. "mixed_bfloat16"
    log_dir: Path | None = None  # the run's own logs and backups (None: a temporary directory)


def fit(build_model, recipe, train, validation=None, test=None, *, strategy=None, log_dir=None,
        callbacks=(), verbose="auto", tensorboard=False, custom_loop=None):
    """Build `build_model()` in the strategy's scope, train it by `recipe`, return a FitResult.

    `train`/`validation`/`test`: batched `tf.data.Dataset`s (their batch is the global batch) or
    `(x, y)` NumPy arrays (batched here at the recipe's global batch; training data reshuffled
    each epoch with the recipe's seed unless `recipe.shuffle` is False); `train` may also be a
    function of the global batch size that returns the training dataset, called once seeded.
    Callbacks with a `log_dir` attribute of None get the run's own log directory (a worker's
    own one under several workers), e.g. to keep per-epoch files there. `log_dir=None` keeps the
    logs in a temporary directory (no resume). `custom_loop=None` uses Keras' `model.fit` on one
    replica and the custom loop on several, where Keras 3's fit fails (see custom_loop.py).
    """
    _check_environment(recipe, tensorboard)
    seed_everything(recipe.seed, recipe.deterministic)
    strategy = strategy or strategies.choose_strategy()
    batch = strategies.global_batch_size(recipe.batch_size, strategy)
    if callable(train):
        train = train(batch)
        seed_everything(recipe.seed, recipe.deterministic)  # the model's weights: as if unbuilt
    train_ds, steps, images_per_epoch = training_pipeline(train, recipe, batch)
    validation, test = as_dataset(validation, batch, "validation"), as_dataset(test, batch, "test")
    if custom_loop is None:
        custom_loop = strategy.num_replicas_in_sync > 1 or strategies.is_multi_worker(strategy)
    verbose = 1 if verbose == "auto" else verbose
    with contextlib.ExitStack() as stack:
        temporary = log_dir is None
        if temporary:
            log_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="kcc-fit-"))
        log_dir = Path(log_dir)
        if not strategies.is_chief(strategy):  # other workers keep their own logs and backups
            log_dir = log_dir / strategies.worker_name(strategy)
        for callback in callbacks:
            if getattr(callback, "log_dir", False) is None:
                callback.log_dir = log_dir
        model, loss = _build_and_compile(build_model, recipe, strategy, steps or 1)
        loop = None
        if custom_loop:
            loop = CustomLoop(model, loss, strategy, jit_compile=recipe.jit_compile is True,
                              steps_per_execution=recipe.steps_per_execution)
        if test is None:
            extras = _EpochExtras(None)
        elif loop:
            extras = _EpochExtras(lambda: loop.evaluate(test))
        else:
            extras = _EpochExtras(lambda: model.evaluate(test, verbose=0, return_dict=True))
        # EMA weights first, so every evaluation (validation, test, callbacks) sees them.
        ema = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if recipe.ema else []
        all_callbacks = [*ema, *callbacks, extras, *_logging_callbacks(log_dir, tensorboard)]
        if loop:
            loop.fit(train_ds, epochs=recipe.epochs, steps_per_epoch=steps,
                     repeated=bool(recipe.steps_per_epoch), validation=validation,
                     callbacks=all_callbacks, verbose=verbose)
        else:
            model.fit(train_ds, validation_data=validation, epochs=recipe.epochs, shuffle=False,
                      steps_per_epoch=recipe.steps_per_epoch, callbacks=all_callbacks,
                      verbose=verbose)
        history = read_history(log_dir / "history.csv")
    if images_per_epoch is None:  # a dataset given as such: count what one epoch took
        steps, images_per_epoch = extras.steps, extras.steps * batch
    result = _result(history, model, steps, images_per_epoch, batch,
                     strategy.num_replicas_in_sync, recipe.dtype_policy)
    result.log_dir = None if temporary else log_dir
    return result


def _logging_callbacks(log_dir, tensorboard):
    """CSVLogger (appending when resuming), optional TensorBoard, BackupAndRestore: in log_dir."""
    history_csv, backup = log_dir / "history.csv", log_dir / "backup"
    if not backup.exists():
        history_csv.unlink(missing_ok=True)  # a fresh run, not a resume
    log_dir.mkdir(parents=True, exist_ok=True)
    logging = [keras.callbacks.CSVLogger(str(history_csv), append=True)]
    if tensorboard:
        logging.append(keras.callbacks.TensorBoard(str(log_dir / "tensorboard")))
    return logging + [keras.callbacks.BackupAndRestore(str(backup))]


def _result(history, model, steps_per_epoch, images_per_epoch, batch, replicas, precision):
    timing = {name: history.pop(name) for name in TIMING}
    epochs = len(history["epoch"])
    selected = (selected_metrics(history) if "val_accuracy" in history
                else {**{name: values[-1] for name, values in history.items()}, "epoch": epochs})
    return FitResult(
        history=history,
        selected_epoch=selected["epoch"],
        selected=selected,
        final={name: values[-1] for name, values in history.items()},
        wall_seconds=sum(timing["seconds"]),
        images_per_second=images_per_epoch * epochs / sum(timing["train_seconds"]),
        epoch_seconds=timing["seconds"],
        steps=steps_per_epoch * epochs,
        global_batch_size=batch,
        replicas=replicas,
        model=model,
        precision=precision,
    )


def _check_environment(recipe, tensorboard):
    if recipe.mixed_precision == "float16" and not tf.config.list_physical_devices("GPU"):
        raise ValueError("Recipe mixed_precision='float16' needs a GPU (emulated on a CPU, it runs "
                         "~30x slower); use 'bfloat16' on a CPU")
    if tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ValueError("tensorboard=True needs the tensorboard package: pip install tensorboard")


def _build_and_compile(build_model, recipe, strategy, steps_per_epoch):
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(recipe.dtype_policy)
    try:
        with strategy.scope():
            model = build_model()
            _apply_recipe_to_layers(model, recipe)
            optimizer = recipe.build_optimizer(steps_per_epoch, strategy.num_replicas_in_sync)
            if recipe.mixed_precision == "float16":
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            last_activation = getattr(model.layers[-1], "activation", None)
            from_logits = getattr(last_activation, "__name__", "") == "linear"
            classes = model.output_shape[-1]  # 1: a binary classifier (sigmoid or logit)
            loss = recipe.loss_function(classes, from_logits)
            accuracy = (keras.metrics.BinaryAccuracy("accuracy", threshold=0 if from_logits
                                                     else 0.5) if classes == 1 else
                        keras.metrics.SparseCategoricalAccuracy("accuracy"))
            model.compile(optimizer, loss, metrics=[accuracy], jit_compile=recipe.jit_compile,
                          steps_per_execution=recipe.steps_per_execution)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return model, loss


def _apply_recipe_to_layers(model, recipe):
    """Recipe.l2 on every kernel (not biases); Recipe.dropout on every Dropout layer."""
    if recipe.l2:
        for variable in model.trainable_variables:
            if variable.name.endswith("kernel"):
                if variable.regularizer is not None:
                    raise ValueError(f"{variable.path} already has a regularizer; set either the "
                                     "model's own L2 option or Recipe.l2, not both")
                variable.regularizer = keras.regularizers.L2(recipe.l2)
    if recipe.dropout is True:
        return
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.Dropout):
            rate = 0.0 if recipe.dropout is False else recipe.dropout
            if rate > 0 and layer.rate == 0:
                raise ValueError(f"Recipe.dropout={rate} but layer {layer.name!r} was built with "
                                 "rate 0; build the model with dropout enabled")
            layer.rate = rate


def _all_layers(layer):
    yield layer
    for sublayer in getattr(layer, "layers", ()):
        yield from _all_layers(sublayer)


class _EpochExtras(keras.callbacks.Callback):
    """Adds the test-set figures and the epoch's timings to its logs, before CSVLogger writes."""

    def __init__(self, evaluate_test=None):
        super().__init__()
        self.evaluate_test, self.steps = evaluate_test, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self._last_step = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._last_step, self.steps = time.perf_counter(), batch + 1

    def on_epoch_end(self, epoch, logs=None):
        logs["train_seconds"] = self._last_step - self._start
        if self.evaluate_test:
            logs.update({f"test_{name}": value for name, value in self.evaluate_test().items()})
        logs["seconds"] = time.perf_counter() - self._start


def read_history(path):
    """The per-epoch history in a CSVLogger file as a dict of lists (epoch 1-based).

    A kill between the CSV row and the backup leaves an epoch twice: the later row wins.
    """
    frame = pd.read_csv(path).drop_duplicates("epoch", keep="last").sort_values("epoch")
    frame = frame.dropna(axis="columns", how="all")
    frame["epoch"] = frame["epoch"] + 1
    return {name: frame[name].tolist() for name in frame.columns}


def as_dataset(data, batch_size, name="data", *, shuffle=False, seed=None):
    """A batched tf.data.Dataset from a Dataset or (x, y) arrays, with tf.data autotune off.

    Autotuning makes epochs stall for seconds on small CPUs (performance_notes.md), so it is
    disabled on every pipeline `fit` uses, including the ones it is given.
    """
    if data is None:
        return None
    options = tf.data.Options()
    options.autotune.enabled = False
    if isinstance(data, tf.data.Dataset):
        return data.with_options(options)
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and len(data[0]) == len(data[1])):
        raise ValueError(f"{name} must be a batched tf.data.Dataset or an (x, y) pair of arrays "
                         f"of equal length, got {type(data).__name__}")
    dataset = gathered_batches(*data, batch_size, shuffle=shuffle, seed=seed)
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def training_pipeline(train, recipe, batch_size):
    """(dataset, steps per epoch or None when unknown, images per epoch or None when not counted)."""
    dataset = as_dataset(train, batch_size, "train", shuffle=recipe.shuffle, seed=recipe.seed)
    if dataset is None:
        raise ValueError("train is required: a batched tf.data.Dataset or (x, y) arrays")
    cardinality = int(dataset.cardinality())
    if recipe.steps_per_epoch:
        if cardinality != tf.data.INFINITE_CARDINALITY:
            dataset = dataset.repeat()
        return dataset, recipe.steps_per_epoch, recipe.steps_per_epoch * batch_size
    if cardinality < 0:
        if recipe.schedule != "constant":
            raise ValueError("the training dataset's length is unknown: set Recipe.steps_per_epoch "
                             f"for the {recipe.schedule!r} schedule")
        return dataset, None, None
    images = len(train[0]) if not isinstance(train, tf.data.Dataset) else None
    return dataset, cardinality, images
