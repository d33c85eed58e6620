"""Documented vs ours: the comparison, its status rule, and the generated markdown and figures.

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

from keras_cnn_course.results.documented import documented_for, study_protocols
from keras_cnn_course.results.runs import load_runs

VALIDATION = "validation_accuracy"
STATUSES = ("match", "above", "miss", "missing")
FAILING = ("miss", "missing")


def _decimal(value):
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def status(ours, documented, tolerance, better):
    """match / above / miss for one figure (missing when `ours` is None or NaN)."""
    if ours is None or (not isinstance(ours, Decimal) and math.isnan(ours)):
        return "missing"
    delta = _decimal(ours) - _decimal(documented)
    if abs(delta) <= _decimal(tolerance):
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
    values = [_decimal(v) for v in runs[figure.metric]] if len(runs) else []
    mean = statistics.mean(values) if values else None
    std = statistics.stdev(values) if len(values) > 1 else None
    best = None
    if VALIDATION in runs.columns and runs[VALIDATION].notna().any():
        # the run with the best validation accuracy, ties to the later run (training.selection)
        best = values[max(runs[VALIDATION].reset_index(drop=True).dropna().items(),
                          key=lambda item: (item[1], item[0]))[0]]
    judged = best if best is not None else mean
    delta = None if judged is None else judged - _decimal(figure.value)
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


def comparison_markdown(comparison):
    """The comparison as a markdown table."""
    lines = ["| key | model | metric | protocol | documented | tolerance | ours: mean ± std | n "
             "| best by validation | delta | status |", "|" + "---|" * 11]
    for row in comparison.itertuples(index=False):
        ours = number(row.mean) + (f" ± {number(row.std)}" if not math.isnan(row.std) else "")
        unit = "" if row.unit == "count" else f" {row.unit}"
        lines.append(
            f"| {row.key} | {row.model} | {row.metric} | {row.protocol or '–'} "
            f"| {number(row.documented)}{unit} | ±{number(row.tolerance)} | {ours} | {row.n} "
            f"| {number(row.best_by_validation)} | {number(row.delta, signed=True)} "
            f"| {row.status} |"
        )
    return "\n".join(lines) + "\n"


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


def study_markdown(study, results_dir=None, documented=None, figure_name=None):
    """The whole `results/<study>.md`: comparison, figure, notes on discrepancies, runs."""
    comparison = compare(study, results_dir, documented)
    notes = comparison.drop_duplicates("key")
    notes = notes[notes["note"].str.len() > 0]
    parts = [
        f"# Results: {study}\n\n"
        f"Generated by `kcc tables` from `{study}.csv` and `reproductions/documented.csv`; "
        "do not edit by hand. Accuracies and errors in percent. Status judges the "
        "best-by-validation figure where the runs record validation accuracy (the book's rule), "
        "otherwise the mean: `match` within the tolerance, `above` better beyond it, `miss` worse "
        "beyond it (or any difference beyond it when the figure is two-sided), `missing` when "
        "nothing was run.\n",
        comparison_markdown(comparison),
    ]
    if figure_name:
        parts.append(f"![ours vs documented](figures/{figure_name})\n")
    from keras_cnn_course.results.targets import study_targets, targets_markdown

    targets = targets_markdown(study_targets(study, results_dir, documented))
    if targets:
        parts.append(targets)
    if len(notes):
        parts.append("## Notes on discrepancies\n\n" + "".join(
            f"- `{row.key}` ({row.source}): {row.note}\n" for row in notes.itertuples()))
    runs = load_runs(study, results_dir)
    parts.append(protocols_markdown(study, runs))
    listing = runs_markdown(runs) if len(runs) else "None yet.\n"
    parts.append(f"## Runs ({len(runs)})\n\n{GIT_COMMIT_LEGEND}\n\n{listing}")
    return "\n".join(parts)


def protocol_rank(study):
    """A sort key: the study's protocols in their listed order (the default first), then others."""
    listed = list(study_protocols(study)["protocol"])
    return lambda protocol: listed.index(protocol) if protocol in listed else len(listed)


def protocols_markdown(study, runs):
    """What each protocol of the study does (reproductions/protocols.csv), and where it ran."""
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


def training_time(runs, study=None):
    """{protocol: (minutes of training, number of trainings, one row per run)} of trained runs,
    in the study's protocol order when `study` is given.

    A run measured under several keys has rows that differ in the key only: it counts once.
    Seeds trained together (copies in one compiled step) share one wall time: it counts once.
    Runs trained side by side (they record when they `started`) count as the time the machine
    spent on them: the union of their intervals.
    Derived rows (votes, paired gains) have no steps and do not count.
    """
    trained = runs[runs["steps"].notna()] if "steps" in runs else runs
    runs_once = trained.drop_duplicates([c for c in trained.columns if c != "key"])
    trainings = trained.drop_duplicates(["protocol", "wall_seconds"])
    times = {protocol: (elapsed_seconds(trainings[trainings["protocol"] == protocol]) / 60,
                        int((trainings["protocol"] == protocol).sum()), group)
             for protocol, group in runs_once.groupby("protocol", sort=False)}
    rank = protocol_rank(study) if study else lambda protocol: 0
    return dict(sorted(times.items(), key=lambda item: rank(item[0])))


