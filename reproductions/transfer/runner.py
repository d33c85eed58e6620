"""The transfer study's runs: one split (a photo fold, or a Fashion-MNIST seed and size) trained
under the three conditions, in this process or side by side with others in worker processes
(`keras_cnn_course.training.side_by_side`: both cores busy, the models traced in parallel).
"""

import datetime
import functools
import math
import time

import numpy as np
import pandas as pd

from keras_cnn_course import results
from keras_cnn_course.arguments import positive_int

from reproductions import study
from reproductions.transfer import conditions as declared
from reproductions.transfer.conditions import CONDITIONS, GAINS, PROTOCOL, ROWS
from reproductions.transfer.report import read_predictions, report



def epochs_for(condition, n, steps=None):
    budget = CONDITIONS[condition]
    steps_per_epoch = math.ceil(n / budget.recipe.batch_size)
    return max(1, min(budget.max_epochs, math.ceil((steps or budget.steps) / steps_per_epoch)))


def fit_and_score(model, condition, train, test, seed, steps=None, tensorboard=None):
    """Train `model` on (x, y) with the condition's recipe; test accuracy and timings (wall time:
    training and testing; images/s: training alone). A model compiled before (`scratch_network`)
    keeps its compiled step."""
    import keras

    keras.utils.set_random_seed(seed)
    if not model.compiled:
        compile_for(model, condition)
    epochs = epochs_for(condition, len(train[1]), steps)
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    callbacks = [keras.callbacks.TensorBoard(str(tensorboard))] if tensorboard else []
    history = model.fit(*train, batch_size=declared.BATCH, epochs=epochs, shuffle=True, verbose=0,
                        callbacks=callbacks)
    fit_seconds = time.perf_counter() - start
    predicted = model.predict(test[0], batch_size=128, verbose=0).argmax(axis=1)
    wall = time.perf_counter() - start
    metrics = {"test_accuracy": 100 * float(np.mean(predicted == test[1])),
               "train_accuracy": 100 * history.history["accuracy"][-1],
               "train_images": len(train[1])}
    steps_run = epochs * math.ceil(len(train[1]) / declared.BATCH)
    return metrics, dict(wall_seconds=wall, started=started, epochs=epochs, steps=steps_run,
                         images_per_second=epochs * len(train[1]) / fit_seconds,
                         precision=keras.config.dtype_policy().name), predicted


