"""The transfer study's runs: one split (a photo fold, or a Fashion-MNIST seed and size) trained
under the three conditions, in this process or side by side with others in worker processes
(`keras_cnn_course.training.side_by_side`: both cores busy, the models traced in parallel).
"""

import datetime
import functools
import json
import time

import numpy as np
import pandas as pd

from keras_cnn_course import results
from keras_cnn_course.arguments import positive_int

from reproductions import study
from reproductions.transfer import conditions as declared
from reproductions.transfer.conditions import CONDITIONS, GAINS, ONLINE, PROTOCOL, ROWS
from reproductions.transfer.report import read_predictions, report

# What a finished condition leaves in its folder until its split is recorded, so that an
# interrupted split resumes after the conditions it finished; the marker is written last.
FINISHED = {"marker": "finished.json", "weights": "finished.weights.h5",
            "history": "finished_history.csv", "predictions": "finished_predictions.npy"}


def train_condition(condition, build_model, train, validation, test, seed, log_dir,
                    quick=False, tensorboard=False):
    """Train `build_model()` by the condition's recipe with `training.fit`, stopping early on the
    validation accuracy, keeping the best epoch's weights; (metrics, timings, test predictions,
    per-epoch history, the trained model). Wall time: training, validation and the one test pass."""
    import keras

    from keras_cnn_course.training import fit

    recipe = declared.recipe_for(condition, len(train[1]), seed, quick)
    stopping = keras.callbacks.EarlyStopping("val_accuracy", patience=declared.PATIENCE,
                                             restore_best_weights=True)
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    result = fit(build_model, recipe, train, validation, log_dir=log_dir, callbacks=[stopping],
                 verbose=0, tensorboard=tensorboard)
    start = time.perf_counter()
    predicted = result.model.predict(test[0], batch_size=128, verbose=0).argmax(axis=1)
    best = stopping.best_epoch  # 0-based; the weights the model now holds
    history = result.history
    metrics = {"test_accuracy": 100 * float(np.mean(predicted == test[1])),
               "validation_accuracy": 100 * history["val_accuracy"][best],
               "train_accuracy": 100 * history["accuracy"][best],
               "selected_epoch": best + 1, "train_images": len(train[1])}
    timing = dict(wall_seconds=result.wall_seconds + time.perf_counter() - start,
                  started=started, epochs=len(history["epoch"]), steps=result.steps,
                  images_per_second=result.images_per_second, precision=result.precision)
    return metrics, timing, predicted, pd.DataFrame(history), result.model


def scratch_network(size, num_classes):
    """EfficientNet-Lite0 from random initialisation, BatchNorm momentum SCRATCH_BN_MOMENTUM."""
    import keras

    from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0

    model = efficientnet_lite0(weights=None, input_shape=(size, size, 3), classes=num_classes)
    for layer in model.layers:  # moving statistics must settle within a few hundred steps
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = declared.SCRATCH_BN_MOMENTUM
    return model


def validation_split(y, seed):
    """(train, validation) positions in `y`: one stratified fold of VALIDATION_FOLDS validates."""
    fold = stratified_folds(y, declared.VALIDATION_FOLDS, seed)
    return np.flatnonzero(fold != 0), np.flatnonzero(fold == 0)


def run_conditions(data, features, train_idx, test_idx, num_classes, seed, size, run_dir,
                   quick=False, tensorboard=False):
    """The three conditions on one split, each logging into `run_dir/<condition>`:
    {condition: (metrics, timings, test predictions, history)}."""
    from keras_cnn_course.transfer import finetune

    fit_idx, val_idx = (train_idx[part] for part in validation_split(data["y"][train_idx], seed))
    y = data["y"]

    def condition(name, x, build_model):
        folder = run_dir / name
        kept = kept_condition(folder, build_model)
        if kept is None:
            kept = train_condition(
                name, build_model, (x[fit_idx], y[fit_idx]), (x[val_idx], y[val_idx]),
                (x[test_idx], y[test_idx]), seed, folder, quick, tensorboard)
            keep_condition(folder, *kept)
        *outcome, history, model = kept
        return (*outcome, history.assign(condition=name)), model

    runs = {}
    runs["scratch"], _ = condition("scratch", data["x"], lambda: scratch_network(size, num_classes))
    pooled, cut, top = features["pooled"], features["cut"], features["top"]
    runs["frozen"], head = condition("frozen", pooled,
                                     lambda: finetune.classifier(pooled.shape[1:], num_classes))

    def fine_tuned():
        tuned_head = finetune.classifier(pooled.shape[1:], num_classes, name="tuned_head")
        tuned_head.get_layer("predictions").set_weights(
            head.get_layer("predictions").get_weights())
        top.set_weights(features["top_weights"])  # each split starts from the ImageNet weights
        return finetune.stack(top, tuned_head)

    runs["fine_tuned"], _ = condition("fine_tuned", cut, fine_tuned)
    return runs


def keep_condition(folder, metrics, timing, predicted, history, model):
    """Save a finished condition into `folder` (FINISHED), the marker last."""
    model.save_weights(folder / FINISHED["weights"])
    history.to_csv(folder / FINISHED["history"], index=False)
    np.save(folder / FINISHED["predictions"], predicted)
    results.write_atomic(folder / FINISHED["marker"],
                         json.dumps({"metrics": metrics, "timing": timing}, default=float))


