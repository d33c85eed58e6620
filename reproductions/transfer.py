"""Transfer learning from ImageNet on real images, offline: `make reproduce-transfer`.

Claim (lecture note 001): train on ImageNet; on a small data set freeze the pretrained layers and
retrain the last one; with more data fine-tune more layers. Measured here with EfficientNet-Lite0
(its published ImageNet weights, converted offline) against the same network trained from
scratch, on (a) Tux Paint's photo stamps (186 real photos, 6 classes, 5-fold cross-validation) and
(b) Fashion-MNIST with 100 / 1,000 / 10,000 training images (a learning curve, several seeds).

Three ways to use the network, each with a fixed recipe (no selection on the test data):
- scratch: random initialisation, every layer trained (Adam 1e-3);
- frozen: the ImageNet network as a fixed feature extractor (features computed once, cached),
  a new softmax layer trained on them (Adam 1e-3);
- fine_tuned: the frozen case's new layer, then block7a and the 1x1 head conv trained with it
  (Adam 1e-4) on cached block6 outputs; BatchNorm kept in inference mode.
Batch 32; each case trains for a budget of steps, capped in epochs (`EPOCHS`), chosen so that the
study fits a 2-core CPU: the scratch network gets at most 300 steps, enough on the small sets but
short of convergence at 10,000 images (its training accuracy is in the CSV beside the test one);
its BatchNorm momentum is 0.9 (`SCRATCH_BN_MOMENTUM`) so that its moving statistics settle.
Images: photos at PHOTO_SIZE, cut-outs centred on white; Fashion-MNIST upsampled to
FASHION_SIZE, grey copied to RGB. No augmentation (the cached cases could not see it either).
The `*_gain` rows are paired differences (same split, same seed) in percentage points.

Evidence: results/transfer.csv (every run with command, seed, hardware, versions, wall time),
results/transfer.md, results/figures/transfer_*.png. Accuracies in percent.
"""

import math
import time

import numpy as np

from reproductions import common

STUDY, PROTOCOL, CUT = "transfer", "offline", "block6d_add"
PHOTO_SIZE, FOLDS = 96, 5
FASHION_SIZE, FASHION_SIZES, FASHION_SEEDS, FASHION_TEST = 64, (100, 1000, 10000), 3, 2000
BATCH = 32
# (steps, max epochs): epochs = min(max epochs, steps / steps per epoch) for each training set.
EPOCHS = {"scratch": (300, 20), "frozen": (2000, 200), "fine_tuned": (600, 40)}  # (steps, max)
LEARNING_RATE = {"scratch": 1e-3, "frozen": 1e-3, "fine_tuned": 1e-4}
CONDITIONS = ("scratch", "frozen", "fine_tuned")
# Keras' default 0.99 leaves BatchNorm's moving statistics near their initial values after a few
# hundred steps: the scratch network then scored chance on the test set at 68-100% training
# accuracy. 0.9 lets them follow the data within ~50 steps.
SCRATCH_BN_MOMENTUM = 0.9
# Paired differences in test accuracy (percentage points) on the same split and seed.
GAINS = {"frozen_gain": ("frozen", "scratch"), "fine_tune_gain": ("fine_tuned", "frozen")}
QUICK = dict(folds=2, per_class=6, sizes=(100,), seeds=1, test=200, steps=4)


def epochs_for(condition, n, steps=None):
    total, cap = EPOCHS[condition]
    return max(1, min(cap, math.ceil((steps or total) / math.ceil(n / BATCH))))


