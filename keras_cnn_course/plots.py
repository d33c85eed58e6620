"""Figures a student would rather look at than read: learning curves, misclassified digits, filters.

Every figure of the package, these and the lecture's and results' `matplotlib.figure.Figure`s, is
written by `save`: atomically (via a temporary file), with matplotlib's Agg backend.
"""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save(figure, path, *, dpi=120, tight=True):
    """Write `figure` (from pyplot or a `matplotlib.figure.Figure`) to `path` via a temporary file,
    in the format its suffix names (PNG without one); `tight` crops the margins to the drawing.
    A pyplot figure is closed afterwards. Returns the path."""
    from keras_cnn_course.data.cache import atomic_path  # loads TensorFlow: only when writing

    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=dpi,
                       bbox_inches="tight" if tight else None)
    if figure.canvas.manager is not None:  # held by pyplot until closed
        plt.close(figure)
    return path


def learning_curves(histories, path, title=""):
    """Accuracy per epoch (train, validation, test) for each run: `histories` maps label -> dict."""
    figure, axis = plt.subplots(figsize=(7, 4))
    styles = {"accuracy": ":", "val_accuracy": "-", "test_accuracy": "--"}
    for index, (label, history) in enumerate(histories.items()):
        color = f"C{index % 10}"
        for metric, style in styles.items():
            if metric in history:
                values = 100 * np.asarray(history[metric], dtype=float)
                name = {"accuracy": "train", "val_accuracy": "validation", "test_accuracy": "test"}
                axis.plot(history["epoch"], values, style, color=color,
                          label=f"{label} {name[metric]}")
    axis.set(xlabel="epoch", ylabel="accuracy (%)", title=title)
    low = min(min(100 * np.asarray(h.get("val_accuracy", [100]))) for h in histories.values())
    axis.set_ylim(max(low - 1, 0), 100)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, ncol=2)
    return save(figure, path)


def misclassified_digits(images, labels, predictions, path, title="", columns=11, notes=None):
    """Every misclassified digit as in Nielsen's figure: true label top right, prediction below it.

    `notes`, one string per example, is drawn bottom left in grey (the vote's: how many nets erred).
    """
    wrong = np.flatnonzero(np.asarray(labels) != np.asarray(predictions))
    rows = max(1, math.ceil(len(wrong) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9 + 0.4))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, index in zip(np.ravel(axes), wrong):
        axis.imshow(np.squeeze(images[index]), cmap="gray_r")
        axis.text(1.0, 1.0, str(labels[index]), transform=axis.transAxes, ha="right", va="top",
                  color="tab:green", fontsize=9)
        axis.text(1.0, 0.0, str(predictions[index]), transform=axis.transAxes, ha="right",
                  va="bottom", color="tab:red", fontsize=9)
        if notes is not None:
            axis.text(0.0, 0.0, notes[index], transform=axis.transAxes, ha="left", va="bottom",
                      color="tab:gray", fontsize=7)
    figure.suptitle(title or f"{len(wrong)} misclassified test digits (true label top right, "
                    "prediction bottom right)", fontsize=9)
    return save(figure, path)


def first_layer_filters(kernel, path, title="first-layer filters"):
    """The kernels of a Conv2D layer, (kh, kw, 1, filters), one small grey image each."""
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or kernel.shape[2] != 1:
        raise ValueError(f"kernel must be (kh, kw, 1, filters); got shape {kernel.shape}")
    filters = kernel.shape[-1]
    columns = min(filters, 10)
    rows = math.ceil(filters / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.8, rows * 0.8 + 0.3))
    for index, axis in enumerate(np.ravel(axes)):
        axis.axis("off")
        if index < filters:
            axis.imshow(kernel[:, :, 0, index], cmap="gray_r", interpolation="nearest")
    figure.suptitle(title, fontsize=9)
    return save(figure, path)
