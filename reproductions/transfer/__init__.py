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

import time

from keras_cnn_course.arguments import positive_int
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
# Splits trained side by side in one-thread worker processes (see reproductions/transfer_runs.py).
WORKERS = 2
QUICK = dict(folds=2, per_class=6, sizes=(100,), seeds=1, test=200, steps=4)


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


def read_predictions(path):
    """transfer_photo_predictions.csv, checked: its columns, every cell filled, integer folds
    >= 0, one row per photo; a ValueError names the file, line (header: line 1), column, value."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    columns = ["photo", "fold", "label", *CONDITIONS]
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: line 1 lacks the columns {missing}; expected {columns}")
    first = {}
    for line, row in enumerate(frame.to_dict("records"), start=2):
        for column in columns:
            if not row[column] or (column == "fold" and not row[column].isdigit()):
                wanted = "an integer >= 0" if column == "fold" else "filled in"
                raise ValueError(f"{path}: line {line}, column {column}: {row[column]!r} must "
                                 f"be {wanted}")
        if row["photo"] in first:
            raise ValueError(f"{path}: line {line} repeats the photo of line "
                             f"{first[row['photo']]} ({row['photo']}); keep one of them")
        first[row["photo"]] = line
    return frame.astype({"fold": int})


def save_predictions(results_dir, data, test_idx, fold, runs):
    """Out-of-fold predicted classes of every photo (for the figure), one row per photo."""
    import pandas as pd

    from keras_cnn_course import results

    path = results_dir / "transfer_photo_predictions.csv"
    rows = pd.DataFrame({"photo": [data["names"][i] for i in test_idx], "fold": fold,
                         "label": [data["classes"][data["y"][i]] for i in test_idx],
                         **{c: [data["classes"][p] for p in runs[c][2]] for c in CONDITIONS}})
    if path.exists():
        old = read_predictions(path)
        rows = pd.concat([old[~old["photo"].isin(rows["photo"])], rows], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    results.write_atomic(path, rows.sort_values(["fold", "photo"]).to_csv(index=False))


@common.reports_user_errors("reproductions.transfer")
def main(argv=None):
    cli = common.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--parts", nargs="+", choices=("photos", "fashion"),
                     default=["photos", "fashion"])
    cli.add_argument("--cache-dir", help="package cache (default $KCC_CACHE_DIR)")
    cli.add_argument("--workers", type=positive_int, default=WORKERS, metavar="N",
                     help=f"train N splits side by side, one thread each (default {WORKERS})")
    args = cli.parse_args(argv)
    common.one_device_only(args, STUDY, "trains each small model on one device")
    from reproductions import transfer_runs

    results_dir, _runs = common.output_dirs(args, STUDY)
    start = time.perf_counter()
    options = (args.quick, args.cache_dir, args.seeds or FASHION_SEEDS)
    tasks = []
    for part in args.parts:  # features are computed and cached here, once, before any worker
        splits = transfer_runs.prepare(part, options)[3]
        tasks += [(part, index) for index, (prefix, seed, _, _) in enumerate(splits)
                  if not common.is_done(STUDY, [f"{prefix}_{c}" for c in CONDITIONS], seed,
                                        PROTOCOL, results_dir, args.redo)]
    tasks.sort(key=lambda task: -transfer_runs.scratch_cost(*task, options))  # longest first
    for part, index, runs in transfer_runs.train_splits(tasks, options, args.workers):
        data, _, _, splits = transfer_runs.prepare(part, options)
        prefix, seed, _, test_idx = splits[index]
        if part == "photos":
            save_predictions(results_dir, data, test_idx, seed, runs)
        record(args, results_dir, prefix, seed, runs)
    print(f"transfer study: {time.perf_counter() - start:.0f} s; results in {results_dir}")
    from reproductions.transfer_report import report

    report(results_dir, args.cache_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
