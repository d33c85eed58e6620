"""A study's targets (`studies/targets.csv`), measured from its runs: met or NOT met.

The documented figures are judged within a tolerance (comparison.status); a target is a sharper line
a study sets itself, such as "the final network's best-by-validation figure >= 99.60". One row per
target: study, protocol, statistic, keys, comparison (>= or <=), threshold, target (its wording).
The statistics:

- `best_by_validation`, `mean`: that figure of the comparison for one key and protocol;
- `max_wall_seconds`: the slowest run of one key (time per network);
- `training_minutes`: the protocol's training wall time (timing.training_time); `partial` when
  some of the protocol's documented figures were not run, so the time is not the whole study's;
- `rows_within_tolerance`: the protocol's rows that are `match` or `above`, out of all of them
  (`keys`: `*` for every row, or the keys to count, space-separated); met when all are.

On a student's own results directory every target is measured from their runs: the rows they did
not run (`not run`) do not count.
"""

import operator
from pathlib import Path

import pandas as pd

from keras_cnn_course.results.documented import study_file
from keras_cnn_course.results.runs import load_runs
from keras_cnn_course.results.comparison import as_decimal, compare, number
from keras_cnn_course.results.timing import training_time

COLUMNS = ("study", "protocol", "statistic", "keys", "comparison", "threshold", "target")
COMPARISONS = {">=": operator.ge, "<=": operator.le}
UNITS = {"max_wall_seconds": " s", "training_minutes": " min"}
STATISTICS = ("best_by_validation", "mean", "max_wall_seconds", "training_minutes",
              "rows_within_tolerance")


def load_targets(path=None):
    """targets.csv as a DataFrame; a ValueError names a wrong column, statistic or comparison."""
    path = Path(path) if path else study_file("targets.csv")
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}; expected {list(COLUMNS)}")
    for column, allowed in (("statistic", STATISTICS), ("comparison", ("", *COMPARISONS))):
        wrong = sorted(set(frame[column]) - set(allowed))
        if wrong:
            raise ValueError(f"{path}: {column} must be one of {allowed}, found {wrong}")
    for row in frame.itertuples(index=False):
        if row.statistic != "rows_within_tolerance" and not _is_number(row.threshold):
            raise ValueError(f"{path}: the {row.statistic} target {row.target!r} needs a "
                             f"comparison and a numeric threshold; got {row.threshold!r}")
        if row.statistic != "rows_within_tolerance" and not row.comparison:
            raise ValueError(f"{path}: the {row.statistic} target {row.target!r} needs a "
                             f"comparison (one of {tuple(COMPARISONS)})")
    return frame


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def measure(target, comparison, runs, study):
    """(measured text, status) of one target: status is met, NOT met, partial or missing."""
    rows = comparison[(comparison["protocol"] == target.protocol)
                      & (comparison["status"] != "not run")]
    keys = target.keys.split()
    if target.statistic == "rows_within_tolerance":
        if keys != ["*"]:
            rows = rows[rows["key"].isin(keys)]
        good = int(rows["status"].isin(("match", "above")).sum())
        if rows.empty or (keys != ["*"] and set(rows["key"]) != set(keys)):
            return "–", "missing"
        failing = ", ".join(f"{row.key} {row.status}" for row in rows.itertuples()
                            if row.status not in ("match", "above"))
        text = f"{good} of {len(rows)}" + (f" ({failing})" if failing else "")
        return text, "met" if good == len(rows) else "NOT met"
    if target.statistic in ("best_by_validation", "mean"):
        row = rows[rows["key"] == keys[0]]
        value = row[target.statistic].iloc[0] if len(row) else float("nan")
        several = target.statistic == "mean" and len(row) and row["n"].iloc[0] > 1
        text = number(value) + (f" (n = {row['n'].iloc[0]})" if several else "")
    elif target.statistic == "max_wall_seconds":
        mine = runs[(runs["key"] == keys[0]) & (runs["protocol"] == target.protocol)]
        value = mine["wall_seconds"].max() if len(mine) else float("nan")
        text = f"{value:.0f} s" if len(mine) else "–"
    else:  # training_minutes
        minutes = training_time(runs, study).get(target.protocol)
        value = minutes[0] if minutes else float("nan")
        text = f"{value:.1f} min" if minutes else "–"
        figures = comparison[comparison["protocol"] == target.protocol]
        ran = int((~figures["status"].isin(("not run", "missing"))).sum())
        if minutes and ran < len(figures):  # some of the protocol's figures were not run
            return f"{text} for {ran} of {len(figures)} figures", "partial"
    if pd.isna(value):
        return "–", "missing"
    met = COMPARISONS[target.comparison](as_decimal(value), as_decimal(float(target.threshold)))
    return text, "met" if met else "NOT met"


def study_targets(study, results_dir=None, documented=None, targets=None, *, reference_dir=None):
    """One row per target of the study, measured from the runs of `results_dir`: target,
    protocol, measured, required, status."""
    targets = load_targets() if targets is None else targets
    comparison = compare(study, results_dir, documented, reference_dir)
    runs = load_runs(study, results_dir)
    rows = []
    for target in targets[targets["study"] == study].itertuples(index=False):
        measured, status = measure(target, comparison, runs, study)
        unit = UNITS.get(target.statistic, "")
        required = "all" if target.statistic == "rows_within_tolerance" else (
            f"{target.comparison} {target.threshold}{unit}")
        rows.append({"target": target.target, "protocol": target.protocol, "measured": measured,
                     "required": required, "status": status})
    return pd.DataFrame(rows, columns=["target", "protocol", "measured", "required", "status"])


def targets_markdown(table, heading="##"):
    """The targets as a markdown section ('' when the study has none)."""
    if table.empty:
        return ""
    lines = [f"{heading} Targets\n", "Measured from the runs; `targets.csv` sets them.\n",
             "| target | protocol | measured | required | status |", "|" + "---|" * 5]
    lines += [f"| {row.target} | {row.protocol} | {row.measured} | {row.required} | {row.status} |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"
