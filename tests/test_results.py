"""Results: run rows, the status rule at its edges, generated markdown, `kcc compare` exit codes."""

import math
import os
import re
import shutil
import subprocess
import types

import pandas as pd
import pytest

from keras_cnn_course import results
from keras_cnn_course.results import runs as runs_module
from keras_cnn_course.results.comparison import status
from keras_cnn_course.results.pages import BEGIN, END

DOCUMENTED = """key,study,model,config,metric,value,unit,tolerance,better,source,locator,note
up,toy,net_a,,test_accuracy,99.60,%,0.20,higher,book,"ch. 1",
down,toy,net_b,,test_error,17,%,4,lower,book,"fig. 2","A printing error, see the erratum."
both,toy,net_c,"{""shuffle_seq"": true}",test_accuracy,56,%,4,none,readme,"table",
never,toy,net_d,,test_accuracy,90,%,1,higher,book,"ch. 3",
"""

PROTOCOLS = "study,protocol,description\ntoy,fast,the default\ntoy,book,the source's recipe\n"


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A project root with an empty results directory, and its own documented.csv."""
    studies(tmp_path / "studies", monkeypatch, {"documented.csv": DOCUMENTED,
                                                "protocols.csv": PROTOCOLS})
    (tmp_path / "reproductions").mkdir()
    (tmp_path / "results").mkdir()
    monkeypatch.setenv("KCC_ROOT", str(tmp_path))
    return tmp_path


def studies(directory, monkeypatch, files):
    """The studies' declarations (documented.csv, ...) read from `directory`, holding `files`."""
    from keras_cnn_course.results import documented

    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    monkeypatch.setattr(documented, "STUDIES", directory)


def add(key, seed, metrics, protocol="fast", **kwargs):
    return results.append_run("toy", key, seed, protocol, metrics, wall_seconds=1.5,
                              command="python toy.py", **kwargs)


# --- status at the tolerance edges ----------------------------------------------------------

@pytest.mark.parametrize("ours, documented, tolerance, better, expected", [
    (99.40, 99.60, 0.20, "higher", "match"),  # exactly at the tolerance
    (99.39, 99.60, 0.20, "higher", "miss"),
    (99.80, 99.60, 0.20, "higher", "match"),
    (99.81, 99.60, 0.20, "higher", "above"),
    (13.0, 17.0, 4.0, "lower", "match"),
    (12.99, 17.0, 4.0, "lower", "above"),
    (21.01, 17.0, 4.0, "lower", "miss"),
    (21.0, 17.0, 4.0, "none", "match"),
    (21.01, 17.0, 4.0, "none", "miss"),
    (12.99, 17.0, 4.0, "none", "miss"),
    (float("nan"), 17.0, 4.0, "none", "missing"),
    (None, 17.0, 4.0, "higher", "missing"),
])
def test_status_at_the_tolerance_edges(ours, documented, tolerance, better, expected):
    assert status(ours, documented, tolerance, better) == expected


def test_status_is_decimal_exact_where_binary_floats_are_not():
    assert abs(98.58 - 98.78) > 0.20  # what a float comparison would wrongly call a miss
    assert status(98.58, 98.78, 0.20, "higher") == "match"
    assert status(99.43, 99.23, 0.20, "none") == "match"


# --- the run CSV ----------------------------------------------------------------------------

def test_run_rows_have_the_schema_and_raw_numbers(root):
    add("up", 0, {"test_accuracy": 99.5, "validation_accuracy": 99.4}, epochs=3, steps=30)
    add(["both", "never"], 0, {"test_accuracy": 55.25})
    path = root / "results" / "toy.csv"
    header = path.read_text().splitlines()[0].split(",")
    assert header == ["key", "seed", "protocol", "test_accuracy", "validation_accuracy",
                      *runs_module.TRAILING]
    frame = pd.read_csv(path)
    assert frame["test_accuracy"].tolist() == [99.5, 55.25, 55.25]
    assert frame["key"].tolist() == ["up", "both", "never"]
    assert frame["command"].tolist() == ["python toy.py"] * 3
    for column in ("tensorflow", "keras", "git_commit", "date", "device"):
        assert frame[column].notna().all()
    assert results.completed("toy") == {("up", 0, "fast"), ("both", 0, "fast"),
                                        ("never", 0, "fast")}


