"""How the rows of `rows.py` train: data per regime, one `training.fit` per run, the vote, figures."""

import dataclasses

import keras
import numpy as np

from keras_cnn_course import data, plots, results
from keras_cnn_course.models import get_model, load_model
from keras_cnn_course.training import fit, read_history
from reproductions import study
from reproductions.nielsen_mnist.rows import ENSEMBLE, ROWS

QUICK_SIZES = {"train": 1000, "validation": 500, "test": 500}
BOOK_SEEDS = 3  # the book ran each configuration three times


def load_splits(quick):
    splits = data.load_mnist()
    if not quick:
        return splits
    return data.MnistSplits(*[(x[:QUICK_SIZES[name]], y[:QUICK_SIZES[name]])
                              for name, (x, y) in zip(splits._fields, splits)])


def training_data(splits, regime, recipe, batch_size, distortions=None, pixel_scale=1 / 255):
    """The training pipeline: the 50k as is or 1-pixel expanded, with random distortions if any.

    Build it once seeded (as `fit` does with a function of the batch): tf.data's shuffle combines
    its seed with TensorFlow's global seed.
    """
    x, y = splits.train
    if regime == "expanded":
        x, y = data.expand_mnist(x, y, seed=0)  # shuffled once, as expand_mnist.py does
    augment = data.augmentation(recipe.seed, **distortions) if distortions else None
    shuffle_seed = recipe.seed if recipe.shuffle else None
    return data.arrays_dataset(x, y, batch_size, shuffle_seed=shuffle_seed, augment=augment,
                               pixel_scale=pixel_scale)


class TestPredictions(keras.callbacks.Callback):
    """Keeps each epoch's predicted test labels in the run's log directory, for the vote."""

    def __init__(self, images):
        super().__init__()
        self.images, self.log_dir = images, None  # `fit` sets log_dir

    def on_epoch_end(self, epoch, logs=None):
        # a plain call, not predict(): under several workers predict() gathers its outputs
        # across them, which bfloat16 outputs do not support
        labels = np.concatenate([np.argmax(self.model(images, training=False), axis=1)
                                 for images in self.images]).astype(np.uint8)
        np.save(self.log_dir / f"test_predictions_epoch{epoch + 1}.npy", labels)


def train(runs, context):
    """Train each run with `training.fit`; record its row, history and selected predictions."""
    splits = load_splits(context.args.quick) if runs else None
    for run in runs:
        result = train_one(run, context, splits)
        print(f"{run.name}: test {100 * result.selected['test_accuracy']:.2f}% at epoch "
              f"{result.selected_epoch} (validation {100 * result.selected['val_accuracy']:.2f}%),"
              f" {result.wall_seconds:.0f} s, {result.images_per_second:.0f} images/s", flush=True)
        yield run


def train_one(run, context, splits):
    row = ROWS[run.row]
    recipe = row.recipe(run.protocol, run.seed)
    if context.args.quick:
        recipe = dataclasses.replace(recipe, epochs=1, warmup_epochs=0)
    scale = row.pixel_scale(run.protocol)
    distortions = row.random_distortions(run.protocol)
    test = data.arrays_dataset(*splits.test, 1000, pixel_scale=scale)
    predictions = TestPredictions(test.map(lambda images, labels: images))
    options = row.model_options(run.protocol)
    result = fit(lambda: get_model(row.model, **options), recipe,
                 lambda batch: training_data(splits, row.data, recipe, batch, distortions, scale),
                 data.arrays_dataset(*splits.validation, 1000, pixel_scale=scale), test,
                 strategy=context.strategy, log_dir=context.run_dir(run),
                 verbose=2 if context.args.quick else "auto",
                 tensorboard=context.args.tensorboard, callbacks=[predictions])
    selected = result.log_dir / f"test_predictions_epoch{result.selected_epoch}.npy"
    context.keep_predictions(run, np.load(selected))
    context.keep_history(run, result.log_dir / "history.csv")
    context.append_fit(run, result, extra_metrics={"parameters": result.model.count_params()})
    if run.row == ENSEMBLE[0] and run.seed == 0 and context.writes:
        result.model.save(context.run_dir(run) / "model.keras")  # its filters: `finish`
    return result


