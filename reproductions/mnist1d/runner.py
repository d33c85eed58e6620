"""Runs the rows of `mnist1d.py`: one compiled group of copies per recipe, result rows, figures."""

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
from reproductions import common

MODULE = "reproductions.mnist1d"
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


def pending_runs(study, rows, names, recipe_name, args, results_dir):
    """(row name, seed) of this recipe still to run; finished ones are reported and skipped."""
    pending = []
    for name in names:
        row = rows[name]
        if row.recipe != recipe_name:
            continue
        for seed in range(args.seeds or (QUICK_SEEDS if args.quick else row.seeds)):
            if common.is_done(study, row.keys, seed, args.protocol, results_dir, args.redo):
                print(f"{name} seed {seed} ({args.protocol}): done, skipped (--redo reruns it)")
            else:
                pending.append((name, seed))
    return pending


def run_group(study, rows, recipe, pending, args, results_dir):
    """Train the pending (row, seed) runs of one recipe, shared among `args.workers` processes
    side by side (each share as copies in one compiled step); append one result row each."""
    size = {name: get_model(rows[name].model).count_params() for name, _ in pending}
    by_size = sorted(pending, key=lambda run: -size[run[0]])  # dealt out: equal work per share
    shares = [by_size[i::args.workers] for i in range(args.workers) if by_size[i::args.workers]]
    arguments = [(rows, recipe, share, args.protocol, args.quick) for share in shares]
    for share, result, parameters in side_by_side(train_share, arguments, len(shares)):
        record_share(study, rows, recipe, share, result, parameters, args, results_dir)


def train_share(rows, recipe, share, protocol, quick):
    """Train one share of the runs as copies: (share, result without the models, their sizes)."""
    datasets = {flag: load(flag) for flag in {rows[name].shuffle_seq for name, _ in share}}
    copies = [Copy(f"{name}-{protocol}-seed{seed}", network(rows[name].model), seed,
                   *datasets[rows[name].shuffle_seq]) for name, seed in share]
    print(f"training {len(copies)} copies together for {recipe.epochs * recipe.steps_per_epoch:,} "
          f"steps: {', '.join(copy.name for copy in copies)}", flush=True)
    result = train_copies(copies, recipe, verbose=2 if quick else 0,
                          callbacks=[Progress(recipe.epochs, len(copies))])
    print(f"{len(copies)} copies: {result.steps_per_second:.0f} steps/s of the compiled step "
          f"({result.steps_per_second * len(copies):.0f} copy-steps/s), wall {result.wall_seconds:.0f} s",
          flush=True)
    parameters = [model.count_params() for model in result.models]
    return share, dataclasses.replace(result, models=None), parameters


def record_share(study, rows, recipe, share, result, parameters, args, results_dir):
    images_per_second = result.steps * recipe.batch_size * len(share) / result.train_seconds
    for (name, seed), count in zip(share, parameters):
        copy_name = f"{name}-{args.protocol}-seed{seed}"
        final = result.final.set_index("name").loc[copy_name]
        metrics = {"test_error": final.test_error, "train_error": final.train_error,
                   "test_accuracy": 100 - final.test_error, "train_accuracy": 100 - final.train_error,
                   "test_loss": final.test_loss, "train_loss": final.train_loss,
                   "parameters": count, "copies": len(share),
                   "steps_per_second": result.steps_per_second}
        results.append_run(study, list(rows[name].keys), seed, args.protocol, metrics,
                           wall_seconds=result.wall_seconds, epochs=recipe.epochs,
                           steps=result.steps, images_per_second=images_per_second,
                           precision=recipe.dtype_policy, replace=args.redo, results_dir=results_dir,
                           command=common.command_line(MODULE), started=result.started)
        history = result.curves[result.curves["name"] == copy_name].drop(columns=["copy", "name"])
        path = results_dir / "histories" / study / f"{copy_name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        results.write_atomic(path, history.to_csv(index=False))


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


def main(study, rows, recipes, description, argv=None):
    cli = common.parser(description, rows, protocols=("book",))
    cli.add_argument("--workers", type=positive_int, default=WORKERS, metavar="N",
                     help=f"share each recipe's runs among N processes side by side, one thread "
                          f"each (default {WORKERS})")
    args = cli.parse_args(argv)
    common.one_device_only(args, "MNIST-1D", "trains its seeds as copies inside one compiled "
                           "step on one device")
    names = common.select_rows(rows, args.rows)
    results_dir, _ = common.output_dirs(args, study)
    for recipe_name, recipe in recipes.items():
        pending = pending_runs(study, rows, names, recipe_name, args, results_dir)
        if pending:
            if args.quick:
                recipe = dataclasses.replace(recipe, **QUICK)
            run_group(study, rows, recipe, pending, args, results_dir)
    draw_figures(study, args.protocol, results_dir)
    results.write_tables([study], results_dir=results_dir)
    print(f"final errors:\n{summary(study, rows, names, args.protocol, results_dir)}")
    print(f"results: {results_dir / (study + '.md')}")
    return 0