def test_a_runs_own_results_do_not_mark_its_commit_dirty(root):
    def git(*args):
        subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       check=True, capture_output=True)
    (root / "model.py").write_text("layers = 2\n")
    (root / "README.md").write_text(f"# toy\n\n{BEGIN}\n{END}\n")
    add("up", 0, {"test_accuracy": 99.5})
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "start")
    add("up", 1, {"test_accuracy": 99.6})  # rewrites the tracked results/toy.csv
    assert pd.read_csv(root / "results" / "toy.csv")["seed"].tolist() == [0, 1]
    assert kcc("tables") == 0  # rewrites results/*.md and README.md's results section
    assert "| up |" in (root / "README.md").read_text()
    assert not runs_module.git_commit().endswith("+dirty")
    (root / "model.py").write_text("layers = 3\n")
    assert runs_module.git_commit().endswith("+dirty")


def test_rows_from_before_the_precision_column_keep_loading(root):
    add("up", 0, {"test_accuracy": 99.5})
    path = root / "results" / "toy.csv"
    path.write_text(pd.read_csv(path).drop(columns="precision").to_csv(index=False))
    add("up", 1, {"test_accuracy": 99.6}, precision="mixed_bfloat16")
    frame = results.load_runs("toy")
    assert list(frame.columns[-len(runs_module.TRAILING):]) == list(runs_module.TRAILING)
    assert frame["precision"].isna().tolist() == [True, False]
    assert frame["precision"].iloc[1] == "mixed_bfloat16"


@pytest.mark.parametrize("metrics, message", [
    ({"test_accuracy": "99.5%"}, "raw number"),
    ({"test_accuracy": 0.995}, "fraction"),
    ({"test_error": 140.0}, "percentage"),
    ({"Test Accuracy": 99.0}, "snake_case"),
    ({"test_accuracy": float("nan")}, "finite"),
])
def test_bad_metrics_are_refused(root, metrics, message):
    with pytest.raises(ValueError, match=message):
        add("up", 0, metrics)
    assert not (root / "results" / "toy.csv").exists()


def test_reruns_skip_done_rows_unless_asked_to_redo(root):
    add("up", 0, {"test_accuracy": 99.5})
    with pytest.raises(ValueError, match="replace=True"):
        add("up", 0, {"test_accuracy": 99.7})
    add("up", 0, {"test_accuracy": 99.7}, replace=True)
    add("up", 0, {"test_accuracy": 99.1}, protocol="book")
    frame = results.load_runs("toy")
    rows = sorted(zip(frame["protocol"], frame["test_accuracy"]))
    assert rows == [("book", 99.1), ("fast", 99.7)]


def test_a_kill_during_a_write_leaves_the_finished_rows_intact(root, monkeypatch):
    add("up", 0, {"test_accuracy": 99.5})
    before = (root / "results" / "toy.csv").read_bytes()

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs_module.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        add("up", 1, {"test_accuracy": 99.6})
    assert (root / "results" / "toy.csv").read_bytes() == before
    assert os.listdir(root / "results") == ["toy.csv"]  # no temporary file left behind


def test_written_results_are_readable_by_others_as_any_new_file(root):
    add("up", 0, {"test_accuracy": 99.5})
    umask = os.umask(0)
    os.umask(umask)
    mode = (root / "results" / "toy.csv").stat().st_mode & 0o777
    assert mode == 0o666 & ~umask  # not the temporary file's private 0600


