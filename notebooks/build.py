"""Generate the course notebooks from their sources: `make notebooks` (`make notebooks-timings`
measures their full-mode run time first).

Each notebooks/src/NN_name.py (jupytext percent format) gives two notebooks:
    notebooks/NN_name.ipynb             the student version: every solution region replaced by
                                        `# YOUR CODE HERE` and a stub
    notebooks/solutions/NN_name.ipynb   the teacher version: the solutions kept
A solution region is the lines between `# BEGIN SOLUTION` and `# END SOLUTION`; its stub is
`raise NotImplementedError`, or the code after a colon: `# BEGIN SOLUTION: answer = ...`.
Both versions get a header with the run time measured into notebooks/timings.csv and a first
cell that installs the package from setup.cfg's `url` where it is not importable; the README's
notebook list is generated from the same sources.

    python notebooks/build.py            # write the notebooks and the README's list
    python notebooks/build.py --check    # exit 1 if anything committed is stale
    python notebooks/build.py --time     # run every teacher notebook in full mode, then write
"""

import argparse
import configparser
import contextlib
import csv
import datetime
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
SOLUTIONS = NOTEBOOKS / "solutions"
TIMINGS = NOTEBOOKS / "timings.csv"
README = ROOT / "README.md"
README_BEGIN = "<!-- notebooks:begin (written by `make notebooks`; edit notebooks/src/) -->"
README_END = "<!-- notebooks:end -->"
BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?::\s*(?P<stub>.+))?\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
VERSIONS = ("student", "teacher")
SHORT_ENV = "KCC_NOTEBOOK_SHORT"
FIELDS = ("notebook", "seconds", "measured", "cpu", "load_average")

INSTALL = '''\
# Colab or a fresh Jupyter: install the course (a no-op where keras_cnn_course is installed).
import importlib, importlib.util, subprocess, sys
if importlib.util.find_spec("keras_cnn_course") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "git+{url}"], check=True)
    importlib.invalidate_caches()
    # the data sets, fetched and verified
    subprocess.run([sys.executable, "-m", "keras_cnn_course.cli", "data"], check=True)'''


def repository_url(setup_cfg=ROOT / "setup.cfg"):
    """setup.cfg's [metadata] url: where the notebooks install the package from."""
    config = configparser.ConfigParser()
    config.read(setup_cfg)
    url = config.get("metadata", "url", fallback="").strip()
    if not url:
        raise SystemExit(f"{setup_cfg} has no [metadata] url; add the repository's URL there.")
    return url


def sources():
    return sorted(SOURCES.glob("[0-9][0-9]_*.py"))


def strip_solutions(text, version, where):
    """The code of one cell for `version`: solution regions kept (teacher) or stubbed."""
    lines, region = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if region is not None:
                raise ValueError(f"{where}: line {number} opens a solution inside another")
            region = begin
            if version == "student":
                stub = begin["stub"] or "raise NotImplementedError"
                lines += [f"{begin['indent']}# YOUR CODE HERE", f"{begin['indent']}{stub}"]
        elif end:
            if region is None:
                raise ValueError(f"{where}: line {number} closes a solution never opened")
            region = None
        elif region is None or version == "teacher":
            lines.append(line)
    if region is not None:
        raise ValueError(f"{where}: a solution region is not closed")
    return "\n".join(lines)


def read_timings(path=TIMINGS):
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        return {row["notebook"]: row for row in csv.DictReader(handle)}


