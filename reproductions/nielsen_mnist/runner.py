"""Runs the rows of `nielsen_mnist.py`: data per regime, training, result rows, vote, figures."""

import dataclasses

import keras
import numpy as np

from keras_cnn_course import data, plots, results
from keras_cnn_course.models import get_model
from keras_cnn_course.results.targets import study_targets, targets_markdown
from keras_cnn_course.training import choose_strategy, fit, read_history
from keras_cnn_course.training.determinism import seed_everything
from keras_cnn_course.training.strategy import is_chief, worker_name
from reproductions import common

MODULE = "reproductions.nielsen_mnist"
QUICK_SIZES = {"train": 1000, "validation": 500, "test": 500}


def load_splits(quick):
    splits = data.load_mnist()
    if not quick:
        return splits
    return data.MnistSplits(*[(x[:QUICK_SIZES[name]], y[:QUICK_SIZES[name]])
                              for name, (x, y) in zip(splits._fields, splits)])


def training_data(splits, regime, recipe, batch_size, distortions=None, pixel_scale=1 / 255):
    """The training pipeline: the 50k as is or 1-pixel expanded, with random distortions if any.

    Seeded first: tf.data's shuffle combines its seed with TensorFlow's global seed, which the
    previous run in the process would otherwise have left behind.
    """
    seed_everything(recipe.seed, recipe.deterministic)
    x, y = splits.train
    if regime == "expanded":
        x, y = data.expand_mnist(x, y, seed=0)  # shuffled once, as expand_mnist.py does
    augment = data.augmentation(recipe.seed, **distortions) if distortions else None
    shuffle_seed = recipe.seed if recipe.shuffle else None
    return data.arrays_dataset(x, y, batch_size, shuffle_seed=shuffle_seed, augment=augment,
                               pixel_scale=pixel_scale)


class TestPredictions(keras.callbacks.Callback):
    """Keeps each epoch's predicted test labels in the run directory, for the vote."""

    def __init__(self, images, run_dir):
        super().__init__()
        self.images, self.run_dir = images, run_dir

    def on_epoch_end(self, epoch, logs=None):
        # a plain call, not predict(): under several workers predict() gathers its outputs
        # across them, which bfloat16 outputs do not support
        labels = np.concatenate([np.argmax(self.model(images, training=False), axis=1)
                                 for images in self.images]).astype(np.uint8)
        np.save(self.run_dir / f"test_predictions_epoch{epoch + 1}.npy", labels)


def run_row(study, name, row, seed, args, dirs, splits, strategy):
    """Train one (row, seed) and append its result row; returns the selected test predictions."""
    results_dir, runs_dir = dirs
    recipe = row.recipe(args.protocol, seed)
    if args.quick:
        recipe = dataclasses.replace(recipe, epochs=1, warmup_epochs=0)
    run_name = f"{name}-{args.protocol}-seed{seed}"
    run_dir = runs_dir / run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    batch = recipe.batch_size * strategy.num_replicas_in_sync
    scale = row.pixel_scale(args.protocol)
    train = training_data(splits, row.data, recipe, batch, row.random_distortions(args.protocol),
                          pixel_scale=scale)
    validation = data.arrays_dataset(*splits.validation, 1000, pixel_scale=scale)
    test = data.arrays_dataset(*splits.test, 1000, pixel_scale=scale)
    test_images = test.map(lambda images, labels: images)
    options = row.model_options(args.protocol)
    chief = is_chief(strategy)  # in a multi-worker run, only the chief writes results
    own_dir = run_dir if chief else run_dir / worker_name(strategy)  # as fit() does for logs
    own_dir.mkdir(exist_ok=True)
    result = fit(lambda: get_model(row.model, **options), recipe, train, validation, test,
                 strategy=strategy, log_dir=run_dir, verbose=2 if args.quick else "auto",
                 callbacks=[TestPredictions(test_images, own_dir)])
    if not chief:
        return result
    predictions = np.load(run_dir / f"test_predictions_epoch{result.selected_epoch}.npy")
    target = results_dir / "predictions" / study / f"{run_name}.npy"
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, predictions)
    common.keep_history(run_dir, results_dir, study, run_name)
    results.append_fit(study, list(row.keys), seed, args.protocol, result,
                       extra_metrics={"parameters": result.model.count_params()},
                       replace=args.redo, results_dir=results_dir,
                       command=common.command_line(MODULE))
    print(f"{run_name}: test {100 * result.selected['test_accuracy']:.2f}% at epoch "
          f"{result.selected_epoch} (validation {100 * result.selected['val_accuracy']:.2f}%), "
          f"{result.wall_seconds:.0f} s, {result.images_per_second:.0f} images/s", flush=True)
    return result