def test_fit_metrics_are_percentages_at_the_selected_epoch():
    fake = types.SimpleNamespace(
        selected={"accuracy": 0.999, "val_accuracy": 0.99, "test_accuracy": 0.9912, "epoch": 3},
        final={"test_accuracy": 0.99}, selected_epoch=3)
    assert results.fit_metrics(fake) == pytest.approx({
        "train_accuracy": 99.9, "validation_accuracy": 99.0, "test_accuracy": 99.12,
        "final_test_accuracy": 99.0, "selected_epoch": 3})
    with_errors = results.fit_metrics(fake, errors=True)
    assert with_errors["test_error"] == pytest.approx(0.88)
    assert with_errors["train_error"] == pytest.approx(0.1)


def test_percentages_carry_no_float32_noise():
    import numpy as np

    keras_figure = float(np.float32(9_940 / 10_000))  # how Keras reports 9,940 right of 10,000
    assert 100 * keras_figure != 99.4  # 99.40000176429749: a miss at the tolerance edge
    assert runs_module.percent(keras_figure) == 99.4
    assert status(runs_module.percent(keras_figure), 99.6, 0.2, "higher") == "match"
    fake = types.SimpleNamespace(selected={"test_accuracy": float(np.float32(0.9619))},
                                 final={}, selected_epoch=1)
    assert results.fit_metrics(fake, errors=True) == {"test_accuracy": 96.19, "test_error": 3.81,
                                                      "selected_epoch": 1}


# --- generated tables -----------------------------------------------------------------------

def table_rows(markdown):
    """The comparison table of a generated page, as {key: {column: cell}}."""
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == "key":
            break  # the runs table starts
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def test_generated_markdown_says_what_the_csvs_say(root):
    add("up", 0, {"test_accuracy": 99.41, "validation_accuracy": 99.50})
    add("up", 1, {"test_accuracy": 99.55, "validation_accuracy": 99.62})
    add("up", 2, {"test_accuracy": 99.30, "validation_accuracy": 99.62})  # tie: later run wins
    add("down", 0, {"test_error": 21.5})
    add("down", 1, {"test_error": 20.5})
    add("both", 0, {"test_accuracy": 61.0})
    written = results.write_tables(["toy"])
    page = (root / "results" / "toy.md").read_text()
    rows = table_rows(page)
    csv = pd.read_csv(root / "results" / "toy.csv")
    up = csv[csv["key"] == "up"]["test_accuracy"]
    mean, std = (float(text) for text in rows["up"]["ours: mean ± std"].split(" ± "))
    assert (mean, std) == (round(up.mean(), 3), round(up.std(), 3))
    assert (rows["up"]["n"], rows["up"]["best by validation"]) == ("3", "99.3")
    assert (rows["up"]["delta"], rows["up"]["status"]) == ("-0.3", "miss")  # judged: best by val.
    assert (rows["down"]["ours: mean ± std"], rows["down"]["status"]) == ("21 ± 0.707", "match")
    assert (rows["both"]["delta"], rows["both"]["status"]) == ("+5", "miss")
    assert (rows["never"]["n"], rows["never"]["status"]) == ("0", "missing")
    assert "A printing error, see the erratum." in page
    assert page.count("`python toy.py`") == 6  # every run listed with its command
    readme = (root / "results" / "README.md").read_text()
    assert BEGIN in readme and END in readme and "[toy](toy.md)" in readme
    assert table_rows(readme.split("[toy](toy.md)")[1]) == table_rows(page)
    figure = root / "results" / "figures" / "toy_vs_documented.png"
    assert figure in written and figure.read_bytes()[:4] == b"\x89PNG"


def test_what_has_no_documented_figure_is_shown_with_its_interval_and_reading(root):
    (root / "studies" / "undocumented_keys.csv").write_text(
        'study,key,note\ntoy,gain_down,"Scratch beats frozen here."\ntoy,gain_flat,\n'
        'toy,control,"A control."\n')
    for seed, (down, flat) in enumerate([(-2.0, 1.0), (-3.0, -1.0), (-2.5, 0.5)]):
        add("gain_down", seed, {"accuracy_gain": down})
        add("gain_flat", seed, {"accuracy_gain": flat})
        add("control", seed, {"test_error": 40.0 + seed, "test_accuracy": 60.0 - seed})
    results.write_tables(["toy"])
    section = (root / "results" / "toy.md").read_text().split(
        "## Measured without a documented figure")[1].split("\n## ")[0]
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")
            for line in section.splitlines() if line.startswith("| ") and "---" not in line}
    assert list(rows) == ["key", "gain_down", "gain_flat", "control"]  # the file's order
    assert rows["gain_down"][3:7] == ["-2.5 ± 0.5", "3", "-3.742 to -1.258", "< 0"]
    assert "Scratch beats frozen here." in rows["gain_down"][7]
    assert rows["gain_flat"][6] == "holds 0"
    assert rows["control"][2:4] == ["test_error", "41 ± 1"]  # its error, no gain reading
    assert rows["control"][6] == "–"