def compile_for(model, condition):
    import keras

    recipe = CONDITIONS[condition].recipe
    model.compile(keras.optimizers.Adam(recipe.learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=recipe.jit_compile,
                  steps_per_execution=recipe.steps_per_execution)


def scratch_network(size, num_classes, seed):
    """EfficientNet-Lite0 exactly as a separate run with `seed` starts it (weights and dropout
    state drawn right after seeding, Adam's state zero), in a model compiled once per shape in
    this process: tracing its training step takes ~20 s, one scratch run's worth of set-up."""
    import keras

    from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0

    keras.utils.set_random_seed(seed)
    fresh = efficientnet_lite0(weights=None, input_shape=(size, size, 3), classes=num_classes)
    model = _compiled_scratch_network(size, num_classes)
    for target, source in zip(model.variables, fresh.variables, strict=True):
        target.assign(source)  # weights, BatchNorm statistics and the dropout seed
    for variable in model.optimizer.variables:
        if variable.name != "learning_rate":
            variable.assign(keras.ops.zeros_like(variable))  # step count and moments
    return model


@functools.cache
def _compiled_scratch_network(size, num_classes):
    import keras

    from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0

    model = efficientnet_lite0(weights=None, input_shape=(size, size, 3), classes=num_classes)
    for layer in model.layers:  # moving statistics must settle within a few hundred steps
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = declared.SCRATCH_BN_MOMENTUM
    compile_for(model, "scratch")
    return model


def run_conditions(data, features, train_idx, test_idx, num_classes, seed, size, steps=None,
                   tensorboard=None):
    """The three conditions on one split: {condition: (metrics, timings, test predictions)};
    `tensorboard`: a folder for each condition's TensorBoard logs."""
    def logs(condition):
        return tensorboard / condition / "tensorboard" if tensorboard else None

    from keras_cnn_course.transfer import finetune

    y_train, y_test = data["y"][train_idx], data["y"][test_idx]
    scratch = scratch_network(size, num_classes, seed)
    runs = {"scratch": fit_and_score(scratch, "scratch", (data["x"][train_idx], y_train),
                                     (data["x"][test_idx], y_test), seed, steps,
                                     logs("scratch"))}
    pooled, cut, top = features["pooled"], features["cut"], features["top"]
    head = finetune.classifier(pooled.shape[1:], num_classes)
    runs["frozen"] = fit_and_score(head, "frozen", (pooled[train_idx], y_train),
                                   (pooled[test_idx], y_test), seed, steps, logs("frozen"))
    tuned_head = finetune.classifier(pooled.shape[1:], num_classes, name="tuned_head")
    tuned_head.get_layer("predictions").set_weights(head.get_layer("predictions").get_weights())
    top.set_weights(features["top_weights"])  # each split starts from the ImageNet weights
    model = finetune.stack(top, tuned_head)
    runs["fine_tuned"] = fit_and_score(model, "fine_tuned", (cut[train_idx], y_train),
                                       (cut[test_idx], y_test), seed, steps,
                                       logs("fine_tuned"))
    return runs


def backbone_features(name, images, size, cache_dir):
    """Preprocessed images plus cached frozen features: pooled (frozen) and at CUT (fine-tuned)."""
    from keras_cnn_course.transfer import backbone, finetune, weights

    model, preprocess = backbone("efficientnet_lite0", (size, size, 3), pooling="avg")
    bottom, top = finetune.split_backbone(model, declared.CUT)  # top ends with the average pooling
    x = preprocess(images)
    directory = weights.resolve_cache_dir(cache_dir) / "features"
    cut = finetune.cached_features(bottom, x, directory / f"{name}_{size}_{declared.CUT}.npz")
    pooled = finetune.cached_features(top, cut, directory / f"{name}_{size}_pooled.npz")
    return x, {"cut": cut, "pooled": pooled, "top": top, "top_weights": top.get_weights()}


def stratified_folds(y, folds, seed):
    fold = np.empty(len(y), int)
    rng = np.random.default_rng(seed)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        fold[members] = np.arange(len(members)) % folds
    return fold


@functools.cache
def prepare(part, options):
    """(data, features, size, splits) of a part, once per process; `options` = (quick, cache
    directory, Fashion-MNIST seeds); splits: [(key prefix, seed, train indices, test indices)]."""
    return {"photos": _photos, "fashion": _fashion}[part](*options)


def _photos(quick, cache_dir, _seeds):
    from keras_cnn_course.transfer.datasets import load_photo_stamps

    data = load_photo_stamps(declared.PHOTO_SIZE, cache_dir)
    if quick:  # the first few photos of each class
        keep = np.concatenate([np.flatnonzero(data["y"] == c)[:declared.QUICK["per_class"]]
                               for c in range(len(data["classes"]))])
        data = dict(data, x=data["x"][keep], y=data["y"][keep],
                    names=tuple(data["names"][i] for i in keep))
    x, features = backbone_features(f"photo_stamps_{len(data['y'])}", data["x"],
                                    declared.PHOTO_SIZE, cache_dir)
    folds = declared.QUICK["folds"] if quick else declared.FOLDS
    fold_of = stratified_folds(data["y"], folds, seed=0)
    splits = [("photos", fold, np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold))
              for fold in range(folds)]
    return dict(data, x=x), features, declared.PHOTO_SIZE, splits


def _fashion(quick, cache_dir, seeds):
    import tensorflow as tf

    from keras_cnn_course.transfer.datasets import load_fashion_mnist

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(cache_dir)
    sizes = declared.QUICK["sizes"] if quick else declared.FASHION_SIZES
    n_test = declared.QUICK["test"] if quick else declared.FASHION_TEST
    pool = np.random.default_rng(0).permutation(len(y_train))[:max(sizes)]  # nested subsets
    images = np.concatenate([x_train[pool], x_test[:n_test]])[..., None]
    images = tf.image.resize(np.repeat(images, 3, axis=-1), (declared.FASHION_SIZE,) * 2).numpy()
    x, features = backbone_features(f"fashion_{len(pool)}_{n_test}", images, declared.FASHION_SIZE,
                                    cache_dir)
    data = {"x": x, "y": np.concatenate([y_train[pool], y_test[:n_test]]), "classes": range(10)}
    test_idx = np.arange(len(pool), len(pool) + n_test)
    splits = [(f"fashion_{n}", seed, np.random.default_rng(seed).permutation(len(pool))[:n],
               test_idx)
              for seed in range(declared.QUICK["seeds"] if quick else seeds)
              for n in sizes]
    return data, features, declared.FASHION_SIZE, splits