def plurality_vote(predictions):
    """The most common label per example over several nets' predictions (ties: smallest label)."""
    predictions = np.asarray(predictions)
    votes = np.zeros((predictions.shape[1], 10), np.int64)
    for labels in predictions:
        votes[np.arange(len(labels)), labels] += 1
    return votes.argmax(axis=1)


def vote(context, name, keys, seeds, splits):
    """The plurality vote of seeds 0..seeds-1; appended as one result row (seed 0 = the vote)."""
    protocol = context.args.protocol
    files = [context.predictions_path(study.Run(name, seed, protocol)) for seed in range(seeds)]
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
    results_row = {"test_accuracy": 100 * (1 - errors / len(labels)), "test_errors": errors,
                   "ensemble_size": len(files)}
    results.append_run(context.study.name, list(keys), 0, protocol, results_row,
                       wall_seconds=0.0, replace=True, results_dir=context.results_dir,
                       command=context.command())
    in_all = int((nets_wrong[voted != labels] == len(files)).sum())
    plots.misclassified_digits(
        splits.test[0], labels, voted, final_net_figure(context, "misclassified"),
        notes=[f"{k}/{len(files)}" for k in nets_wrong],
        title=f"{errors} test digits the {len(files)}-net vote gets wrong (true label top right, "
        f"prediction bottom right, nets wrong bottom left); {in_all} are wrong in every net")
    print(f"vote of {len(files)} nets: {errors} errors, test {100 * (1 - errors / len(labels)):.2f}%")


def final_net_figure(context, stem):
    """The final net's figure: `stem`.png for the default fast protocol, `stem`-book.png for the book's."""
    protocol = context.args.protocol
    return context.figure(f"{stem}{'' if protocol == 'fast' else f'-{protocol}'}.png")


def learning_curves(context, name):
    protocol = context.args.protocol
    folder = context.results_dir / "histories" / context.study.name
    histories = {path.stem.rsplit("-", 1)[-1]: read_history(path)
                 for path in sorted(folder.glob(f"{study.run_name(name, protocol, '*')}.csv"))}
    if histories:
        plots.learning_curves(histories, context.figure(f"{name}-{protocol}.png"),
                              title=f"{name} ({protocol} protocol)")


def finish(context):
    """Learning curves of the rows that trained; the final net's filters; the vote when its nets
    changed (or it is missing)."""
    trained_rows = {name for name in ROWS
                    if any(run.startswith(f"{name}-") for run in context.trained)}
    for name in ROWS:
        if name in trained_rows:
            learning_curves(context, name)
    protocol = context.args.protocol
    final = study.Run(ENSEMBLE[0], 0, protocol)
    saved = context.run_dir(final) / "model.keras"
    if final.name in context.trained and saved.exists():
        weights = load_model(saved, compile=False).get_layer("conv1").get_weights()[0]
        plots.first_layer_filters(weights, final_net_figure(context, "first_layer_filters"),
                                  title=f"{ROWS[final.row].model}: the 20 learned 5×5 filters of "
                                  "conv1 (seed 0)")
    name, keys = ENSEMBLE
    done = results.completed(context.study.name, context.results_dir)
    has_vote = all((key, 0, protocol) in done for key in keys)
    selected = not context.args.rows or name in context.args.rows
    if selected and (name in trained_rows or not has_vote or context.args.redo):
        # the documented vote is of the row's 5 nets, whatever --seeds
        seeds = 1 if context.args.quick else ROWS[name].seeds
        vote(context, name, keys, seeds, load_splits(context.args.quick))


STUDY = study.Study(
    name="nielsen_mnist", module="reproductions.nielsen_mnist",
    description="Nielsen's chapter-6 MNIST progression, reproduced: `make reproduce-mnist`.",
    rows=ROWS, train=train, finish=finish, protocols=("fast", "book"),
    seeds=lambda row, protocol: BOOK_SEEDS if protocol == "book" else row.seeds,
    strategy=True)


def main(argv=None):
    return study.run(STUDY, argv)