def test_regenerating_keeps_the_hand_written_part_of_the_readme(root):
    add("up", 0, {"test_accuracy": 99.6})
    readme = root / "results" / "README.md"
    readme.write_text(f"# Our results\n\nIntro by hand.\n\n{BEGIN}\nstale\n{END}\n\nFooter.\n")
    assert kcc("tables") == 0
    text = readme.read_text()
    assert text.startswith("# Our results\n\nIntro by hand.") and text.endswith("Footer.\n")
    assert "stale" not in text and re.search(r"\| up \|.*\| match \|", text)


# --- kcc compare ----------------------------------------------------------------------------

def kcc(*args):
    from keras_cnn_course.cli import main

    return main(list(args))


def test_kcc_compare_exit_codes(root, tmp_path, capsys):
    add("up", 0, {"test_accuracy": 99.5})
    add("down", 0, {"test_error": 18})
    add("both", 0, {"test_accuracy": 57})
    assert kcc("compare", "toy") == 1  # `never` is missing
    assert "| never |" in capsys.readouterr().out
    add("never", 0, {"test_accuracy": 90.5})
    assert kcc("compare", "toy", "--results-dir", str(root / "results")) == 0
    add("never", 1, {"test_accuracy": 88.0}, protocol="book")
    assert kcc("compare") == 1  # a miss under the book protocol
    assert kcc("compare", "no_such_study") == 2
    assert "no_such_study" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert kcc("compare", "--results-dir", str(empty)) == 2  # nothing run yet: say so
    for wrong, says in ((empty, "holds no results CSV"), (tmp_path / "typo", "is not a directory")):
        capsys.readouterr()
        assert kcc("compare", "toy", "--results-dir", str(wrong)) == 2  # not "you ran nothing"
        assert capsys.readouterr().err == (
            f"kcc compare: --results-dir {wrong}: {says}; give the directory a study's last line "
            "names (results: DIR/<study>.md), e.g. my_results\n")


def test_a_quick_directory_says_so_on_its_page_and_in_kcc_compare(root, tmp_path, capsys):
    from keras_cnn_course.results.documented import QUICK_MARKER

    quick = tmp_path / "quick"
    results.append_run("toy", "up", 0, "fast", {"test_accuracy": 70.2}, wall_seconds=1.0,
                       command="python toy.py --quick", results_dir=quick)
    (quick / QUICK_MARKER).write_text("quick\n")
    results.write_tables(["toy"], results_dir=quick)
    assert "**--quick results**: one epoch on tiny data" in (quick / "toy.md").read_text()
    assert kcc("compare", "toy", "--results-dir", str(quick)) == 1  # its miss is still a miss
    assert "**--quick results**" in capsys.readouterr().out


def test_repo_root_is_overridable_and_explains_a_wrong_one(tmp_path, monkeypatch):
    monkeypatch.setenv("KCC_ROOT", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="KCC_ROOT"):
        results.repo_root()
    monkeypatch.delenv("KCC_ROOT")
    documented = results.load_documented()  # the project's own file
    assert documented["key"].is_unique and len(documented) > 40
    assert set(documented["better"]) <= {"higher", "lower", "none"}
    assert not documented["value"].map(math.isnan).any()