def fit_and_score(model, condition, train, test, seed, steps=None):
    """Train `model` on (x, y) with the condition's recipe; test accuracy and timings."""
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(keras.optimizers.Adam(LEARNING_RATE[condition]),
                  "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
    epochs = epochs_for(condition, len(train[1]), steps)
    start = time.perf_counter()
    history = model.fit(*train, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0)
    wall = time.perf_counter() - start
    predicted = model.predict(test[0], batch_size=128, verbose=0).argmax(axis=1)
    metrics = {"test_accuracy": 100 * float(np.mean(predicted == test[1])),
               "train_accuracy": 100 * history.history["accuracy"][-1],
               "train_images": len(train[1])}
    steps_run = epochs * math.ceil(len(train[1]) / BATCH)
    return metrics, dict(wall_seconds=wall, epochs=epochs, steps=steps_run,
                         images_per_second=epochs * len(train[1]) / wall,
                         precision=keras.config.dtype_policy().name), predicted


def run_conditions(data, features, train_idx, test_idx, num_classes, seed, size, steps=None):
    """The three conditions on one split: {condition: (metrics, timings, test predictions)}."""
    import keras

    from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0
    from keras_cnn_course.transfer import finetune

    y_train, y_test = data["y"][train_idx], data["y"][test_idx]
    keras.utils.set_random_seed(seed)
    scratch = efficientnet_lite0(weights=None, input_shape=(size, size, 3), num_classes=num_classes)
    for layer in scratch.layers:  # moving statistics must settle within a few hundred steps
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = SCRATCH_BN_MOMENTUM
    runs = {"scratch": fit_and_score(scratch, "scratch", (data["x"][train_idx], y_train),
                                     (data["x"][test_idx], y_test), seed, steps)}
    pooled, cut, top = features["pooled"], features["cut"], features["top"]
    head = finetune.classifier(pooled.shape[1:], num_classes)
    runs["frozen"] = fit_and_score(head, "frozen", (pooled[train_idx], y_train),
                                   (pooled[test_idx], y_test), seed, steps)
    tuned_head = finetune.classifier(pooled.shape[1:], num_classes, name="tuned_head")
    tuned_head.get_layer("predictions").set_weights(head.get_layer("predictions").get_weights())
    top.set_weights(features["top_weights"])  # each split starts from the ImageNet weights
    model = finetune.stack(top, tuned_head)
    runs["fine_tuned"] = fit_and_score(model, "fine_tuned", (cut[train_idx], y_train),
                                       (cut[test_idx], y_test), seed, steps)
    return runs


def backbone_features(name, images, size, cache_dir):
    """Preprocessed images plus cached frozen features: pooled (frozen) and at CUT (fine-tuned)."""
    from keras_cnn_course.transfer import backbone, finetune, weights

    model, preprocess = backbone("efficientnet_lite0", (size, size, 3), pooling="avg")
    bottom, top = finetune.split_backbone(model, CUT)  # top ends with the average pooling
    x = preprocess(images)
    directory = weights.resolve_cache_dir(cache_dir) / "features"
    cut = finetune.cached_features(bottom, x, directory / f"{name}_{size}_{CUT}.npz")
    pooled = finetune.cached_features(top, cut, directory / f"{name}_{size}_pooled.npz")
    return x, {"cut": cut, "pooled": pooled, "top": top, "top_weights": top.get_weights()}


def stratified_folds(y, folds, seed):
    fold = np.empty(len(y), int)
    rng = np.random.default_rng(seed)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        fold[members] = np.arange(len(members)) % folds
    return fold


def record(args, results_dir, prefix, seed, runs):
    """One row per condition, plus the paired gains the lecture's claims are about."""
    from keras_cnn_course import results

    def append(key, metrics, timing):
        results.append_run(STUDY, key, seed, PROTOCOL, metrics, results_dir=results_dir,
                           command=common.command_line("reproductions.transfer"),
                           replace=args.redo, **timing)

    for condition, (metrics, timing, _) in runs.items():
        append(f"{prefix}_{condition}", metrics, timing)
        print(f"{prefix}_{condition} seed {seed}: test {metrics['test_accuracy']:.1f}% "
              f"({timing['wall_seconds']:.0f} s)", flush=True)
    for gain, (better, worse) in GAINS.items():
        (high, high_timing, _), (low, low_timing, _) = runs[better], runs[worse]
        timing = {"wall_seconds": high_timing["wall_seconds"] + low_timing["wall_seconds"]}
        append(f"{prefix}_{gain}", {"accuracy_gain": high["test_accuracy"] -
                                    low["test_accuracy"]}, timing)


def save_predictions(results_dir, data, test_idx, fold, runs):
    """Out-of-fold predicted classes of every photo (for the figure), one row per photo."""
    import pandas as pd

    from keras_cnn_course import results

    path = results_dir / "transfer_photo_predictions.csv"
    rows = pd.DataFrame({"photo": [data["names"][i] for i in test_idx], "fold": fold,
                         "label": [data["classes"][data["y"][i]] for i in test_idx],
                         **{c: [data["classes"][p] for p in runs[c][2]] for c in CONDITIONS}})
    if path.exists():
        old = pd.read_csv(path)
        rows = pd.concat([old[~old["photo"].isin(rows["photo"])], rows], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    results.write_atomic(path, rows.sort_values(["fold", "photo"]).to_csv(index=False))


def photos(args, results_dir):
    from keras_cnn_course.transfer.datasets import load_photo_stamps

    data = load_photo_stamps(PHOTO_SIZE, args.cache_dir)
    if args.quick:  # the first few photos of each class
        keep = np.concatenate([np.flatnonzero(data["y"] == c)[:QUICK["per_class"]]
                               for c in range(len(data["classes"]))])
        data = dict(data, x=data["x"][keep], y=data["y"][keep],
                    names=tuple(data["names"][i] for i in keep))
    x, features = backbone_features(f"photo_stamps_{len(data['y'])}", data["x"], PHOTO_SIZE,
                                    args.cache_dir)
    data = dict(data, x=x)
    folds = QUICK["folds"] if args.quick else FOLDS
    fold_of = stratified_folds(data["y"], folds, seed=0)
    for fold in range(folds):
        keys = [f"photos_{c}" for c in CONDITIONS]
        if common.is_done(STUDY, keys, fold, PROTOCOL, results_dir, args.redo):
            continue
        test_idx = np.flatnonzero(fold_of == fold)
        runs = run_conditions(data, features, fold_of != fold, test_idx,
                              len(data["classes"]), fold, PHOTO_SIZE,
                              QUICK["steps"] if args.quick else None)
        save_predictions(results_dir, data, test_idx, fold, runs)
        record(args, results_dir, "photos", fold, runs)


def fashion(args, results_dir):
    import tensorflow as tf

    from keras_cnn_course.transfer.datasets import load_fashion_mnist

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(args.cache_dir)
    sizes = QUICK["sizes"] if args.quick else FASHION_SIZES
    n_test = QUICK["test"] if args.quick else FASHION_TEST
    pool = np.random.default_rng(0).permutation(len(y_train))[:max(sizes)]  # nested subsets
    images = np.concatenate([x_train[pool], x_test[:n_test]])[..., None]
    images = tf.image.resize(np.repeat(images, 3, axis=-1), (FASHION_SIZE,) * 2).numpy()
    x, features = backbone_features(f"fashion_{len(pool)}_{n_test}", images, FASHION_SIZE,
                                    args.cache_dir)
    data = {"x": x, "y": np.concatenate([y_train[pool], y_test[:n_test]])}
    test_idx = np.arange(len(pool), len(pool) + n_test)
    for seed in range(QUICK["seeds"] if args.quick else (args.seeds or FASHION_SEEDS)):
        for n in sizes:
            keys = [f"fashion_{n}_{c}" for c in CONDITIONS]
            if common.is_done(STUDY, keys, seed, PROTOCOL, results_dir, args.redo):
                continue
            train_idx = np.random.default_rng(seed).permutation(len(pool))[:n]
            runs = run_conditions(data, features, train_idx, test_idx, 10, seed, FASHION_SIZE,
                                  QUICK["steps"] if args.quick else None)
            record(args, results_dir, f"fashion_{n}", seed, runs)


def main(argv=None):
    cli = common.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--parts", nargs="+", choices=("photos", "fashion"),
                     default=["photos", "fashion"])
    cli.add_argument("--cache-dir", help="package cache (default $KCC_CACHE_DIR)")
    args = cli.parse_args(argv)
    common.one_device_only(args, STUDY, "trains each small model on one device")
    results_dir, _runs = common.output_dirs(args, STUDY)
    start = time.perf_counter()
    for part in args.parts:
        {"photos": photos, "fashion": fashion}[part](args, results_dir)
    print(f"transfer study: {time.perf_counter() - start:.0f} s; results in {results_dir}")
    from reproductions.transfer_report import report

    report(results_dir, args.cache_dir)


if __name__ == "__main__":
    main()