def elapsed_seconds(trainings):
    """The machine time of the trainings: the union of their [started, started + wall seconds]
    intervals when every one records `started`, otherwise their summed wall time."""
    starts = pd.to_datetime(trainings.get("started", pd.Series(dtype=str)), errors="coerce", utc=True)
    if len(starts) != len(trainings) or starts.isna().any():
        return float(trainings["wall_seconds"].sum())
    intervals = sorted(zip(starts, starts + pd.to_timedelta(trainings["wall_seconds"], unit="s")))
    total, (start, end) = 0.0, intervals[0]
    for next_start, next_end in intervals[1:]:
        if next_start > end:
            total, start = total + (end - start).total_seconds(), next_start
        end = max(end, next_end)
    return total + (end - start).total_seconds()


def results_section(studies, results_dir=None, documented=None, link_prefix=""):
    """The generated part of results/README.md: one comparison table per study."""
    from keras_cnn_course.results.targets import study_targets, targets_markdown

    parts = [BEGIN, "## Results\n"]
    for study in studies:
        comparison = compare(study, results_dir, documented)
        counts = comparison["status"].value_counts()
        summary = ", ".join(f"{counts[name]} {name}" for name in STATUSES if name in counts)
        targets = study_targets(study, results_dir, documented)
        if len(targets):
            summary += f"; targets: {(targets['status'] == 'met').sum()} of {len(targets)} met"
        minutes = training_time(load_runs(study, results_dir), study)
        if minutes:
            summary += "; training time: " + ", ".join(
                f"{protocol} {total:.0f} min" for protocol, (total, _, _) in minutes.items())
        parts.append(f"### [{study}]({link_prefix}{study}.md): {summary}\n\n{comparison_markdown(comparison)}")
        if len(targets):
            parts.append(targets_markdown(targets, heading="####"))
    parts.append(END)
    return "\n".join(parts)


BEGIN = "<!-- results:begin (written by `kcc tables`; edit the CSVs, not this section) -->"
END = "<!-- results:end -->"


def result_studies(results_dir=None, documented=None):
    """The studies of documented.csv that have a results CSV (other CSVs are supporting data),
    in the order documented.csv lists them (the lecture's order)."""
    from keras_cnn_course.results.documented import load_documented
    from keras_cnn_course.results.documented import results_dir as resolve

    known = list(dict.fromkeys((load_documented() if documented is None else documented)["study"]))
    present = {path.stem for path in resolve(results_dir).glob("*.csv")}
    return [study for study in known if study in present]


def write_tables(studies=None, results_dir=None, documented=None):
    """Regenerate <study>.md, its figure, and README.md's results section; return the paths."""
    from keras_cnn_course.results.documented import results_dir as resolve
    from keras_cnn_course.results.runs import write_atomic

    directory = resolve(results_dir)
    every_study = result_studies(directory, documented)
    studies = every_study if studies is None else studies
    written = []
    for study in studies:
        figure = directory / "figures" / f"{study}_vs_documented.png"
        plot_comparison(compare(study, directory, documented), load_runs(study, directory), figure)
        page = directory / f"{study}.md"
        write_atomic(page, study_markdown(study, directory, documented, figure.name))
        written += [page, figure]
    readme = directory / "README.md"
    text = readme.read_text() if readme.exists() else "# Results\n\n" + BEGIN + "\n" + END + "\n"
    write_atomic(readme, with_section(readme, text, results_section(every_study, directory, documented)))
    written.append(readme)
    project_readme = directory.parent / "README.md"  # the project's front page, when it has markers
    if project_readme.exists() and BEGIN in project_readme.read_text():
        section = results_section(every_study, directory, documented, link_prefix="results/")
        write_atomic(project_readme, with_section(project_readme, project_readme.read_text(), section))
        written.append(project_readme)
    return written


def with_section(path, text, section):
    """`text` with the part between the markers replaced by `section`."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} lacks the markers {BEGIN!r} ... {END!r}; add them where the "
                         "generated results section belongs")
    head, rest = text.split(BEGIN, 1)
    return head + section + rest.split(END, 1)[1]


def plot_comparison(comparison, runs, path):
    """Ours (each run, and the mean) vs documented ± tolerance, one panel per metric."""
    from matplotlib.figure import Figure

    from keras_cnn_course import plots

    metrics = list(dict.fromkeys(comparison["metric"]))
    height = 1 + 0.35 * len(comparison) + 0.6 * len(metrics)
    figure = Figure(figsize=(8, height), layout="constrained")
    heights = [1 + (comparison["metric"] == metric).sum() for metric in metrics]
    axes = figure.subplots(len(metrics), 1, squeeze=False, height_ratios=heights)[:, 0]
    for axis, metric in zip(axes, metrics):
        rows = comparison[comparison["metric"] == metric].reset_index(drop=True)
        axis.errorbar(rows["documented"], rows.index, xerr=rows["tolerance"], fmt="D",
                      color="black", capsize=3, label="documented ± tolerance")
        for y, row in rows.iterrows():
            mine = runs[(runs["key"] == row["key"]) & (runs["protocol"] == row["protocol"])]
            if metric in mine.columns:
                axis.plot(mine[metric], [y] * len(mine), "o", color="tab:blue", alpha=0.4)
        axis.plot(rows["mean"], rows.index, "|", color="tab:red", markersize=14, label="ours: mean")
        labels = [f"{key} ({protocol or 'not run'})"
                  for key, protocol in zip(rows["key"], rows["protocol"])]
        axis.set_yticks(rows.index, labels)
        axis.invert_yaxis()
        axis.set_xlabel(f"{metric} ({rows['unit'].iloc[0]}); dots: our runs")
        axis.legend(loc="best", fontsize="small")
    plots.save(figure, path, dpi=100, tight=False)
