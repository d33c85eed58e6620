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
- `missing`: no run measured it; `not run: needs download` when the figure's source is a
  protocol that downloads its data or weights (protocols.csv `needs`) and nothing ran it: no
  failure, the machine could not reach them.

A figure whose `rule` (documented.csv) is `ci95`, such as a claimed paired gain, is judged by the
95% t-interval of the mean over its runs (seeds or folds) instead of a tolerance: `above` when the
interval lies beyond the documented value on the better side, `miss` when it lies beyond it on
the worse side (for better=none: `match` when it holds the value, `miss` when not), `not shown`
when it holds the value (also with fewer than 2 runs), which is no failure either.

That is the comparison of the package's reference results (`results/`, `is_reference`). A
student's own results directory is compared three-way: the documented figure, the reference's
figures and theirs, the status judging theirs; a figure they did not run is `not run`, which is
no failure.

Comparisons use exact decimal arithmetic on the stored numbers, so 99.40 vs 99.60 with tolerance
0.20 is a match and never flips on binary floating point.
"""

import math
import statistics
from decimal import Decimal
from pathlib import Path

import pandas as pd

from keras_cnn_course.results.documented import (documented_for, protocol_rank, study_protocols,
                                                 undocumented_notes)
from keras_cnn_course.results.documented import results_dir as resolve
from keras_cnn_course.results.runs import load_runs

VALIDATION = "validation_accuracy"
NEEDS_DOWNLOAD = "not run: needs download"
STATUSES = ("match", "above", "not shown", "miss", "missing", "not run", NEEDS_DOWNLOAD)
FAILING = ("miss", "missing")
CONFIDENCE = 0.95


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


def t_interval(values, confidence=CONFIDENCE):
    """(low, high): the two-sided t-interval of the mean of `values` (None with fewer than 2)."""
    from scipy import stats

    values = [float(value) for value in values]
    if len(values) < 2:
        return None
    mean, sem = statistics.mean(values), statistics.stdev(values) / math.sqrt(len(values))
    half = float(stats.t.ppf((1 + confidence) / 2, len(values) - 1)) * sem
    return mean - half, mean + half


def interval_status(interval, documented, better):
    """above / not shown / miss (match / miss for better=none) for an interval of the mean, or
    missing without runs ((None, 0)); `not shown` without an interval (one run)."""
    if interval is None:
        return "not shown"
    low, high = interval
    holds = low <= documented <= high
    if better == "none":
        return "match" if holds else "miss"
    if holds:
        return "not shown"
    beyond = low > documented if better == "higher" else high < documented
    return "above" if beyond else "miss"


def is_reference(results_dir=None):
    """True when `results_dir` is the package's reference results, <repo root>/results (None is)."""
    return _same(resolve(results_dir), resolve(None))


def is_three_way(results_dir=None, reference_dir=None):
    """True when `results_dir` is not `reference_dir` (default: the package's reference results),
    so that `compare` sets the reference's figures beside its own."""
    return not _same(resolve(results_dir), resolve(reference_dir))


def _same(one, other):
    return Path(one).resolve() == Path(other).resolve()


def compare(study, results_dir=None, documented=None, reference_dir=None):
    """One row per (documented figure, protocol) with the figures of `results_dir`, delta and
    status (a DataFrame).

    When `results_dir` is not `reference_dir` (default: the package's reference results), the
    comparison is three-way: each row also has the reference's n, mean, std and best by
    validation (`reference_n`, ...), the rows are the protocols either one ran, and the status
    of a row without a run of yours is `not run`.
    """
    directory, reference = resolve(results_dir), resolve(reference_dir)
    figures = documented_for(study, documented)
    runs = load_runs(study, directory)
    three_way = is_three_way(directory, reference)
    reference_runs = load_runs(study, reference) if three_way else runs.iloc[0:0]
    rows, rank, downloads = [], protocol_rank(study), downloading_protocols(study)
    for figure in figures.itertuples(index=False):
        mine, theirs = _measuring(runs, figure), _measuring(reference_runs, figure)
        protocols = sorted(dict.fromkeys([*theirs["protocol"], *mine["protocol"]]), key=rank)
        for protocol in protocols or [""]:
            row = _compare_one(figure, mine[mine["protocol"] == protocol], protocol,
                               theirs[theirs["protocol"] == protocol] if three_way else None)
            if not protocols and figure.source in downloads:
                row |= {"protocol": figure.source, "status": NEEDS_DOWNLOAD}
            rows.append(row)
    return pd.DataFrame(rows)


UNDOCUMENTED_METRICS = ("accuracy_gain", "test_error", "test_accuracy")


