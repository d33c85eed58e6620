"""The tables of the generated pages as markdown: the comparison, the runs, the protocols."""

import math

import pandas as pd

from keras_cnn_course.results.comparison import number
from keras_cnn_course.results.documented import study_protocols
from keras_cnn_course.results.timing import training_time


def comparison_markdown(comparison):
    """The comparison as a markdown table; a three-way one (with `reference_mean`) puts the
    reference's figures beside yours."""
    three_way = "reference_mean" in comparison
    measured = (["reference: mean ± std", "reference: n", "yours: mean ± std", "yours: n",
                 "yours: best by validation"] if three_way else
                ["ours: mean ± std", "n", "best by validation"])
    header = ["key", "model", "metric", "protocol", "documented", "tolerance", *measured, "delta",
              "status"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in comparison.itertuples(index=False):
        unit = "" if row.unit == "count" else f" {row.unit}"
        interval = getattr(row, "rule", "tolerance") == "ci95"
        cells = [row.key, row.model, row.metric, row.protocol or "–",
                 f"{number(row.documented)}{unit}",
                 "95% CI of the mean" if interval else f"±{number(row.tolerance)}"]
        if three_way:
            cells += [_mean_std(row.reference_mean, row.reference_std), row.reference_n]
        mine = _mean_std(row.mean, row.std)
        if interval and not math.isnan(row.ci_low):
            mine += f" (CI {number(row.ci_low, signed=True)} to {number(row.ci_high, signed=True)})"
        cells += [mine, row.n, number(row.best_by_validation),
                  number(row.delta, signed=True), row.status]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines) + "\n"


def measured_markdown(measured):
    """The section for what a study measured without a documented figure ('' when nothing):
    each key's mean ± std, n, 95% interval and note; a gain reads `> 0` or `< 0` when its
    interval excludes 0 and `holds 0` when not."""
    if not len(measured):
        return ""
    lines = ["## Measured without a documented figure\n",
             "From the same runs, with no documented figure to compare: controls, the conditions "
             "behind a claimed gain, the gains no source claims. A gain (percentage points, paired "
             "over seeds or folds) reads `> 0` or `< 0` when its 95% interval excludes 0, `holds 0` "
             "when it does not.\n",
             "| key | protocol | metric | mean ± std | n | 95% CI of the mean | reading | note |",
             "|---|---|---|---|---|---|---|---|"]
    for row in measured.itertuples(index=False):
        gain, interval, reading = row.metric == "accuracy_gain", "–", "–"
        if not math.isnan(row.ci_low):
            interval = f"{number(row.ci_low, signed=gain)} to {number(row.ci_high, signed=gain)}"
            if gain:
                reading = "> 0" if row.ci_low > 0 else "< 0" if row.ci_high < 0 else "holds 0"
        cells = [row.key, row.protocol or "–", row.metric, _mean_std(row.mean, row.std), row.n,
                 interval, reading, row.note or "–"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines) + "\n"


def _mean_std(mean, std):
    return number(mean) + (f" ± {number(std)}" if not math.isnan(std) else "")


GIT_COMMIT_LEGEND = (
    "`git_commit`: the commit the code was at; `+dirty`: tracked files other than `results/` and "
    "README.md (whose results section the tables rewrite) had uncommitted changes. A `+dirty` on "
    "rows dated before 2026-12-06T03:30 may come from the results alone: their own command (or a "
    "run beside it) was writing them.")


def runs_markdown(runs):
    """Every run with its provenance, as a markdown table."""
    columns = list(runs.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in runs.itertuples(index=False):
        cells = []
        for column, value in zip(columns, row):
            if isinstance(value, float):
                value = number(value)
            text = str(value).replace("|", "\\|")
            cells.append(f"`{text}`" if column == "command" else text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def protocols_markdown(study, runs):
    """What each protocol of the study does (studies/protocols.csv), and where it ran."""
    lines = ["## Protocols and provenance\n"]
    for row in study_protocols(study).itertuples(index=False):
        lines.append(f"- `{row.protocol}`: {row.description}")
    if len(runs):
        for column in ("precision", "device", "tensorflow", "keras"):
            values = ", ".join(sorted(set(map(str, runs.get(column, pd.Series()).dropna()))))
            lines.append(f"- {column}: {values}")
        for protocol, (minutes, trainings, group) in training_time(runs, study).items():
            per_key = group.groupby("key", sort=False)["wall_seconds"].median()
            medians = ", ".join(f"{key} {seconds:.0f} s" for key, seconds in per_key.items())
            count = (f"{len(group)} runs" if trainings == len(group) else
                     f"{trainings} trainings of {len(group)} runs (copies trained together)")
            lines.append(f"- `{protocol}` training wall time: {minutes:.1f} min in {count}; "
                         f"median per run: {medians}")
    return "\n".join(lines) + "\n"


def figures_markdown(figures, protocols):
    """The Figures section of a study page ('' without figures): each of `figures` (paths
    relative to the page) shown with its file name, except those named `<name>-<protocol>.png`
    (such as one per row and protocol), which a table of names by protocol links."""
    shown, by_name = [], {}
    for path in figures:
        name, _, protocol = path.stem.rpartition("-")
        if name and protocol in protocols:
            by_name.setdefault(name, {})[protocol] = path
        else:
            shown.append(path)
    if not figures:
        return ""
    lines = ["## Figures\n", "The figures the study drew, besides the comparison figure above.\n"]
    for path in shown:
        lines += [f"`{path.name}`\n", f"![{path.stem}]({path.as_posix()})\n"]
    if by_name:
        used = [protocol for protocol in protocols
                if any(protocol in paths for paths in by_name.values())]
        lines += ["Per protocol (`<figure>-<protocol>.png`):\n",
                  "| figure | " + " | ".join(used) + " |", "|" + "---|" * (len(used) + 1)]
        for name, paths in by_name.items():
            cells = [f"[{paths[protocol].name}]({paths[protocol].as_posix()})"
                     if protocol in paths else "–" for protocol in used]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines).rstrip("\n") + "\n"
