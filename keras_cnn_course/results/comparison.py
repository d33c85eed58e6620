"""Documented vs ours: the comparison of a study's runs with its documented figures, and the
status rule.

For each documented figure of a study and each protocol our runs used: mean ± std over the runs,
n, the best-by-validation figure (the metric of the run with the best validation accuracy, ties to
the later run, as the book picks among its runs), the delta and a status. The status judges the
best-by-validation figure where the runs record validation accuracy (the rule behind the book's
figures), otherwise the mean:

- `match`: |ours - documented| <= tolerance (exactly at the tolerance is a match);
- `above`: better than documented beyond the tolerance (higher for better=higher, lower for
  better=lower); `miss`: worse beyond it, or any difference beyond it for better=none;
- `missing`: no run measured it.

Comparisons use exact decimal arithmetic on the stored numbers, so 99.40 vs 99.60 with tolerance
0.20 is a match and never flips on binary floating point.
"""

import math
import statistics
from decimal import Decimal

import pandas as pd

from keras_cnn_course.results.documented import documented_for, protocol_rank
from keras_cnn_course.results.runs import load_runs

VALIDATION = "validation_accuracy"
STATUSES = ("match", "above", "miss", "missing")
FAILING = ("miss", "missing")


def as_decimal(value):
    """`value` as the Decimal of its shortest repr (a Decimal stays as it is)."""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def status(ours, documented, tolerance, better):
    """match / above / miss for one figure (missing when `ours` is None or NaN)."""
    if ours is None or (not isinstance(ours, Decimal) and math.isnan(ours)):
        return "missing"
    delta = as_decimal(ours) - as_decimal(documented)
    if abs(delta) <= as_decimal(tolerance):
        return "match"
    if better == "higher":
        return "above" if delta > 0 else "miss"
    if better == "lower":
        return "above" if delta < 0 else "miss"
    return "miss"


def compare(study, results_dir=None, documented=None):
    """One row per (documented figure, protocol) with ours, delta and status (a DataFrame)."""
    figures = documented_for(study, documented)
    runs = load_runs(study, results_dir)
    rows, rank = [], protocol_rank(study)
    for figure in figures.itertuples(index=False):
        mine = runs[runs["key"] == figure.key]
        if figure.metric in mine.columns:
            mine = mine[mine[figure.metric].notna()]
        else:
            mine = mine.iloc[0:0]
        protocols = sorted(dict.fromkeys(mine["protocol"]), key=rank) or [""]
        for protocol in protocols:
            rows.append(_compare_one(figure, mine[mine["protocol"] == protocol], protocol))
    return pd.DataFrame(rows)


def _compare_one(figure, runs, protocol):
    values = [as_decimal(v) for v in runs[figure.metric]] if len(runs) else []
    mean = statistics.mean(values) if values else None
    std = statistics.stdev(values) if len(values) > 1 else None
    best = None
    if VALIDATION in runs.columns and runs[VALIDATION].notna().any():
        # the run with the best validation accuracy, ties to the later run (training.selection)
        best = values[max(runs[VALIDATION].reset_index(drop=True).dropna().items(),
                          key=lambda item: (item[1], item[0]))[0]]
    judged = best if best is not None else mean
    delta = None if judged is None else judged - as_decimal(figure.value)
    return {
        "key": figure.key, "model": figure.model, "metric": figure.metric, "unit": figure.unit,
        "protocol": protocol, "documented": figure.value, "tolerance": figure.tolerance,
        "better": figure.better, "n": len(values), "mean": _float(mean), "std": _float(std),
        "best_by_validation": _float(best), "delta": _float(delta),
        "status": status(judged, figure.value, figure.tolerance, figure.better),
        "source": f"{figure.source}: {figure.locator}", "note": figure.note,
    }


def _float(value):
    return float("nan") if value is None else float(value)


def failing(comparison):
    """True when any row is a miss or missing (what `kcc compare` exits 1 on)."""
    return bool(comparison["status"].isin(FAILING).any())


def number(value, signed=False):
    """A figure for a table: up to 3 decimals, trailing zeros dropped, "–" when absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:+.3f}" if signed else f"{value:.3f}"
    return text.rstrip("0").rstrip(".")
