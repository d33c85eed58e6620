"""The rules every row of `results/<study>.csv` obeys, checked with the same functions by the
writer (`runs.append_run`, before a row is written) and the reader (`runs.load_runs`, on every
row of the file), so that what one writes the other reads and a hand edit cannot slip a row past:

- key: a documented figure of the study (studies/documented.csv) or a key it measures
  without one (studies/undocumented_keys.csv: controls, the figures its gains come from);
- seed: an integer >= 0; protocol: one of the study's (studies/protocols.csv);
- metrics (every column but the fixed ones): snake_case names, finite raw numbers; `*_accuracy`
  and `*_error` are percentages in [0, 100], and an accuracy in (0, 1] is taken for a fraction
  and refused; an empty cell: the row does not measure it;
- epochs and steps: integers >= 0; wall_seconds and images_per_second: finite numbers >= 0;
- one row per (key, seed, protocol).
"""

import collections
import math
import numbers
import re

import pandas as pd

from keras_cnn_course.results.documented import (documented_for, study_file, study_protocols,
                                                  undocumented_keys)

LEADING = ("key", "seed", "protocol")
TRAILING = ("epochs", "steps", "wall_seconds", "images_per_second", "precision", "device",
            "tensorflow", "keras", "git_commit", "started", "date", "command")
COUNTS = ("epochs", "steps")
AMOUNTS = ("wall_seconds", "images_per_second")
METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Known = collections.namedtuple("Known", ["study", "keys", "protocols"])
Known.__doc__ = "What a row of one study may name: its keys and its protocols."


def known(study):
    """The keys and protocols rows of `study` may have (ValueError for an unknown study)."""
    keys = [*documented_for(study)["key"], *undocumented_keys(study)]
    return Known(study, frozenset(keys), tuple(study_protocols(study)["protocol"]))


def check_metrics(metrics):
    """The metrics of a row ({name: number}), each checked by `check_metric`."""
    return {name: check_metric(name, value) for name, value in metrics.items()}


def check_metric(name, value):
    """`value` as a plain Python number, or ValueError saying which rule it breaks."""
    check_metric_name(name)
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_number:
        raise ValueError(f"metric {name}={value!r} must be a raw number, without a unit or %")
    if not math.isfinite(value):
        raise ValueError(f"metric {name}={value!r} must be a finite number")
    if name.endswith(("_accuracy", "_error")) and not 0 <= value <= 100:
        raise ValueError(f"metric {name}={value!r} must be a percentage in [0, 100]")
    if name.endswith("_accuracy") and 0 < value <= 1:
        raise ValueError(f"metric {name}={value!r} looks like a fraction; results store "
                         "percentages (multiply by 100)")
    return value.item() if hasattr(value, "item") else value


def check_metric_name(name):
    if not METRIC_NAME.match(str(name)) or name in LEADING + TRAILING:
        raise ValueError(f"metric name {name!r} must be snake_case and not one of the fixed "
                         f"columns {LEADING + TRAILING}")


def check_fixed(column, value, rules):
    """`value` checked for one of the fixed columns (key, seed, protocol, epochs, steps,
    wall_seconds, images_per_second; None is no value for the last four); the others are text."""
    if column == "key" and value not in rules.keys:
        raise ValueError(f"key {value!r} is not one of the {rules.study} study's: not in "
                         f"{study_file('documented.csv')} or {study_file('undocumented_keys.csv')}")
    if column == "protocol" and value not in rules.protocols:
        raise ValueError(f"protocol {value!r} is not one of the {rules.study} study's "
                         f"{list(rules.protocols)} ({study_file('protocols.csv')})")
    if column == "seed" and not _is_count(value, integral_type=True):
        raise ValueError(f"seed {value!r} must be an integer >= 0")
    if column in COUNTS and value is not None and not _is_count(value):
        raise ValueError(f"{column} {value!r} must be an integer >= 0")
    if column in AMOUNTS and value is not None and not _is_amount(value):
        raise ValueError(f"{column} {value!r} must be a finite number >= 0")
    return value


def _is_amount(value):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


def _is_count(value, integral_type=False):
    """An integer >= 0; a float such as 12.0 counts unless `integral_type` (pandas writes a
    column of integers with gaps as floats)."""
    kinds = numbers.Integral if integral_type else numbers.Real
    return isinstance(value, kinds) and _is_amount(value) and value == int(value)


def check_file(path, rules):
    """Every row of the results CSV at `path`, as the writer checks it; a ValueError names the
    path, the line (the header is line 1), the column and the value."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a readable CSV ({' '.join(str(error).split())})") from None
    missing = [column for column in LEADING if column not in raw.columns]
    if missing:
        raise ValueError(f"{path}: line 1 lacks the columns {missing}; a results CSV starts "
                         f"with {list(LEADING)}")
    for column in raw.columns:
        if column not in LEADING + TRAILING:
            located(path, 1, column, check_metric_name, column)
    first_line = {}
    for index, row in enumerate(raw.to_dict("records")):
        line = index + 2
        for column, text in row.items():
            if column in ("key", "protocol"):
                located(path, line, column, check_fixed, column, text, rules)
            elif column in LEADING + COUNTS + AMOUNTS:
                if text or column == "seed":
                    located(path, line, column, check_fixed, column, number(text), rules)
            elif column not in TRAILING and text:
                located(path, line, column, check_metric, column, number(text))
        identity = (row["key"], int(row["seed"]), row["protocol"])
        if identity in first_line:
            raise ValueError(f"{path}: line {line} repeats line {first_line[identity]} (key="
                             f"{identity[0]}, seed={identity[1]}, protocol={identity[2]}); "
                             "keep one of them")
        first_line[identity] = line


def located(path, line, column, check, *args):
    """`check(*args)`, its ValueError prefixed with where in which file the value stands."""
    try:
        return check(*args)
    except ValueError as error:
        raise ValueError(f"{path}: line {line}, column {column}: {error}") from None


def number(text):
    """A CSV cell as the number the writer wrote (int, else float), or the text itself."""
    if "_" not in text:
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
    return text
