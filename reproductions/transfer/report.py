"""Figures of the transfer study, drawn from its results directory alone.

- figures/transfer_learning_curve.png: test accuracy against training-set size (Fashion-MNIST)
  and per fold (photos), mean ± std, for scratch / frozen / fine-tuned;
- figures/transfer_photos.png: photos with their out-of-fold predicted class (frozen case);
- figures/transfer_scratch_curves.png: the scratch network's training and validation accuracy
  per epoch, each seed or fold, from the histories (histories/transfer/<run>.csv).
"""

import numpy as np
import pandas as pd

from keras_cnn_course import results
from reproductions.transfer.conditions import CONDITIONS, PHOTO_SIZE, ROWS

STUDY = "transfer"
COLOURS = {"scratch": "tab:grey", "frozen": "tab:blue", "fine_tuned": "tab:orange"}


def read_predictions(path):
    """transfer_photo_predictions.csv, checked: its columns, every cell filled, integer folds
    >= 0, one row per photo; a ValueError names the file, line (header: line 1), column, value."""
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


def summary(runs):
    """Mean, std and n of every key's headline number (test accuracy or paired gain)."""
    value = runs["test_accuracy"] if "test_accuracy" in runs else pd.Series(np.nan, runs.index)
    if "accuracy_gain" in runs:
        value = value.fillna(runs["accuracy_gain"])
    table = runs.assign(value=value).groupby("key", sort=False)["value"]
    return pd.DataFrame({"mean": table.mean(), "std": table.std(), "n": table.count()})


def learning_curve(table, path):
    from matplotlib.figure import Figure

    from keras_cnn_course import plots  # it starts Keras: only to draw

    figure = Figure(figsize=(10, 4), layout="constrained")
    photos_axis, fashion_axis = figure.subplots(1, 2, width_ratios=[1, 2])
    for i, condition in enumerate(CONDITIONS):
        key = f"photos_{condition}"
        if key in table.index:
            row = table.loc[key]
            photos_axis.bar(i, row["mean"], yerr=row["std"], color=COLOURS[condition], capsize=4)
        rows = table[table.index.str.match(rf"fashion_\d+_{condition}$")]
        sizes = [int(k.split("_")[1]) for k in rows.index]
        if sizes:
            fashion_axis.errorbar(sizes, rows["mean"], yerr=rows["std"], marker="o", capsize=4,
                                  color=COLOURS[condition], label=condition.replace("_", "-"))
    photos_axis.set_xticks(range(3), [c.replace("_", "-") for c in CONDITIONS])
    photos_axis.set_ylabel("test accuracy (%)")
    photos_axis.set_title("Tux Paint photos (186, 6 classes)")
    fashion_axis.set_xscale("log")
    fashion_axis.set_xlabel("training images")
    fashion_axis.set_title("Fashion-MNIST (test on 2,000)")
    if fashion_axis.get_legend_handles_labels()[0]:  # no Fashion-MNIST rows: no legend
        fashion_axis.legend()
    plots.save(figure, path, dpi=100, tight=False)


def photo_grid(predictions, path, cache_dir=None, count=24):
    from matplotlib.figure import Figure

    from keras_cnn_course import plots  # it starts Keras: only to draw

    from keras_cnn_course.transfer.datasets import load_photo_stamps

    data = load_photo_stamps(PHOTO_SIZE, cache_dir)
    index = {name: i for i, name in enumerate(data["names"])}
    chosen = predictions.groupby("label", group_keys=False).head(count // 6 or 1).head(count)
    figure = Figure(figsize=(12, 2.3 * int(np.ceil(len(chosen) / 6))), layout="constrained")
    axes = figure.subplots(int(np.ceil(len(chosen) / 6)), 6, squeeze=False).ravel()
    for axis in axes:
        axis.axis("off")
    for axis, row in zip(axes, chosen.itertuples()):
        axis.imshow(data["x"][index[row.photo]])
        right = row.frozen == row.label
        axis.set_title(f"{row.frozen}" + ("" if right else f"\n(is {row.label})"), fontsize=9,
                       color="black" if right else "red")
    figure.suptitle("Out-of-fold predictions, frozen ImageNet features + new last layer")
    plots.save(figure, path, dpi=100, tight=False)


def read_histories(results_dir):
    """Every run's per-epoch history with its row and seed (an empty frame when there is none)."""
    frames = []
    for path in sorted((results_dir / "histories" / STUDY).glob("*.csv")):
        name, _, seed = path.stem.rpartition("-seed")
        row, protocol = name.rsplit("-", 1)
        frames.append(pd.read_csv(path).assign(row=row, protocol=protocol, seed=int(seed)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def scratch_curves(histories, path):
    from matplotlib.figure import Figure

    from keras_cnn_course import plots  # it starts Keras: only to draw

    scratch = histories[(histories["condition"] == "scratch")
                        & (histories["protocol"] == "offline")]
    rows = [row for row in ROWS if row in set(scratch["row"])]
    figure = Figure(figsize=(3.2 * len(rows), 3.2), layout="constrained")
    for axis, row in zip(figure.subplots(1, len(rows), squeeze=False)[0], rows):
        for seed, curve in scratch[scratch["row"] == row].groupby("seed"):
            colour = f"C{seed}"
            axis.plot(curve["epoch"], 100 * curve["accuracy"], color=colour, alpha=0.4, lw=1)
            axis.plot(curve["epoch"], 100 * curve["val_accuracy"], color=colour, lw=1.5,
                      label=f"seed {seed}")
            best = curve.loc[curve["val_accuracy"].idxmax()]
            axis.plot(best["epoch"], 100 * best["val_accuracy"], "o", color=colour)
        axis.set_title(row.replace("_", " "))
        axis.set_xlabel("epoch")
        axis.set_ylim(0, 100)
    figure.axes[0].set_ylabel("accuracy (%)")
    figure.axes[0].legend(fontsize=8)
    figure.suptitle("Scratch network: validation (bold) and training (faint) accuracy, early "
                    "stopping on the held-out training images (dot: the epoch kept)")
    plots.save(figure, path, dpi=100, tight=False)


def report(results_dir, cache_dir=None):
    runs = results.load_runs(STUDY, results_dir)
    if runs.empty:
        return
    table = summary(runs)
    print(table.round(2).to_string())
    figures = results_dir / "figures"
    learning_curve(table, figures / "transfer_learning_curve.png")
    predictions = results_dir / "transfer_photo_predictions.csv"
    if predictions.exists():
        photo_grid(read_predictions(predictions), figures / "transfer_photos.png", cache_dir)
    histories = read_histories(results_dir)
    if len(histories) and ((histories["condition"] == "scratch")
                           & (histories["protocol"] == "offline")).any():
        scratch_curves(histories, figures / "transfer_scratch_curves.png")
