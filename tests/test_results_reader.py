"""The results reader refuses what the writer would refuse, naming the file, line, column and value:
probes on a copy of the committed results/nielsen_mnist.csv, and every committed CSV still loads."""

import shutil

import pandas as pd
import pytest

from keras_cnn_course import cli, results
from keras_cnn_course.results.documented import repo_root

STUDY = "nielsen_mnist"


def edit(directory, change):
    """Rewrite <study>.csv cell by cell as text: `change(frame)` edits a frame of strings."""
    path = directory / f"{STUDY}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = change(frame)
    path.write_text(frame.to_csv(index=False))
    return path


def row_of(frame, key, seed, protocol="fast"):
    match = (frame["key"] == key) & (frame["seed"] == str(seed)) & (frame["protocol"] == protocol)
    return frame.index[match][0]


def set_cell(key, seed, column, value):
    def change(frame):
        frame.loc[row_of(frame, key, seed), column] = value
        return frame
    return change


def refused(directory, expected, capsys):
    """Every reader refuses the file with the one-line message, `kcc compare` with exit code 2."""
    for read in (results.load_runs, results.completed, results.compare):
        with pytest.raises(ValueError) as error:
            read(STUDY, directory)
        assert expected in str(error.value) and "\n" not in str(error.value)
    assert cli.main(["compare", STUDY, "--results-dir", str(directory)]) == 2
    assert expected in capsys.readouterr().err
    return str(error.value)


def test_every_committed_results_csv_loads_and_compares():
    for study in ("nielsen_mnist", "mnist1d", "transfer"):
        runs = results.load_runs(study)
        assert len(runs) and len(results.compare(study))
        assert not runs.duplicated(["key", "seed", "protocol"]).any()


def test_a_value_with_a_percent_sign_names_file_line_column_and_value(results_copy, capsys):
    path = edit(results_copy, set_cell("mnist_row3_dbl_conv_relu", 1, "test_accuracy", "99.5%"))
    line = row_of(pd.read_csv(path, dtype=str), "mnist_row3_dbl_conv_relu", 1) + 2
    message = refused(results_copy, f"{path}: line {line}, column test_accuracy: metric "
                      "test_accuracy='99.5%' must be a raw number, without a unit or %", capsys)
    assert message.startswith(str(path))


def test_a_fraction_among_percentages_is_refused_not_averaged(results_copy, capsys):
    # once read as 66.497 ± 56.729 and still a "match" (judged by the best-validated run)
    edit(results_copy, set_cell("mnist_row3_dbl_conv_relu", 1, "test_accuracy", "0.9924"))
    refused(results_copy, "column test_accuracy: metric test_accuracy=0.9924 looks like a fraction",
            capsys)


@pytest.mark.parametrize("column, value, expected", [
    ("test_accuracy", "101", "metric test_accuracy=101 must be a percentage in [0, 100]"),
    ("test_accuracy", "nan", "metric test_accuracy=nan must be a finite number"),
    ("parameters", "inf", "metric parameters=inf must be a finite number"),
    ("seed", "1.5", "seed 1.5 must be an integer >= 0"),
    ("seed", "one", "seed 'one' must be an integer >= 0"),
    ("seed", "-1", "seed -1 must be an integer >= 0"),
    ("epochs", "12.5", "epochs 12.5 must be an integer >= 0"),
    ("wall_seconds", "12 s", "wall_seconds '12 s' must be a finite number >= 0"),
])
def test_bad_cells_are_refused_by_the_writers_rules(results_copy, capsys, column, value, expected):
    edit(results_copy, set_cell("mnist_row0_shallow", 2, column, value))
    refused(results_copy, f"column {column}: {expected}", capsys)


def test_a_duplicated_row_is_refused_not_counted_twice(results_copy, capsys):
    def duplicate(frame):
        index = row_of(frame, "mnist_row6_double_fc_dropout", 4)
        return pd.concat([frame, frame.loc[[index]]], ignore_index=True)

    path = edit(results_copy, duplicate)
    index = row_of(pd.read_csv(path, dtype=str), "mnist_row6_double_fc_dropout", 4)
    refused(results_copy, f"line {len(pd.read_csv(path)) + 1} repeats line {index + 2} "
            "(key=mnist_row6_double_fc_dropout, seed=4, protocol=fast)", capsys)


def test_an_unknown_key_or_a_protocol_typo_is_refused_not_dropped(results_copy, capsys):
    edit(results_copy, set_cell("mnist_row3_dbl_conv_relu", 0, "key", "mnist_row3_dbl_conv_reul"))
    refused(results_copy, "column key: key 'mnist_row3_dbl_conv_reul' is not one of the nielsen_mnist "
            "study's", capsys)
    shutil.copy(repo_root() / "results" / f"{STUDY}.csv", results_copy)
    edit(results_copy, set_cell("mnist_row3_dbl_conv_relu", 0, "protocol", "Fast"))
    refused(results_copy, "column protocol: protocol 'Fast' is not one of the nielsen_mnist study's "
            "['fast', 'book']", capsys)


def test_a_bad_column_name_or_a_missing_fixed_column_is_refused(results_copy, capsys):
    edit(results_copy, lambda frame: frame.rename(columns={"parameters": "Parameters"}))
    refused(results_copy, "line 1, column Parameters: metric name 'Parameters' must be snake_case", capsys)
    edit(results_copy, lambda frame: frame.drop(columns="protocol"))
    refused(results_copy, "line 1 lacks the columns ['protocol']", capsys)


def test_what_the_reader_refuses_the_writer_refuses_too(results_copy):
    def add(key="mnist_row0_shallow", seed=9, protocol="fast", **metrics):
        results.append_run(STUDY, key, seed, protocol, metrics or {"test_accuracy": 97.0},
                           wall_seconds=1.0, results_dir=results_copy, command="python -m x")

    for arguments, message in [
        (dict(key="mnist_row0_shalow"), "key 'mnist_row0_shalow' is not one of"),
        (dict(protocol="Fast"), "protocol 'Fast' is not one of"),
        (dict(seed=-1), "seed -1 must be an integer >= 0"),
        (dict(seed=1.5), "seed 1.5 must be an integer >= 0"),
        (dict(test_accuracy=0.97), "looks like a fraction"),
    ]:
        with pytest.raises(ValueError, match=message):
            add(**arguments)
    add()  # and what it writes reads back
    assert ("mnist_row0_shallow", 9, "fast") in results.completed(STUDY, results_copy)


def test_every_key_a_reproduction_writes_is_known_to_its_study():
    from keras_cnn_course.results.rows import known
    from reproductions import mnist1d, nielsen_mnist, transfer

    written = {
        "nielsen_mnist": {key for row in nielsen_mnist.ROWS.values() for key in row.keys}
        | set(nielsen_mnist.ENSEMBLE[1]),
        "mnist1d": {key for row in mnist1d.ROWS.values() for key in row.keys},
        "transfer": {f"{prefix}_{name}"
                     for prefix in ["photos", *(f"fashion_{n}" for n in transfer.conditions.FASHION_SIZES)]
                     for name in [*transfer.CONDITIONS, *transfer.conditions.GAINS]},
    }
    for study, keys in written.items():
        assert keys <= known(study).keys, (study, keys - known(study).keys)