def test_training_time_counts_each_training_once():
    from keras_cnn_course.results.timing import training_time

    row = dict(protocol="p", steps=100, date="d", seed=0, test_accuracy=99.0)
    runs = pd.DataFrame([
        dict(row, key="a", wall_seconds=60.0),  # one run measured under two keys
        dict(row, key="a_lecture", wall_seconds=60.0),
        dict(row, key="b", seed=0, wall_seconds=120.0),  # two seeds trained together as copies
        dict(row, key="b", seed=1, wall_seconds=120.0),
        dict(row, key="vote", steps=float("nan"), wall_seconds=500.0),  # a derived row
        dict(row, key="c", protocol="q", wall_seconds=30.0),
    ])
    times = training_time(runs)
    minutes, trainings, once = times["p"]
    assert (minutes, trainings, len(once)) == (3.0, 2, 3)
    assert times["q"][:2] == (0.5, 1)


def test_training_time_counts_runs_side_by_side_as_elapsed_time():
    from keras_cnn_course.results.timing import training_time

    row = dict(protocol="p", steps=100, seed=0)
    runs = pd.DataFrame([  # a and b overlap by 20 s; c starts after a gap
        dict(row, key="a", wall_seconds=60.0, started="2026-01-01T00:00:00+00:00"),
        dict(row, key="b", wall_seconds=50.0, started="2026-01-01T00:00:40+00:00"),
        dict(row, key="c", wall_seconds=30.0, started="2026-01-01T00:10:00+00:00"),
    ])
    minutes, trainings, once = training_time(runs)["p"]
    assert (minutes * 60, trainings, len(once)) == (120.0, 3, 3)


def test_protocols_are_listed_in_the_studys_order_whatever_ran_first(root):
    add("up", 0, {"test_accuracy": 99.0}, protocol="book")
    add("up", 0, {"test_accuracy": 99.5}, protocol="fast")
    with pytest.raises(ValueError, match=r"protocol 'other' is not one of the toy study's"):
        add("up", 0, {"test_accuracy": 98.0}, protocol="other")  # only the study's own
    comparison = results.compare("toy")
    assert list(comparison[comparison["key"] == "up"]["protocol"]) == ["fast", "book"]
    page = results.study_markdown("toy")
    assert page.index("- `fast`: the default") < page.index("- `book`: the source's recipe")


def test_the_results_modules_import_each_other_without_a_cycle():
    import ast
    from pathlib import Path

    package = Path(results.__file__).parent
    imports = {}  # module -> the results modules it imports, at the top or inside functions
    for path in package.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "keras_cnn_course.results":
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.removeprefix("keras_cnn_course.results."))
        imports[path.stem] = found & {p.stem for p in package.glob("*.py")} - {"__init__"}
    done, path = set(), []

    def visit(module):
        assert module not in path, f"import cycle: {' -> '.join(path + [module])}"
        if module not in done:
            path.append(module)
            for other in sorted(imports[module]):
                visit(other)
            path.pop()
            done.add(module)

    for module in sorted(imports):
        visit(module)
    assert not (package / "tables.py").exists()


# --- your results against the reference ---------------------------------------------------

