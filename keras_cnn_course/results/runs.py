"""Our measured figures: one row per run in `results/<study>.csv`, with its provenance.

Columns: key (the documented figure it measures), seed, protocol, then the metric columns (raw
numbers; accuracies and errors in PERCENT, e.g. 99.37), then epochs, steps, wall_seconds,
images_per_second, precision (the Keras dtype policy), device, tensorflow, keras, git_commit,
date (UTC) and the exact command.

Rows are appended atomically (the whole file is rewritten to a temporary file and renamed, under a
lock), so a reproduction killed mid-run leaves every finished row intact; `completed` tells which
(key, seed, protocol) rows exist so reruns skip them, and `replace=True` redoes one. Both the
writer and the reader check every row by the rules of `rows.py`: a file with a row the writer
would refuse is refused whole, with the line, column and value.
"""

import contextlib
import datetime
import os
import platform
import shlex
import subprocess
import sys
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import numpy
import pandas as pd

from keras_cnn_course.results import rows
from keras_cnn_course.project import clone_root
from keras_cnn_course.results.documented import results_dir as default_results_dir
from keras_cnn_course.results.rows import LEADING, TRAILING


def results_path(study, results_dir=None):
    return default_results_dir(results_dir) / f"{study}.csv"


def load_runs(study, results_dir=None):
    """The runs of a study (an empty frame with the fixed columns if there are none yet); a row
    the writer would refuse is a ValueError naming the file, line, column and value."""
    path = results_path(study, results_dir)
    if not path.exists():
        return pd.DataFrame(columns=[*LEADING, *TRAILING])
    rows.check_file(path, rows.known(study))
    text_columns = {name: str for name in ("key", "protocol", "precision", "device", "git_commit",
                                           "command")}
    return pd.read_csv(path, dtype=text_columns, keep_default_na=False, na_values=[""])


def completed(study, results_dir=None):
    """The set of (key, seed, protocol) rows already in `results/<study>.csv`."""
    return _done(load_runs(study, results_dir))


def _done(runs):
    return set(zip(runs["key"], runs["seed"].astype(int), runs["protocol"]))


