"""The comparison figure: ours vs documented ± tolerance, one panel per metric."""

from matplotlib.figure import Figure

from keras_cnn_course import plots


def plot_comparison(comparison, runs, path):
    """Ours (each run, and the mean) vs documented ± tolerance, one panel per metric."""
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
