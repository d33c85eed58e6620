"""How long a study's runs trained: per protocol, each training counted once."""

import pandas as pd

from keras_cnn_course.results.documented import protocol_rank


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