def measured_without_figure(study, results_dir=None):
    """What the runs measured without a documented figure (undocumented_keys.csv: controls, the
    conditions behind a claimed gain, gains no source claims): one row per (key, protocol), in
    that file's order, with its note, its metric (the first of UNDOCUMENTED_METRICS it records),
    n, mean, std and the 95% t-interval of the mean."""
    runs = load_runs(study, resolve(results_dir))
    rank, rows = protocol_rank(study), []
    for key, note in undocumented_notes(study).items():
        measuring = runs[runs["key"] == key]
        for protocol in sorted(dict.fromkeys(measuring["protocol"]), key=rank):
            group = measuring[measuring["protocol"] == protocol]
            metric = next((name for name in UNDOCUMENTED_METRICS
                           if name in group and group[name].notna().any()), None)
            if metric is None:
                continue
            values = [as_decimal(value) for value in group[metric].dropna()]
            summary = {"n": len(values), "mean": statistics.mean(values),
                       "std": statistics.stdev(values) if len(values) > 1 else None}
            low, high = t_interval(values) or (None, None)
            rows.append({"key": key, "protocol": protocol, "metric": metric, **_floats(summary),
                         "ci_low": _float(low), "ci_high": _float(high), "note": note})
    return pd.DataFrame(rows, columns=["key", "protocol", "metric", "n", "mean", "std",
                                       "ci_low", "ci_high", "note"])


def downloading_protocols(study):
    """The study's protocols that need a download (protocols.csv `needs` filled in)."""
    protocols = study_protocols(study)
    if "needs" not in protocols:
        return set()
    return set(protocols.loc[protocols["needs"].fillna("").str.len() > 0, "protocol"])


def _measuring(runs, figure):
    """The runs that measure the figure: its key, with a value of its metric."""
    runs = runs[runs["key"] == figure.key]
    return runs[runs[figure.metric].notna()] if figure.metric in runs.columns else runs.iloc[0:0]


def _compare_one(figure, runs, protocol, reference=None):
    """One row of the comparison; with `reference` (runs) a three-way one."""
    rule = getattr(figure, "rule", "") or "tolerance"
    row = {"key": figure.key, "model": figure.model, "metric": figure.metric, "unit": figure.unit,
           "protocol": protocol, "documented": figure.value, "tolerance": figure.tolerance,
           "better": figure.better, "rule": rule}
    if reference is not None:
        theirs = _floats(_summary(figure, reference))
        row |= {f"reference_{name}": value for name, value in theirs.items()}
    figures = _summary(figure, runs)
    best, mean = figures["best_by_validation"], figures["mean"]
    judged = mean if best is None or rule == "ci95" else best
    verdict = status(judged, figure.value, figure.tolerance, figure.better)
    interval = t_interval(runs[figure.metric]) if len(runs) else None
    if rule == "ci95" and verdict != "missing":
        verdict = interval_status(interval, figure.value, figure.better)
    if reference is not None and verdict == "missing":
        verdict = "not run"
    delta = None if judged is None else judged - as_decimal(figure.value)
    low, high = interval or (None, None)
    return row | _floats(figures) | {"ci_low": _float(low), "ci_high": _float(high)} | {
        "delta": _float(delta), "status": verdict, "source": f"{figure.source}: {figure.locator}",
        "note": figure.note}


def _summary(figure, runs):
    """n, and the mean, std and best by validation (Decimals, None if none) of the figure's
    metric over the runs."""
    values = [as_decimal(v) for v in runs[figure.metric]] if len(runs) else []
    best = None
    if VALIDATION in runs.columns and runs[VALIDATION].notna().any():
        # the run with the best validation accuracy, ties to the later run (training.selection)
        best = values[max(runs[VALIDATION].reset_index(drop=True).dropna().items(),
                          key=lambda item: (item[1], item[0]))[0]]
    return {"n": len(values), "mean": statistics.mean(values) if values else None,
            "std": statistics.stdev(values) if len(values) > 1 else None,
            "best_by_validation": best}


def _floats(summary):
    return {name: value if name == "n" else _float(value) for name, value in summary.items()}


def _float(value):
    return float("nan") if value is None else float(value)


def failing(comparison):
    """True when any row is a miss or missing (what `kcc compare` exits 1 on); a `not run` row
    (a figure you did not run) does not fail."""
    return bool(comparison["status"].isin(FAILING).any())


def number(value, signed=False):
    """A figure for a table: up to 3 decimals, trailing zeros dropped, "–" when absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:+.3f}" if signed else f"{value:.3f}"
    return text.rstrip("0").rstrip(".")