def duration(seconds):
    seconds = round(float(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def run_time(stem, timings):
    row = timings.get(stem)
    if row is None:
        return "not measured yet (`make notebooks-timings`)"
    return (f"{duration(row['seconds'])} in full mode on a {row['cpu']} (measured "
            f"{row['measured']} by `make notebooks-timings`, the machine's load average "
            f"{row['load_average']} at the start)")


def title_and_summary(notebook):
    """The first markdown cell's `# title` and first paragraph (the README's one line)."""
    lines = notebook.cells[0].source.splitlines()
    title = lines[0].lstrip("# ").strip()
    summary = next(line.strip() for line in lines[1:] if line.strip())
    return title, summary


def colab_link(url, path):
    match = re.match(r"https://github\.com/([^/]+/[^/]+?)(?:\.git)?/?$", url)
    if not match:
        return ""
    return (f"[Open in Colab](https://colab.research.google.com/github/{match[1]}/blob/main/"
            f"{path.relative_to(ROOT).as_posix()})")


def render(source, version, url, timings):
    """The notebook of `version` built from one jupytext percent source."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}; received {version!r}")
    parsed = jupytext.reads(source.read_text(), fmt="py:percent")
    stem = source.stem
    target = output_path(source, version)
    header = parsed.cells[0].source.rstrip()
    role = ("**Student version**: write your code where a cell says `# YOUR CODE HERE`; the "
            "call after it checks your answer." if version == "student" else
            "**Teacher version**: the exercises are solved (the student version is "
            f"`notebooks/{stem}.ipynb`).")
    link = colab_link(url, target)
    header += (f"\n\n{role}\n\nRun time: {run_time(stem, timings)}. "
               f"Set `{SHORT_ENV}=1` for a seconds-long run on tiny data (the tests do)."
               + (f" {link}" if link else ""))
    cells = [nbformat.v4.new_markdown_cell(header),
             nbformat.v4.new_code_cell(INSTALL.format(url=url))]
    for number, cell in enumerate(parsed.cells[1:], start=2):
        where = f"{source.name} cell {number}"
        if cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(strip_solutions(cell.source, version, where)))
        else:
            cells.append(nbformat.v4.new_markdown_cell(cell.source))
    for number, cell in enumerate(cells):
        cell.id = f"{stem[:2]}-{number:02d}"
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return notebook


def output_path(source, version):
    return (NOTEBOOKS if version == "student" else SOLUTIONS) / f"{source.stem}.ipynb"


def readme_section(url, timings):
    lines = [README_BEGIN, "", "| notebook | what it teaches | run time (full mode) |",
             "|---|---|---|"]
    for source in sources():
        notebook = jupytext.reads(source.read_text(), fmt="py:percent")
        title, summary = title_and_summary(notebook)
        row = timings.get(source.stem)
        time_text = duration(row["seconds"]) if row else "not measured yet"
        lines.append(f"| [{source.stem}](notebooks/{source.stem}.ipynb) "
                     f"([solutions](notebooks/solutions/{source.stem}.ipynb)) | **{title}**: "
                     f"{summary} | {time_text} |")
    return "\n".join([*lines, "", README_END])


def expected_files():
    """{path: text} of every generated file."""
    url, timings = repository_url(), read_timings()
    files = {}
    for source in sources():
        for version in VERSIONS:
            files[output_path(source, version)] = nbformat.writes(
                render(source, version, url, timings)) + "\n"
    readme = README.read_text()
    if README_BEGIN not in readme or README_END not in readme:
        raise SystemExit(f"{README} lacks the markers {README_BEGIN!r} ... {README_END!r}")
    before, rest = readme.split(README_BEGIN, 1)
    files[README] = before + readme_section(url, timings) + rest.split(README_END, 1)[1]
    return files


def stale_files():
    return [path for path, text in expected_files().items()
            if not path.exists() or path.read_text() != text]


def write():
    for path, text in expected_files().items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")


def execute(path, short, timeout=900):
    """Run a notebook top to bottom in a fresh kernel that imports this checkout's package, in a
    scratch directory; return the notebook with its outputs."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    with _kernel_environment(short), tempfile.TemporaryDirectory(prefix="kcc-notebook-") as scratch:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": scratch}}).execute()
    return notebook


def execute_in_one_kernel(paths, short, timeout=900):
    """{path: executed notebook, or the exception it raised}, all run in one kernel (the tests:
    TensorFlow is imported once). Before each notebook `%reset -f` empties the namespace, so a
    notebook cannot use another's variables; imported modules and their settings stay."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient

    executed = {}
    with _kernel_environment(short), tempfile.TemporaryDirectory(prefix="kcc-notebook-") as scratch:
        manager = AsyncKernelManager(kernel_name="python3")
        run_sync(manager.start_kernel)(cwd=scratch)
        try:
            for path in paths:
                notebook = nbformat.read(path, as_version=4)
                reset = nbformat.v4.new_code_cell(f"%reset -f\nimport os\nos.chdir({scratch!r})")
                notebook.cells.insert(0, reset)
                try:
                    NotebookClient(notebook, km=manager, timeout=timeout).execute()
                    executed[path] = notebook
                except Exception as error:  # noqa: BLE001 -- reported per notebook by the caller
                    executed[path] = error
                notebook.cells.remove(reset)
        finally:
            run_sync(manager.shutdown_kernel)(now=True)
    return executed


@contextlib.contextmanager
def _kernel_environment(short):
    """The kernel's environment: this checkout first on the path, short mode on or off."""
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    changes = {SHORT_ENV: "1" if short else "0", "PYTHONPATH": python_path,
               "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    previous = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{os.cpu_count()}-core {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return f"{os.cpu_count()}-core {platform.processor() or platform.machine()}"


def measure(names, outputs=None):
    """Run the chosen teacher notebooks in full mode, one at a time; record their wall times
    (and keep the executed notebooks in `outputs`, a directory, when given)."""
    timings = read_timings()
    chosen = [s for s in sources() if not names or s.stem in names or s.stem[:2] in names]
    for source in chosen:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        start = time.perf_counter()
        executed = execute(output_path(source, "teacher"), short=False)
        seconds = time.perf_counter() - start
        print(f"{source.stem}: {duration(seconds)}" + (" (over the 5-minute limit)"
                                                       if seconds > 300 else ""), flush=True)
        if outputs is not None:
            Path(outputs).mkdir(parents=True, exist_ok=True)
            nbformat.write(executed, Path(outputs) / f"{source.stem}.ipynb")
        timings[source.stem] = {"notebook": source.stem, "seconds": f"{seconds:.0f}",
                                "measured": datetime.date.today().isoformat(), "cpu": cpu_name(),
                                "load_average": f"{load:.1f}"}
        temporary = TIMINGS.with_suffix(".csv.tmp")
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, FIELDS)
            writer.writeheader()
            writer.writerows(timings[stem] for stem in sorted(timings))
        temporary.replace(TIMINGS)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    group.add_argument("--time", nargs="*", metavar="NOTEBOOK",
                       help="measure the full-mode run time of these notebooks (default: all)")
    parser.add_argument("--outputs", metavar="DIR",
                        help="with --time: keep the executed notebooks in DIR (outside the repo)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run `make notebooks`)", file=sys.stderr)
        return 1 if stale else 0
    if args.time is not None:
        write()  # measure what the sources say now
        measure(args.time, args.outputs)
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