def kept_condition(folder, build_model):
    """What `keep_condition` saved in `folder`, with `build_model()` holding its weights, or
    None if the condition did not finish there."""
    if not (folder / FINISHED["marker"]).exists():
        return None
    kept = json.loads((folder / FINISHED["marker"]).read_text())
    model = build_model()
    model.load_weights(folder / FINISHED["weights"])
    return (kept["metrics"], kept["timing"], np.load(folder / FINISHED["predictions"]),
            pd.read_csv(folder / FINISHED["history"]), model)


def forget_conditions(run_dir):
    """Remove what finished conditions kept in `run_dir` once their split is recorded (a
    later --redo trains them again)."""
    for condition in CONDITIONS:
        for name in FINISHED.values():
            (run_dir / condition / name).unlink(missing_ok=True)


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


def train_split(part, index, options, run_dir, tensorboard=False):
    """The three conditions on split `index` of `part`: (part, index, runs)."""
    data, features, size, splits = prepare(part, options)
    _, seed, train_idx, test_idx = splits[index]
    runs = run_conditions(data, features, train_idx, test_idx, len(data["classes"]), seed, size,
                          run_dir, options[0], tensorboard)
    return part, index, runs


def scratch_cost(part, index, options):
    """Pixels in the split's training images: what the scratch network's epochs scale with."""
    _, _, size, splits = prepare(part, options)
    return len(splits[index][2]) * size**2


def train_splits(tasks, options, workers, run_dirs, tensorboard=False):
    """Yield `train_split` of every (part, index) in `tasks` as it finishes, `workers` at a time,
    each logging into its own folder of `run_dirs`."""
    from keras_cnn_course.training.side_by_side import side_by_side

    return side_by_side(train_split, [(*task, options, folder, tensorboard)
                                      for task, folder in zip(tasks, run_dirs)], workers)


def record(context, run, conditions):
    """One row per condition, plus the paired gains the lecture's claims are about."""
    prefix = ROWS[run.row].prefix
    for condition, (metrics, timing, _, _) in conditions.items():
        context.append_run(run, metrics, key=f"{prefix}_{condition}", **timing)
        print(f"{prefix}_{condition} seed {run.seed}: test {metrics['test_accuracy']:.1f}% "
              f"(epoch {metrics['selected_epoch']} of {timing['epochs']}, "
              f"{timing['wall_seconds']:.0f} s)", flush=True)
    for gain, (better, worse) in GAINS.items():
        (high, high_timing, *_), (low, low_timing, *_) = conditions[better], conditions[worse]
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
    first); features are computed and cached here, once, before any worker starts. Under a
    documented source's protocol: its recipe (online.py)."""
    args = context.args
    if args.protocol != PROTOCOL:
        from reproductions.transfer import online

        yield from online.train(runs, context)
        return
    options = (args.quick, args.cache_dir, args.seeds or declared.FASHION_SEEDS)
    tasks = {}
    for run in runs:
        row = ROWS[run.row]
        splits = prepare(row.part, options)[3]
        index = next(i for i, (prefix, seed, _, _) in enumerate(splits)
                     if prefix == row.prefix and seed == run.seed)
        tasks[(row.part, index)] = run
    order = sorted(tasks, key=lambda task: -scratch_cost(*task, options))
    folders = [context.run_dir(tasks[task]) for task in order]
    for part, index, conditions in train_splits(order, options, args.workers, folders,
                                                args.tensorboard):
        run = tasks[(part, index)]
        data, _, _, splits = prepare(part, options)
        if part == "photos":
            save_predictions(context.results_dir, data, splits[index][3], run.seed, conditions)
        record(context, run, conditions)
        context.keep_history(run, frame=pd.concat([c[3] for c in conditions.values()]))
        forget_conditions(context.run_dir(run))
        yield run


def finish(context):
    report(context.results_dir, context.args.cache_dir)


def preflight(args):
    """Refuse --quick under a documented source's protocol; check its downloads (online.py)."""
    if args.protocol == PROTOCOL:
        return
    if args.quick:
        raise ValueError(f"--quick --protocol {args.protocol}: --quick is the offline protocol's "
                         "smoke test; leave out --quick to run the source's recipe")
    from reproductions.transfer import online

    online.preflight(args.protocol, args.data_dir, args.weights)


def options(cli):
    cli.add_argument("--cache-dir", help="package cache (default $KCC_CACHE_DIR)")
    cli.add_argument("--data-dir", help="TFDS data directory for the documented sources' data "
                     "sets (default ~/tensorflow_datasets)")
    cli.add_argument("--weights", metavar="FILE", help="the Keras ImageNet weights file of the "
                     "protocol's backbone (default: the Keras cache, else downloaded)")
    cli.add_argument("--workers", type=positive_int, default=declared.WORKERS, metavar="N",
                     help=f"train N splits side by side, one thread each "
                     f"(default {declared.WORKERS})")


STUDY = study.Study(
    name="transfer", module="reproductions.transfer",
    description="Transfer learning from ImageNet on real images, offline: "
    "`make reproduce-transfer`.",
    rows=ROWS, train=train, finish=finish, protocols=(PROTOCOL, *ONLINE), preflight=preflight,
    one_device_reason="trains each small model on one device", options=options, quiet=True)


def main(argv=None):
    return study.run(STUDY, argv)
