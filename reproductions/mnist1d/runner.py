"""How the rows of `rows.py` train: the seeds of the rows that share a recipe as copies inside
one compiled step (dealt out to worker processes side by side), then the curves of fig. 10.8."""

import dataclasses
import functools
import time

import keras
import numpy as np
import pandas as pd

from keras_cnn_course import data, plots, results
from keras_cnn_course.arguments import positive_int
from keras_cnn_course.models import get_model
from keras_cnn_course.training.multi_seed import Copy, train_copies
from keras_cnn_course.training.side_by_side import side_by_side
from reproductions import study
from reproductions.mnist1d.rows import ROWS

QUICK = dict(epochs=2, steps_per_epoch=20, steps_per_execution=10, jit_compile=False)
WORKERS = 2  # see keras_cnn_course.training.side_by_side
QUICK_SEEDS = 2  # two copies per row, so the quick path exercises the copies too
CURVES = {"fig10_8": ["cnn", "fc", "cnn_shuffled", "fc_shuffled"],
          "6000_steps": ["mlp", "benchmark_cnn", "benchmark_mlp", "benchmark_cnn_shuffled",
                         "benchmark_mlp_shuffled"]}


def load(shuffle_seq):
    arrays = data.load_mnist1d(shuffle_seq=shuffle_seq)
    return ((arrays["x"].astype("float32"), arrays["y"]),
            (arrays["x_test"].astype("float32"), arrays["y_test"]))


def network(model):
    return functools.partial(get_model, model, classifier_activation=None)  # picklable


def train(runs, context):
    """Train the runs of each recipe together (its rows' seeds as copies), shared among
    `--workers` processes side by side; record each run and yield it when its share finishes."""
    recipes = list(dict.fromkeys(ROWS[run.row].recipe for run in runs))
    for recipe in recipes:
        pending = [run for run in runs if ROWS[run.row].recipe == recipe]
        if context.args.quick:
            recipe = dataclasses.replace(recipe, **QUICK)
        size = {run.row: get_model(ROWS[run.row].model).count_params() for run in pending}
        by_size = sorted(pending, key=lambda run: -size[run.row])  # dealt out: equal work a share
        workers = context.args.workers
        shares = [by_size[i::workers] for i in range(workers) if by_size[i::workers]]
        tensorboard = context.checkpoints if context.args.tensorboard else None
        arguments = [(recipe, share, context.args.quick, tensorboard) for share in shares]
        for share, result, parameters in side_by_side(train_share, arguments, len(shares)):
            record_share(context, recipe, share, result, parameters)
            yield from share


def train_share(recipe, share, quick, tensorboard=None):
    """Train one share of the runs as copies: (share, result without the models, their sizes)."""
    datasets = {flag: load(flag) for flag in {ROWS[run.row].shuffle_seq for run in share}}
    copies = [Copy(run.name, network(ROWS[run.row].model), run.seed,
                   *datasets[ROWS[run.row].shuffle_seq]) for run in share]
    print(f"training {len(copies)} copies together for {recipe.epochs * recipe.steps_per_epoch:,} "
          f"steps: {', '.join(copy.name for copy in copies)}", flush=True)
    callbacks = [Progress(recipe.epochs, len(copies))]
    if tensorboard:  # one log for the copies trained together
        folder = f"{share[0].name}+{len(share) - 1}" if len(share) > 1 else share[0].name
        callbacks.append(keras.callbacks.TensorBoard(str(tensorboard / folder / "tensorboard")))
    result = train_copies(copies, recipe, verbose=2 if quick else 0, callbacks=callbacks)
    print(f"{len(copies)} copies: {result.steps_per_second:.0f} steps/s of the compiled step "
          f"({result.steps_per_second * len(copies):.0f} copy-steps/s), wall {result.wall_seconds:.0f} s",
          flush=True)
    parameters = [model.count_params() for model in result.models]
    return share, dataclasses.replace(result, models=None), parameters


def record_share(context, recipe, share, result, parameters):
    images_per_second = result.steps * recipe.batch_size * len(share) / result.train_seconds
    for run, count in zip(share, parameters):
        final = result.final.set_index("name").loc[run.name]
        metrics = {"test_error": final.test_error, "train_error": final.train_error,
                   "test_accuracy": 100 - final.test_error, "train_accuracy": 100 - final.train_error,
                   "test_loss": final.test_loss, "train_loss": final.train_loss,
                   "parameters": count, "copies": len(share),
                   "steps_per_second": result.steps_per_second}
        context.append_run(run, metrics, wall_seconds=result.wall_seconds, epochs=recipe.epochs,
                           steps=result.steps, images_per_second=images_per_second,
                           precision=recipe.dtype_policy, started=result.started)
        history = result.curves[result.curves["name"] == run.name].drop(columns=["copy", "name"])
        context.keep_history(run, frame=history)


