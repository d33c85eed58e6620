"""A study's figures in its results directory: the comparison figure (documented ± tolerance
and the measured runs, one panel per metric), and the figures the study draws itself,
`figures/<study>/*.png` and `figures/<study>_*.png`."""

import re

from matplotlib.figure import Figure

from keras_cnn_course import plots

# who measured, the comparison's column of their mean, colours of runs and mean, vertical offset
OURS = ("ours", "mean", "tab:blue", "tab:red", 0.0)
REFERENCE = ("reference", "reference_mean", "tab:blue", "tab:blue", -0.15)
YOURS = ("yours", "mean", "tab:orange", "tab:orange", 0.15)


def comparison_figure(directory, study):
    """Where the comparison figure of `study` is: <directory>/figures/<study>_vs_documented.png."""
    return directory / "figures" / f"{study}_vs_documented.png"


def study_figures(directory, study, studies=()):
    """The figures `study` drew into <directory>/figures, but its comparison figure: paths
    relative to `directory`, in natural order (row4b_300 before row4b_1000). `studies`: the
    other studies, so that a figure of one named longer (say `mnist1d_extra`) is not taken."""
    figures = directory / "figures"
    longer = [other for other in studies if other != study and other.startswith(f"{study}_")]
    found = [path for path in figures.glob(f"{study}_*.png")
             if not any(path.name.startswith(f"{other}_") for other in longer)]
    found = [path for path in found if path != comparison_figure(directory, study)]
    found += (figures / study).glob("*.png")
    return sorted((path.relative_to(directory) for path in found), key=_natural)


def _natural(path):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", path.as_posix())]


def plot_comparison(comparison, runs, path, reference_runs=None):
    """Documented ± tolerance and each run with the mean, one panel per metric. A three-way
    comparison (it has `reference_mean`) draws the reference's `reference_runs` and mean above
    yours (`runs`), in another colour; otherwise `runs` are ours."""
    three_way = "reference_mean" in comparison
    series = [(reference_runs, REFERENCE), (runs, YOURS)] if three_way else [(runs, OURS)]
    metrics = list(dict.fromkeys(comparison["metric"]))
    height = 1 + 0.35 * len(comparison) + 0.6 * len(metrics)
    figure = Figure(figsize=(8, height), layout="constrained")
    heights = [1 + (comparison["metric"] == metric).sum() for metric in metrics]
    axes = figure.subplots(len(metrics), 1, squeeze=False, height_ratios=heights)[:, 0]
    for axis, metric in zip(axes, metrics):
        rows = comparison[comparison["metric"] == metric].reset_index(drop=True)
        axis.errorbar(rows["documented"], rows.index, xerr=rows["tolerance"], fmt="D",
                      color="black", capsize=3, label="documented ± tolerance")
        for measured, (name, column, dots, mean, offset) in series:
            labelled = not three_way  # each run is a dot; the dots are in the legend once
            for y, row in rows.iterrows():
                chosen = measured[(measured["key"] == row["key"])
                                  & (measured["protocol"] == row["protocol"])]
                if metric in chosen.columns and chosen[metric].notna().any():
                    label = {} if labelled else {"label": f"{name}: runs"}
                    axis.plot(chosen[metric], [y + offset] * len(chosen), "o", color=dots,
                              alpha=0.4, **label)
                    labelled = True
            width = {"markeredgewidth": 2} if three_way else {}
            axis.plot(rows[column], rows.index + offset, "|", color=mean, markersize=14,
                      label=f"{name}: mean", **width)
        labels = [f"{key} ({protocol or 'not run'})"
                  for key, protocol in zip(rows["key"], rows["protocol"])]
        axis.set_yticks(rows.index, labels)
        axis.invert_yaxis()
        runs_note = "dots: each run" if three_way else "dots: our runs"
        axis.set_xlabel(f"{metric} ({rows['unit'].iloc[0]}); {runs_note}")
        axis.legend(loc="best", fontsize="small")
    plots.save(figure, path, dpi=100, tight=False)