def append_run(study, key, seed, protocol, metrics, *, wall_seconds, epochs=None, steps=None,
               images_per_second=None, precision=None, device=None, command=None, replace=False,
               results_dir=None, started=None):
    """Append one run (one row per key when `key` is a list: one run serving several figures).
    `started`: when its training began (UTC ISO string), for runs trained side by side."""
    keys = [key] if isinstance(key, str) else list(key)
    rules = rows.known(study)
    fixed = {"seed": seed, "protocol": protocol, "epochs": epochs, "steps": steps,
             "wall_seconds": wall_seconds, "images_per_second": images_per_second}
    for column, value in [*(("key", each) for each in keys), *fixed.items()]:
        rows.check_fixed(column, value, rules)
    metrics = rows.check_metrics(metrics)
    row = {"seed": int(seed), "protocol": str(protocol), **metrics, "epochs": epochs,
           "steps": steps, "wall_seconds": float(wall_seconds),
           "images_per_second": images_per_second, "precision": precision,
           **environment(device, command), "started": started}
    path = results_path(study, results_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        runs = load_runs(study, results_dir)
        done = _done(runs)
        for each in keys:
            if (each, int(seed), str(protocol)) in done:
                if not replace:
                    raise ValueError(f"{path} already has key={each!r} seed={seed} "
                                     f"protocol={protocol!r}; skip it (see completed()) or pass "
                                     "replace=True")
                same = ((runs["key"] == each) & (runs["seed"] == int(seed))
                        & (runs["protocol"] == protocol))
                runs = runs[~same]
        new = pd.DataFrame([{"key": each, **row} for each in keys])
        runs = new if runs.empty else pd.concat([runs, new], ignore_index=True)
        metric_columns = [c for c in runs.columns if c not in LEADING + TRAILING]
        write_atomic(path, runs[[*LEADING, *metric_columns, *TRAILING]].to_csv(index=False))
    return path


def append_fit(study, key, seed, protocol, result, *, errors=False, extra_metrics=None, **kwargs):
    """`append_run` for a training.FitResult: its selected figures in percent, timings, steps."""
    metrics = {**fit_metrics(result, errors=errors), **(extra_metrics or {})}
    return append_run(study, key, seed, protocol, metrics, wall_seconds=result.wall_seconds,
                      epochs=len(result.history["epoch"]), steps=result.steps,
                      images_per_second=result.images_per_second, precision=result.precision,
                      **kwargs)


def fit_metrics(result, errors=False):
    """Percentages at the selected epoch (the book's rule; the last one without validation data),
    the test accuracy at the last epoch, and the epoch chosen; `errors` adds 100 - accuracy."""
    names = {"accuracy": "train", "val_accuracy": "validation", "test_accuracy": "test"}
    metrics = {}
    for old, new in names.items():
        if old in result.selected:
            metrics[f"{new}_accuracy"] = percent(result.selected[old])
            if errors:
                metrics[f"{new}_error"] = float(100 - Decimal(repr(metrics[f"{new}_accuracy"])))
    if "test_accuracy" in result.final:
        metrics["final_test_accuracy"] = percent(result.final["test_accuracy"])
    metrics["selected_epoch"] = result.selected_epoch
    return metrics


def percent(fraction):
    """A Keras metric (a float32 fraction) in percent, without float32 noise: 0.9619 -> 96.19.

    Keras keeps metrics in float32, so 9,619 right of 10,000 arrives as 0.961899995803833; the
    shortest decimal that float32 value stands for is 0.9619, and that is what is stored.
    """
    return float(Decimal(str(numpy.float32(fraction))) * 100)


def environment(device=None, command=None):
    """Provenance of a run: device, versions, commit, UTC date, the command line."""
    return {"device": device or device_description(), "tensorflow": _version("tensorflow",
            "tensorflow-cpu"), "keras": _version("keras"), "git_commit": git_commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": command or _command_line()}


def _command_line():
    """This process's command line, with the script path relative to the clone when inside it."""
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    root = _root_or_cwd().resolve()
    if script and script.is_relative_to(root):
        return shlex.join(["python", str(script.relative_to(root)), *sys.argv[1:]])
    return shlex.join(["python", *sys.argv])


def device_description():
    """CPU model and core count, plus GPU names when TensorFlow is loaded and sees any."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    description = f"{model}, {os.cpu_count()} cores"
    if "tensorflow" in sys.modules:
        gpus = sys.modules["tensorflow"].config.list_physical_devices("GPU")
        if gpus:
            description += f", {len(gpus)} GPU(s)"
    return description


def git_commit():
    """Short commit of the clone, "+dirty" when tracked files other than the results have
    uncommitted changes, "none" outside git. The results a run writes as it goes (`results/` and
    the table `kcc tables` writes into README.md) do not count."""
    def git(*args):
        return subprocess.run(["git", "-C", str(_root_or_cwd()), *args], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ":/",
                      ":(top,exclude)results", ":(top,exclude)README.md")
        return commit + ("+dirty" if changed else "")
    except (OSError, subprocess.SubprocessError):
        return "none"


def _root_or_cwd():
    return clone_root() or Path.cwd()


def _version(*distributions):
    for name in distributions:
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(name)
    return "unknown"


def write_atomic(path, data):
    """Write text or bytes to `path` via a temporary file in the same directory and a rename."""
    from keras_cnn_course.data.cache import atomic_path

    with atomic_path(path) as temporary:
        temporary.write_bytes(data.encode() if isinstance(data, str) else data)


@contextlib.contextmanager
def _locked(directory):
    """Serialise read-modify-write of the results directory between processes (POSIX)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; the rename still keeps the file whole
        yield
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