class Progress(keras.callbacks.Callback):
    """A one-line note every tenth of the run (a progress bar per epoch is too chatty for 100)."""

    def __init__(self, epochs, copies):
        super().__init__()
        self.epochs, self.copies, self.start = epochs, copies, time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % max(1, self.epochs // 10) == 0:
            print(f"  {self.copies} copies, epoch {epoch + 1}/{self.epochs}: summed loss "
                  f"{logs['loss']:.4f}, "
                  f"{time.perf_counter() - self.start:.0f} s", flush=True)


def histories(study, name, protocol, results_dir):
    """The curves of every seed of a row, one frame with a `seed` column (None when absent)."""
    paths = sorted((results_dir / "histories" / study).glob(f"{name}-{protocol}-seed*.csv"))
    frames = [pd.read_csv(path).assign(seed=path.stem.rsplit("seed", 1)[1]) for path in paths]
    return pd.concat(frames) if frames else None


def curves_figure(panels, path, title):
    """Train (dashed) and test (solid) error against steps: mean over seeds, band min..max."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for axis, (label, curves) in zip(axes[0], panels.items()):
        for index, (name, frame) in enumerate(curves.items()):
            by_step = frame.groupby("step")
            for metric, style in (("train_error", "--"), ("test_error", "-")):
                mean, low, high = (by_step[metric].agg(f) for f in ("mean", "min", "max"))
                color = f"C{index}"
                axis.plot(mean.index, mean, style, color=color,
                          label=f"{name} {metric.split('_')[0]} ({frame.seed.nunique()} seeds)")
                axis.fill_between(mean.index, low, high, color=color, alpha=0.2, linewidth=0)
        axis.set(title=label, xlabel="step", ylabel="error (%)", ylim=(0, 100))
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    return plots.save(figure, path)


def draw_figures(study, protocol, results_dir):
    """UDL fig. 10.8 (CNN vs FC, and on the shuffled data) and the 6,000-step rows' curves."""
    figures = results_dir / "figures"
    found = {name: histories(study, name, protocol, results_dir)
             for names in CURVES.values() for name in names}
    pairs = [("original order", ["cnn", "fc"]), ("spatially shuffled", ["cnn_shuffled", "fc_shuffled"])]
    panels = {label: {name: found[name] for name in names if found[name] is not None}
              for label, names in pairs}
    panels = {label: curves for label, curves in panels.items() if curves}
    if panels:
        curves_figure(panels, figures / f"{study}_fig10_8.png", "MNIST-1D as in UDL fig. 10.8: "
                      "SGD lr 0.01, batch 100 (mean over seeds; band: min..max)")
    short = {name: found[name] for name in CURVES["6000_steps"] if found[name] is not None}
    if short:
        panels = {"UDL ch. 8 MLP (SGD lr 0.1)": {n: f for n, f in short.items() if n == "mlp"},
                  "mnist1d benchmark (Adam lr 1e-2)": {n: f for n, f in short.items() if n != "mlp"}}
        curves_figure({k: v for k, v in panels.items() if v}, figures / f"{study}_6000_steps.png",
                      "MNIST-1D, 6,000 steps, batch 100 (mean over seeds; band: min..max)")


def summary(study, rows, names, protocol, results_dir):
    """Mean ± std of the final errors per row, controls included (they have no documented row)."""
    runs = results.load_runs(study, results_dir)
    lines = []
    for name in names:
        mine = runs[(runs["key"] == rows[name].keys[0]) & (runs["protocol"] == protocol)]
        if len(mine):
            figures = [f"{metric} {mine[metric].mean():.1f} ± {np.nan_to_num(mine[metric].std()):.1f}"
                       for metric in ("test_error", "train_error")]
            lines.append(f"  {name:24s} n={len(mine)}  " + ", ".join(figures) + " (%)")
    return "\n".join(lines)


def finish(context):
    draw_figures(context.study.name, context.args.protocol, context.results_dir)
    names = [row for row in ROWS if not context.args.rows or row in context.args.rows]
    summary_text = summary(context.study.name, ROWS, names, context.args.protocol,
                           context.results_dir)
    print(f"final errors:\n{summary_text}")


def options(cli):
    cli.add_argument("--workers", type=positive_int, default=WORKERS, metavar="N",
                     help=f"share each recipe's runs among N processes side by side, one thread "
                          f"each (default {WORKERS})")


STUDY = study.Study(
    name="mnist1d", module="reproductions.mnist1d",
    description="The MNIST-1D study of Understanding Deep Learning, reproduced: "
    "`make reproduce-mnist1d`.",
    rows=ROWS, train=train, finish=finish, protocols=("book",), quick_seeds=QUICK_SEEDS,
    one_device_reason="trains its seeds as copies inside one compiled step on one device",
    options=options, quiet=True)


def main(argv=None):
    return study.run(STUDY, argv)