def train_split(part, index, options, tensorboard=None):
    """The three conditions on split `index` of `part`: (part, index, runs)."""
    data, features, size, splits = prepare(part, options)
    _, seed, train_idx, test_idx = splits[index]
    runs = run_conditions(data, features, train_idx, test_idx, len(data["classes"]), seed, size,
                          declared.QUICK["steps"] if options[0] else None, tensorboard)
    return part, index, runs


def scratch_cost(part, index, options):
    """Pixels the scratch network trains on in this split: most of the split's time."""
    _, _, size, splits = prepare(part, options)
    n = len(splits[index][2])
    return epochs_for("scratch", n) * math.ceil(n / declared.BATCH) * size**2


def train_splits(tasks, options, workers, tensorboard=()):
    """Yield `train_split` of every (part, index) in `tasks` as it finishes, `workers` at a time;
    `tensorboard`: each task's folder for its logs (or none)."""
    from keras_cnn_course.training.side_by_side import side_by_side

    folders = list(tensorboard) or [None] * len(tasks)
    return side_by_side(train_split, [(*task, options, folder)
                                      for task, folder in zip(tasks, folders)], workers)


def record(context, run, conditions):
    """One row per condition, plus the paired gains the lecture's claims are about."""
    prefix = ROWS[run.row].prefix
    for condition, (metrics, timing, _) in conditions.items():
        context.append_run(run, metrics, key=f"{prefix}_{condition}", **timing)
        print(f"{prefix}_{condition} seed {run.seed}: test {metrics['test_accuracy']:.1f}% "
              f"({timing['wall_seconds']:.0f} s)", flush=True)
    for gain, (better, worse) in GAINS.items():
        (high, high_timing, _), (low, low_timing, _) = conditions[better], conditions[worse]
        timing = {"wall_seconds": high_timing["wall_seconds"] + low_timing["wall_seconds"]}
        context.append_run(run, {"accuracy_gain": high["test_accuracy"] - low["test_accuracy"]},
                           key=f"{prefix}_{gain}", **timing)


def save_predictions(results_dir, data, test_idx, fold, runs):
    """Out-of-fold predicted classes of every photo (for the figure), one row per photo."""
    path = results_dir / "transfer_photo_predictions.csv"
    rows = pd.DataFrame({"photo": [data["names"][i] for i in test_idx], "fold": fold,
                         "label": [data["classes"][data["y"][i]] for i in test_idx],
                         **{c: [data["classes"][p] for p in runs[c][2]] for c in CONDITIONS}})
    if path.exists():
        old = read_predictions(path)
        rows = pd.concat([old[~old["photo"].isin(rows["photo"])], rows], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    results.write_atomic(path, rows.sort_values(["fold", "photo"]).to_csv(index=False))


def train(runs, context):
    """Each run's split under the three conditions, `--workers` splits side by side (longest
    first); features are computed and cached here, once, before any worker starts."""
    args = context.args
    options = (args.quick, args.cache_dir, args.seeds or declared.FASHION_SEEDS)
    tasks = {}
    for run in runs:
        row = ROWS[run.row]
        splits = prepare(row.part, options)[3]
        index = next(i for i, (prefix, seed, _, _) in enumerate(splits)
                     if prefix == row.prefix and seed == run.seed)
        tasks[(row.part, index)] = run
    order = sorted(tasks, key=lambda task: -scratch_cost(*task, options))
    folders = [context.run_dir(tasks[task]) for task in order] if args.tensorboard else ()
    for part, index, conditions in train_splits(order, options, args.workers, folders):
        run = tasks[(part, index)]
        data, _, _, splits = prepare(part, options)
        if part == "photos":
            save_predictions(context.results_dir, data, splits[index][3], run.seed, conditions)
        record(context, run, conditions)
        yield run


def finish(context):
    report(context.results_dir, context.args.cache_dir)


def options(cli):
    cli.add_argument("--cache-dir", help="package cache (default $KCC_CACHE_DIR)")
    cli.add_argument("--workers", type=positive_int, default=declared.WORKERS, metavar="N",
                     help=f"train N splits side by side, one thread each "
                     f"(default {declared.WORKERS})")


STUDY = study.Study(
    name="transfer", module="reproductions.transfer",
    description="Transfer learning from ImageNet on real images, offline: "
    "`make reproduce-transfer`.",
    rows=ROWS, train=train, finish=finish, protocols=(PROTOCOL,),
    one_device_reason="trains each small model on one device", options=options, quiet=True)


def main(argv=None):
    return study.run(STUDY, argv)
