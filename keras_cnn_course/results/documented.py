"""The documented figures (book, lecture, papers) as data: `studies/documented.csv`, package data
of `keras_cnn_course.results`.

One row per figure: key, study, model, config (JSON kwargs or empty), metric, value, unit,
tolerance, better (higher / lower / none = two-sided), source, locator, note. A tolerance of
`ci95` judges the figure by the 95% t-interval of the mean over the runs instead (comparison.py):
such rows get `rule` "ci95" and tolerance 0, the others `rule` "tolerance". Where the lecture and the book disagree, both rows are
there and the note says how.

Beside it: `protocols.csv` (study, protocol, description: how each protocol trains),
`undocumented_keys.csv` (study, key, note: what a study measures without a documented figure,
such as its controls) and `targets.csv` (results.targets). A protocol's optional `needs` says
what it downloads (empty: nothing), so that a figure nobody could run here reads
`not run: needs download`.

The package's reference results are `results/` of the clone the package runs from, and the copy
of its CSVs installed with the package (`keras_cnn_course/reference/`) elsewhere.
"""

import difflib
from importlib import resources
from pathlib import Path

import pandas as pd

from keras_cnn_course.project import clone_root, repo_root  # noqa: F401 (repo_root: exported)

STUDIES = resources.files(__package__) / "studies"  # documented.csv, targets.csv, ...
INSTALLED_REFERENCE = resources.files("keras_cnn_course") / "reference"  # results/*.csv
COLUMNS = ("key", "study", "model", "config", "metric", "value", "unit", "tolerance", "better",
           "source", "locator", "note")
BETTER = ("higher", "lower", "none")


def study_file(name):
    """One of the studies' declarations: documented.csv, targets.csv, protocols.csv or
    undocumented_keys.csv."""
    return Path(STUDIES) / name


QUICK_MARKER = ".quick"  # in a results directory: it holds --quick results (1 epoch, tiny data)
QUICK_NOTE = ("**--quick results**: one epoch on tiny data, a smoke test of the pipeline, not a "
              "measurement; their statuses say nothing about the documented figures. Leave out "
              "--quick to reproduce them.")


def is_quick(results_dir):
    """True when the results directory holds --quick results (QUICK_MARKER)."""
    return (Path(results_dir) / QUICK_MARKER).exists()


def results_dir(results_dir=None, root=None):
    """Where `<study>.csv` and the generated tables live: the argument, else the package's
    reference results (<clone>/results, or the copy installed with the package)."""
    if results_dir is not None:
        return Path(results_dir)
    clone = clone_root(root)
    if clone is not None:
        return clone / "results"
    if not INSTALLED_REFERENCE.is_dir():
        raise FileNotFoundError(f"{INSTALLED_REFERENCE}: the reference results installed with the "
                                "package are missing; reinstall it (pip install keras_cnn_course)")
    return Path(INSTALLED_REFERENCE)


def is_installed_reference(directory):
    """True when `directory` is the reference installed with the package (read only)."""
    return (clone_root() is None and Path(INSTALLED_REFERENCE).is_dir()
            and Path(directory).resolve() == Path(INSTALLED_REFERENCE).resolve())


def load_documented(path=None):
    """documented.csv as a DataFrame (value and tolerance as floats, config and note as text)."""
    path = Path(path) if path is not None else study_file("documented.csv")
    frame = pd.read_csv(path, dtype={"config": str, "note": str, "key": str, "study": str},
                        keep_default_na=False, na_values={"value": [""], "tolerance": [""]})
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}; expected {list(COLUMNS)}")
    duplicated = frame["key"][frame["key"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{path}: keys must be unique, repeated: {duplicated}")
    wrong = sorted(set(frame["better"]) - set(BETTER))
    if wrong:
        raise ValueError(f"{path}: better must be one of {BETTER}, found {wrong}")
    tolerance = frame["tolerance"].astype(str)
    interval = tolerance == "ci95"
    frame["rule"] = ["ci95" if judged else "tolerance" for judged in interval]
    frame["tolerance"] = tolerance.where(~interval, "0")
    try:
        frame[["value", "tolerance"]] = frame[["value", "tolerance"]].astype(float)
    except ValueError as error:
        raise ValueError(f"{path}: value and tolerance must be numbers (tolerance may be ci95): "
                         f"{error}") from None
    return frame


def study_protocols(study):
    """The study's protocols and what each does, in the order of protocols.csv."""
    path = study_file("protocols.csv")
    protocols = (pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists()
                 else pd.DataFrame(columns=["study", "protocol"]))
    return protocols[protocols["study"] == study]


def protocol_rank(study):
    """A sort key: the study's protocols in their listed order (the default first), then others."""
    listed = list(study_protocols(study)["protocol"])
    return lambda protocol: listed.index(protocol) if protocol in listed else len(listed)


def undocumented_keys(study):
    """The keys the study measures that have no documented figure (undocumented_keys.csv)."""
    return list(undocumented_notes(study))


def undocumented_notes(study):
    """{key: note} for the keys the study measures without a documented figure, in the file's
    order (undocumented_keys.csv)."""
    path = study_file("undocumented_keys.csv")
    if not path.exists():
        return {}
    keys = pd.read_csv(path, dtype=str, keep_default_na=False)
    keys = keys[keys["study"] == study]
    return dict(zip(keys["key"], keys["note"]))


def documented_for(study, documented=None):
    """The rows of one study; ValueError naming the known studies if there are none."""
    documented = load_documented() if documented is None else documented
    rows = documented[documented["study"] == study]
    if rows.empty:
        known = sorted(documented["study"].unique())
        close = difflib.get_close_matches(str(study), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown study {study!r}; {hint}documented studies: {known}")
    return rows
