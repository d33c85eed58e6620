"""The book's selection rule: report the test figure at the epoch with the best validation figure.

Nielsen, NNDL ch. 6 (network3.py): after each epoch the network is scored on the validation set;
whenever the validation accuracy is at least the best so far, the test accuracy of that epoch
becomes the reported figure. Ties therefore go to the LATER epoch. The same rule picks, among
several runs, the one whose selected validation figure is best.
"""

import math


def best_index(values, mode="max"):
    """Index of the best value, ties to the later position; NaN/None never win.

    Raises ValueError when there is no comparable value.
    """
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    sign = 1 if mode == "max" else -1
    best = None
    for index, value in enumerate(values):
        if value is None or math.isnan(value):
            continue
        if best is None or sign * value >= sign * values[best]:
            best = index
    if best is None:
        raise ValueError("no value to select from (all missing or NaN)")
    return best


def select_epoch(history, monitor="val_accuracy", mode="max"):
    """Index (0-based) of the selected epoch in a history dict of per-epoch lists."""
    if monitor not in history:
        raise ValueError(
            f"history has no {monitor!r} to select by; it has {sorted(history)}. "
            "Pass validation data to fit, or choose another monitor."
        )
    return best_index(list(history[monitor]), mode)


def selected_metrics(history, monitor="val_accuracy", mode="max"):
    """Every metric of the history at the selected epoch, plus `epoch` (1-based)."""
    index = select_epoch(history, monitor, mode)
    figures = {name: values[index] for name, values in history.items()}
    figures["epoch"] = index + 1
    return figures