def test_your_directory_is_compared_three_way_against_the_reference(root, tmp_path, capsys):
    mine = tmp_path / "mine"
    add("up", 0, {"test_accuracy": 99.5})  # the reference (results/)
    add("up", 1, {"test_accuracy": 99.7})
    add("down", 0, {"test_error": 18})
    add("up", 0, {"test_accuracy": 99.3}, results_dir=mine)  # yours: a miss
    add("up", 0, {"test_accuracy": 99.6}, protocol="book", results_dir=mine)  # only yours ran
    assert results.is_reference(root / "results") and results.is_reference(None)
    assert results.is_reference(root / "results" / ".." / "results")
    assert not results.is_reference(mine)
    rows = {(row.key, row.protocol): row for row in results.compare("toy", mine).itertuples()}
    assert list(rows) == [("up", "fast"), ("up", "book"), ("down", "fast"), ("both", ""),
                          ("never", "")]
    up, book, down = rows["up", "fast"], rows["up", "book"], rows["down", "fast"]
    assert (up.reference_n, up.reference_mean, up.n, up.mean, up.status) == (2, 99.6, 1, 99.3, "miss")
    assert (book.reference_n, math.isnan(book.reference_mean), book.status) == (0, True, "match")
    assert (down.reference_n, down.reference_mean, down.n, down.status) == (1, 18, 0, "not run")
    assert rows["never", ""].status == "not run"  # neither ran it: not run, not missing
    assert kcc("compare", "toy", "--results-dir", str(mine)) == 1  # your miss
    printed = capsys.readouterr().out
    assert f"Yours: {mine}" in printed and "| down | net_b | test_error | fast |" in printed
    add("up", 0, {"test_accuracy": 99.5}, results_dir=mine, replace=True)
    assert kcc("compare", "toy", "--results-dir", str(mine)) == 0  # `not run` is no failure
    assert kcc("compare", "toy") == 1  # the reference: `never` is missing, as before
    assert "reference_mean" not in results.compare("toy", root / "results")  # two-way
    assert "reference_mean" not in results.compare("toy", mine, reference_dir=mine)


def contents(directory):
    """{path: bytes} of every file under `directory`."""
    return {path: path.read_bytes() for path in directory.rglob("*") if path.is_file()}


def test_your_page_shows_the_reference_beside_yours(root, tmp_path):
    mine = tmp_path / "mine"
    add("up", 0, {"test_accuracy": 99.5, "validation_accuracy": 99.1})
    add("up", 1, {"test_accuracy": 99.7, "validation_accuracy": 99.2})
    add("down", 0, {"test_error": 18})
    results.write_tables(["toy"])
    reference = contents(root / "results")
    add("up", 0, {"test_accuracy": 99.41, "validation_accuracy": 99.5}, results_dir=mine)
    add("up", 1, {"test_accuracy": 99.55, "validation_accuracy": 99.4}, results_dir=mine)
    written = results.write_tables(results_dir=mine)
    assert {path.relative_to(mine).as_posix() for path in written} == {
        "toy.md", "figures/toy_vs_documented.png", "README.md"}
    page = (mine / "toy.md").read_text()
    up, down = table_rows(page)["up"], table_rows(page)["down"]
    assert (up["reference: mean ± std"], up["reference: n"]) == ("99.6 ± 0.141", "2")
    assert (up["yours: mean ± std"], up["yours: n"]) == ("99.48 ± 0.099", "2")
    assert (up["yours: best by validation"], up["delta"], up["status"]) == ("99.41", "-0.19",
                                                                          "match")
    assert (down["reference: mean ± std"], down["yours: n"], down["status"]) == ("18", "0",
                                                                               "not run")
    assert "`not run` when you did not run it" in page
    assert page.count("`python toy.py`") == 2  # your runs, not the reference's
    readme = (mine / "README.md").read_text()
    assert readme.startswith("# Your results") and "[toy](toy.md): 1 match, 3 not run" in readme
    assert table_rows(readme.split("[toy](toy.md)")[1]) == table_rows(page)
    assert (mine / "figures" / "toy_vs_documented.png").read_bytes()[:4] == b"\x89PNG"
    assert contents(root / "results") == reference  # the reference is only read


def clone_copy(tmp_path, monkeypatch):
    """A copy of the clone's layout (reproductions/, results/, README.md) as KCC_ROOT."""
    real, clone = results.repo_root(), tmp_path / "clone"
    (clone / "reproductions").mkdir(parents=True)
    shutil.copytree(real / "results", clone / "results")
    shutil.copy(real / "README.md", clone)
    monkeypatch.setenv("KCC_ROOT", str(clone))
    return clone


