"""The course notebooks: generated from their sources, every teacher version runs end to end in
short mode with every check passing, and every check rejects the student version's blank stub."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

from keras_cnn_course.exercises import ExerciseError

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("notebook_build", ROOT / "notebooks" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)
STEMS = [source.stem for source in build.sources()]


def is_check(cell):
    return cell.cell_type == "code" and cell.source.lstrip().startswith("check.")


def test_committed_notebooks_and_readme_list_are_generated_from_the_sources():
    stale = [str(path.relative_to(ROOT)) for path in build.stale_files()]
    assert not stale, f"stale generated files {stale}: run `make notebooks`"


@pytest.mark.parametrize("stem", STEMS)
def test_one_source_gives_both_versions(stem):
    student = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    teacher = nbformat.read(ROOT / "notebooks" / "solutions" / f"{stem}.ipynb", as_version=4)
    regions = (ROOT / "notebooks" / "src" / f"{stem}.py").read_text().count("# BEGIN SOLUTION")
    code = lambda nb: "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert code(student).count("# YOUR CODE HERE") == regions >= 3
    assert "# YOUR CODE HERE" not in code(teacher)
    assert "SOLUTION" not in code(student) + code(teacher)
    assert sum(map(is_check, student.cells)) >= 3
    assert [c.cell_type for c in student.cells] == [c.cell_type for c in teacher.cells]
    for cell in student.cells + teacher.cells:  # committed without outputs
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
    install = student.cells[1].source
    assert build.repository_url() in install and "find_spec(\"keras_cnn_course\")" in install


def test_no_notebook_takes_more_than_five_minutes_in_full_mode():
    timings = build.read_timings()
    assert set(timings) <= set(STEMS), "notebooks/timings.csv names a notebook that is gone"
    slow = {stem: row["seconds"] for stem, row in timings.items() if float(row["seconds"]) > 300}
    assert not slow, f"full-mode run times over 5 minutes (seconds): {slow}"


@pytest.mark.parametrize("stem", STEMS)
def test_every_check_rejects_the_blank_stub(stem):
    """The student version's setup cell, then each stub and the check after it: the check must
    raise ExerciseError with a one-line message (no check passes vacuously)."""
    notebook = build.render(build.SOURCES / f"{stem}.py", "student", build.repository_url(), {})
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    namespace = {"__name__": "__main__"}
    setup = [line for line in code[1].source.splitlines() if not line.startswith("%")]
    exec("\n".join(setup), namespace)  # code[0] installs, code[1] imports (without magics)
    checked = 0
    for stub, check in zip(code, code[1:]):
        if "# YOUR CODE HERE" not in stub.source:
            continue
        assert is_check(check), f"a stub must be followed by its check:\n{stub.source}"
        exec(stub.source, namespace)
        with pytest.raises(ExerciseError) as raised:
            exec(check.source, namespace)
        message = str(raised.value)
        assert "\n" not in message and ("not written yet" in message
                                        or "not filled in yet" in message), message
        checked += 1
    assert checked >= 3


@pytest.fixture(scope="module")
def executed_teacher_notebooks():
    """Every teacher notebook run in short mode, in one kernel (one TensorFlow import)."""
    paths = [build.SOLUTIONS / f"{stem}.ipynb" for stem in STEMS]
    return {path.stem: notebook
            for path, notebook in build.execute_in_one_kernel(paths, short=True).items()}


@pytest.mark.notebooks
@pytest.mark.parametrize("stem", STEMS)
def test_teacher_notebook_runs_in_short_mode_and_every_check_passes(stem,
                                                                     executed_teacher_notebooks):
    notebook = executed_teacher_notebooks[stem]
    if isinstance(notebook, Exception):
        raise notebook
    checks = [cell for cell in notebook.cells if is_check(cell)]
    for cell in checks:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        assert text.startswith("✓"), f"{cell.source!r} printed {text!r}"
    figures = sum("image/png" in o.get("data", {}) for c in notebook.cells
                  for o in c.get("outputs", []))
    assert figures >= 2, "the figures are shown inline"
