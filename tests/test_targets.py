"""Targets: each statistic measured from the runs, met at the threshold, NOT met just past it."""

import pytest

from keras_cnn_course import results
from keras_cnn_course.results.pages import study_markdown
from keras_cnn_course.results.targets import load_targets, study_targets

DOCUMENTED = """key,study,model,config,metric,value,unit,tolerance,better,source,locator,note
final,toy,net_a,,test_accuracy,99.60,%,0.20,higher,book,"ch. 6",
vote,toy,net_a,,test_accuracy,99.67,%,0.20,higher,book,"ch. 6",
first,toy,net_b,,test_accuracy,97.80,%,0.20,higher,book,"ch. 6",
"""
TARGETS = """study,protocol,statistic,keys,comparison,threshold,target
toy,fast,best_by_validation,final,>=,99.60,best final
toy,fast,mean,final,>=,99.55,mean final
toy,fast,mean,vote,>=,99.67,vote
toy,fast,max_wall_seconds,final,<=,300,per network
toy,fast,training_minutes,,<=,0.1,table time
toy,fast,rows_within_tolerance,*,,,every row
toy,book,rows_within_tolerance,first final,,,book rows
"""


@pytest.fixture
def root(tmp_path, monkeypatch):
    from keras_cnn_course.results import documented

    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "documented.csv").write_text(DOCUMENTED)
    (tmp_path / "studies" / "targets.csv").write_text(TARGETS)
    (tmp_path / "studies" / "protocols.csv").write_text(
        "study,protocol,description\ntoy,fast,the default\ntoy,book,the source's recipe\n")
    monkeypatch.setattr(documented, "STUDIES", tmp_path / "studies")
    (tmp_path / "reproductions").mkdir()
    (tmp_path / "results").mkdir()
    monkeypatch.setenv("KCC_ROOT", str(tmp_path))
    return tmp_path


def add(key, seed, accuracy, validation, protocol="fast", wall_seconds=3.0):
    metrics = {"test_accuracy": accuracy}
    if validation is not None:
        metrics["validation_accuracy"] = validation
    results.append_run("toy", key, seed, protocol, metrics, wall_seconds=wall_seconds, steps=10,
                       command="python toy.py")


def statuses():
    table = study_targets("toy")
    return dict(zip(table["target"], zip(table["measured"], table["status"])))


def test_every_statistic_at_and_past_its_threshold(root):
    add("final", 0, 99.50, 99.61)
    add("final", 1, 99.60, 99.62, wall_seconds=300.0)  # best by validation: exactly 99.60
    add("vote", 0, 99.66, None)
    got = statuses()
    assert got["best final"] == ("99.6", "met")
    assert got["mean final"] == ("99.55 (n = 2)", "met")  # exactly at the threshold
    assert got["vote"] == ("99.66", "NOT met")
    assert got["per network"] == ("300 s", "met")
    assert got["table time"][1] == "NOT met"  # 303 s of training is over 0.1 min
    assert got["every row"] == ("2 of 2", "met")  # 99.66 is within 0.20 of 99.67
    assert got["book rows"] == ("–", "missing")  # the book protocol never ran


def test_rows_within_tolerance_names_the_rows_that_fail(root):
    add("final", 0, 99.45, 99.5)
    add("vote", 0, 99.40, None)
    add("first", 0, 97.59, 97.9, protocol="book")
    add("final", 0, 99.40, 99.5, protocol="book")
    got = statuses()
    assert got["every row"] == ("1 of 2 (vote miss)", "NOT met")
    assert got["book rows"] == ("1 of 2 (first miss)", "NOT met")
    add("first", 1, 97.61, 97.95, protocol="book")  # the better-validated run is within 0.20
    assert statuses()["book rows"] == ("2 of 2", "met")


def test_a_study_without_targets_has_no_section(root):
    add("final", 0, 99.60, 99.6)
    assert "## Targets" in study_markdown("toy")
    (root / "studies" / "targets.csv").write_text(TARGETS.splitlines()[0] + "\n")
    assert "## Targets" not in study_markdown("toy")


@pytest.mark.parametrize("line, message", [
    ("toy,fast,median,final,>=,1,x", "statistic must be one of"),
    ("toy,fast,mean,final,>,1,x", "comparison must be one of"),
    ("toy,fast,mean,final,>=,,x", "needs a comparison and a numeric threshold"),
    ("toy,fast,mean,final,,99,x", "needs a comparison"),
])
def test_a_wrong_targets_file_is_refused_by_name(root, line, message):
    path = root / "studies" / "targets.csv"
    path.write_text(TARGETS.splitlines()[0] + "\n" + line + "\n")
    with pytest.raises(ValueError, match=message) as error:
        load_targets()
    assert "targets.csv" in str(error.value)


def test_kcc_compare_prints_the_targets(root, capsys):
    from keras_cnn_course.cli import main

    add("final", 0, 99.50, 99.61)
    main(["compare", "toy"])
    printed = capsys.readouterr().out
    assert "### Targets" in printed
    assert "| best final | fast | 99.5 | >= 99.60 | NOT met |" in printed


def test_targets_on_your_directory_are_measured_from_your_runs(root, tmp_path):
    mine = tmp_path / "mine"
    add("final", 0, 99.70, 99.6)  # the reference runs every row...
    add("vote", 0, 99.70, None)
    add("first", 0, 97.80, 97.9, protocol="book")
    results.append_run("toy", "final", 0, "fast", {"test_accuracy": 99.40,  # ...you one
                       "validation_accuracy": 99.5}, wall_seconds=3.0, steps=10, results_dir=mine)
    table = study_targets("toy", mine)
    got = dict(zip(table["target"], zip(table["measured"], table["status"])))
    assert got["best final"] == ("99.4", "NOT met")
    assert got["vote"] == ("–", "missing")  # you did not run it; the reference's does not count
    assert got["every row"] == ("1 of 1", "met")  # your rows only: `not run` ones do not count
    assert got["table time"][1] == "partial"  # one network's time is not the whole table's
    assert got["table time"][0].endswith(" min for 1 of 2 figures")
    assert got["book rows"] == ("–", "missing")
    assert "| best final | fast | 99.4 | >= 99.60 | NOT met |" in study_markdown("toy", mine)