def test_a_scratch_directory_inside_the_clone_never_rewrites_the_project_readme(tmp_path,
                                                                                 monkeypatch):
    clone = clone_copy(tmp_path, monkeypatch)
    readme, before = clone / "README.md", (clone / "README.md").read_bytes()
    reference = contents(clone / "results")
    scratch = clone / "scratch"
    scratch.mkdir()
    runs = pd.read_csv(clone / "results" / "mnist1d.csv", dtype=str, keep_default_na=False)
    runs[runs["seed"] == "0"].to_csv(scratch / "mnist1d.csv", index=False)
    assert kcc("tables", "--results-dir", str(scratch)) == 0
    results.write_tables(results_dir=scratch)
    assert readme.read_bytes() == before and contents(clone / "results") == reference
    own = (scratch / "README.md").read_text()  # the scratch directory's own, of its studies only
    assert BEGIN in own and "[mnist1d](mnist1d.md)" in own and "nielsen_mnist" not in own
    with pytest.raises(ValueError, match=r"readme=.*nope\.md: no such file"):
        results.write_tables(results_dir=scratch, readme=clone / "nope.md")


def test_kcc_tables_on_the_reference_rewrites_the_project_readmes_section_only(tmp_path,
                                                                              monkeypatch):
    clone = clone_copy(tmp_path, monkeypatch)
    readme = clone / "README.md"
    head, rest = readme.read_text().split(BEGIN)
    readme.write_text(f"{head}{BEGIN}\nstale\n{END}{rest.split(END)[1]}")
    assert results.project_readme() == readme and results.project_readme(clone / "x") is None
    assert kcc("tables") == 0
    text = readme.read_text()
    assert text.startswith(head) and text.endswith(rest.split(END)[1]) and "stale" not in text
    for study in ("nielsen_mnist", "mnist1d", "transfer"):  # every study, linked into results/
        assert f"### [{study}](results/{study}.md): " in text


# --- figures linked from the pages ---------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def linked(pages):
    """Every local file the markdown `pages` link to or show, resolved."""
    return {(page.parent / target).resolve() for page in pages if page.exists()
            for target in LINK.findall(page.read_text()) if "://" not in target}


def test_a_study_page_links_every_figure_the_study_drew(root):
    from keras_cnn_course.results.figures import study_figures

    add("up", 0, {"test_accuracy": 99.5})
    figures = root / "results" / "figures"
    (figures / "toy").mkdir(parents=True)
    for name in ("toy/row0-fast.png", "toy/row0-book.png", "toy/row2-fast.png",
                 "toy/misclassified.png", "toy_curves.png", "toy_extra_curves.png", "sobel.png"):
        (figures / name).write_bytes(b"\x89PNG")
    results.write_tables(["toy"])
    page = (root / "results" / "toy.md").read_text()
    assert "![toy_curves](figures/toy_curves.png)" in page
    assert "![misclassified](figures/toy/misclassified.png)" in page
    assert ("| row0 | [row0-fast.png](figures/toy/row0-fast.png) | "
            "[row0-book.png](figures/toy/row0-book.png) |") in page
    assert "| row2 | [row2-fast.png](figures/toy/row2-fast.png) | – |" in page
    assert "sobel.png" not in page  # not the study's
    shown = linked([root / "results" / "toy.md"])
    # every figure but the lecture's; toy_extra_curves.png too, as there is no study toy_extra
    assert {path.resolve() for path in figures.rglob("*.png")} - shown == {figures / "sobel.png"}
    names = {path.name for path in study_figures(root / "results", "toy", {"toy", "toy_extra"})}
    assert "toy_curves.png" in names and "toy_extra_curves.png" not in names  # toy_extra's own
    readme = (root / "results" / "README.md").read_text()
    table_end = readme.index("| never |")
    figure = readme.index("![toy: documented vs measured](figures/toy_vs_documented.png)")
    assert table_end < figure < readme.index(END)  # right after the table


def test_every_committed_figure_is_linked_from_a_page():
    root = results.repo_root()
    pages = [*(root / "results").glob("*.md"), root / "README.md", root / "docs" / "lecture.md"]
    links = linked(pages)
    figures = {path.resolve() for path in (root / "results" / "figures").rglob("*.png")}
    assert len(figures) > 30 and sorted(map(str, figures - links)) == []
    assert [str(path) for path in links if path.suffix == ".png" and not path.exists()] == []