def plurality_vote(predictions):
    """The most common label per example over several nets' predictions (ties: smallest label)."""
    predictions = np.asarray(predictions)
    votes = np.zeros((predictions.shape[1], 10), np.int64)
    for labels in predictions:
        votes[np.arange(len(labels)), labels] += 1
    return votes.argmax(axis=1)


def vote(study, name, keys, seeds, args, results_dir, splits):
    """The plurality vote of seeds 0..seeds-1; appended as one result row (seed 0 = the vote)."""
    files = [results_dir / "predictions" / study / f"{name}-{args.protocol}-seed{seed}.npy"
             for seed in range(seeds)]
    missing = [path.name for path in files if not path.exists()]
    if missing:
        print(f"no vote: it takes {seeds} nets, and {', '.join(missing)} are not there yet "
              f"(--rows {name} --seeds {seeds} trains them)")
        return
    labels = splits.test[1]
    for path in files:  # e.g. a full run's predictions beside --quick's 500 test digits
        if np.load(path, mmap_mode="r").shape != labels.shape:
            raise ValueError(f"{path} holds {len(np.load(path))} predicted labels, but this "
                             f"run's test set has {len(labels)}: rerun --rows {name} --redo")
    predictions = np.stack([np.load(path) for path in files])
    voted = plurality_vote(predictions)
    errors = int((voted != labels).sum())
    nets_wrong = (predictions != labels).sum(axis=0)  # per test digit: how many nets err
    results.append_run(study, list(keys), 0, args.protocol,
                       {"test_accuracy": 100 * (1 - errors / len(labels)), "test_errors": errors,
                        "ensemble_size": len(files)},
                       wall_seconds=0.0, replace=True, results_dir=results_dir,
                       command=common.command_line(MODULE))
    in_all = int((nets_wrong[voted != labels] == len(files)).sum())
    plots.misclassified_digits(
        splits.test[0], labels, voted, final_net_figure(results_dir, study, "misclassified", args),
        notes=[f"{k}/{len(files)}" for k in nets_wrong],
        title=f"{errors} test digits the {len(files)}-net vote gets wrong (true label top right, "
        f"prediction bottom right, nets wrong bottom left); {in_all} are wrong in every net")
    print(f"vote of {len(files)} nets: {errors} errors, test {100 * (1 - errors / len(labels)):.2f}%")


def final_net_figure(results_dir, study, stem, args):
    """The final net's figure: `stem`.png for the default fast protocol, `stem`-book.png for the book's."""
    suffix = "" if args.protocol == "fast" else f"-{args.protocol}"
    return results_dir / "figures" / study / f"{stem}{suffix}.png"


def learning_curves(study, name, protocol, results_dir):
    folder = results_dir / "histories" / study
    histories = {path.stem.rsplit("-", 1)[-1]: read_history(path)
                 for path in sorted(folder.glob(f"{name}-{protocol}-seed*.csv"))}
    if histories:
        plots.learning_curves(histories, results_dir / "figures" / study / f"{name}-{protocol}.png",
                              title=f"{name} ({protocol} protocol)")


def main(study, rows, ensemble, description, argv=None):
    args = common.parser(description, rows, protocols=("fast", "book")).parse_args(argv)
    names = common.select_rows(rows, args.rows)
    strategy = choose_strategy(args.strategy)  # first: a bad TF_CONFIG stops before any writing
    dirs = results_dir, runs_dir = common.output_dirs(args, study)
    splits = load_splits(args.quick)
    for name in names:
        row = rows[name]
        seeds = 1 if args.quick else (args.seeds or (3 if args.protocol == "book" else row.seeds))
        for seed in range(seeds):
            if common.is_done(study, row.keys, seed, args.protocol, results_dir, args.redo):
                print(f"{name} seed {seed} ({args.protocol}): done, skipped (--redo reruns it)")
                continue
            result = run_row(study, name, row, seed, args, dirs, splits, strategy)
            if not is_chief(strategy):
                continue
            if name == ensemble[0] and seed == 0 and "conv1" in [l.name for l in result.model.layers]:
                plots.first_layer_filters(
                    result.model.get_layer("conv1").get_weights()[0],
                    final_net_figure(results_dir, study, "first_layer_filters", args),
                    title=f"{row.model}: the 20 learned 5×5 filters of conv1 (seed 0)")
                result.model.save(runs_dir / f"{name}-{args.protocol}-seed0" / "model.keras")
        if not is_chief(strategy):
            continue
        learning_curves(study, name, args.protocol, results_dir)
        if name == ensemble[0]:  # the documented vote is of the row's 5 nets, whatever --seeds
            vote(study, name, ensemble[1], 1 if args.quick else row.seeds, args, results_dir,
                 splits)
    if is_chief(strategy):
        results.write_tables([study], results_dir=results_dir)
        if not args.quick:  # a --quick run's figures are not what the targets are about
            print(targets_markdown(study_targets(study, results_dir)))
        print(f"results: {results_dir / (study + '.md')}")
    return 0
