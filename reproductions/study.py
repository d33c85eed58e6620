"""What every reproduction shares: its command line, where runs live, skipping finished runs, and
how a user error ends (one line, exit code 2).

A run's logs and Keras backups live in `runs/<study>/<key>/<protocol>-seed<N>/` (not committed);
its per-epoch history is copied next to the results (`results/histories/<study>/`), so that the
learning-curve figures can be redrawn from a clean clone. --quick results never share a directory
with real ones (`results_directory`).
"""

import argparse
import functools
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from keras_cnn_course import results
from keras_cnn_course.arguments import positive_int


def parser(description, rows=None, protocols=("fast",)):
    """The options every reproduction takes; `--rows` only where the study has rows."""
    cli = argparse.ArgumentParser(description=description)
    if rows is not None:
        cli.add_argument("--rows", nargs="+", choices=list(rows), metavar="KEY",
                         help=f"run only these rows (default: all): {', '.join(rows)}")
    cli.add_argument("--seeds", type=positive_int, metavar="N",
                     help="seeds per row (default: each row's own)")
    cli.add_argument("--protocol", choices=protocols, default=protocols[0])
    cli.add_argument("--quick", action="store_true",
                     help="tiny subsets and one epoch, in seconds; writes to a scratch directory "
                     "(or a --results-dir without real runs: it is marked as a quick one)")
    cli.add_argument("--strategy", type=positive_int, default=None, metavar="REPLICAS",
                     help="train over this many replicas (GPUs, or logical CPU devices)")
    cli.add_argument("--redo", action="store_true", help="rerun rows that are already finished")
    cli.add_argument("--results-dir", help="where <study>.csv goes (default: results/)")
    return cli


def reports_user_errors(module):
    """Decorate a reproduction's `main(argv)`: a user error (ValueError or FileNotFoundError: a bad
    TF_CONFIG, results CSV or data file, a refused option) ends in one line `module: message` on
    stderr and exit code 2, as `kcc` does, instead of a traceback."""
    def decorate(main):
        @functools.wraps(main)
        def checked(argv=None):
            try:
                return main(argv)
            except (ValueError, FileNotFoundError) as error:
                print(f"{module}: {' '.join(str(error).split())}", file=sys.stderr)
                return 2

        return checked

    return decorate


def one_device_only(args, study, why):
    """Stop a study that trains on one device when asked for several replicas or workers."""
    from keras_cnn_course.training.strategy import cluster_from_tf_config

    if args.strategy not in (None, 1):
        raise ValueError(f"--strategy: the {study} study {why}; run it without --strategy")
    if sum(len(tasks) for tasks in cluster_from_tf_config().values()) > 1:
        raise ValueError(f"TF_CONFIG describes a cluster, but the {study} study {why}; every "
                         "worker would train and write the same rows: run it in one process "
                         "(without kcc launch)")


def output_dirs(args, study):
    """(results directory, runs directory), once the study's results there have been read: a bad
    row stops the run before it trains, not when it appends. --quick trains in a scratch
    directory and, unless --results-dir is given, writes its results there too; it never writes
    where real runs are (see `results_directory`)."""
    if args.quick:
        chosen = args.results_dir and results_directory(args.results_dir, quick=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"kcc-{study}-quick-"))
        directory = chosen or results_directory(scratch / "results", quick=True)
        runs_dir = scratch / "runs"
    else:
        directory = results_directory(results.results_dir(args.results_dir), quick=False)
        runs_dir = directory.parent / "runs" / study
    results.load_runs(study, directory)
    return directory, runs_dir


QUICK_MARKER = ".quick"  # in a results directory: it holds --quick results (1 epoch, tiny data)


def results_directory(directory, quick):
    """`directory` for a run's results: for --quick, one without result CSVs (then marked with
    QUICK_MARKER) or one already marked; for a real run, one not marked. Anything else is a
    ValueError, raised before anything is trained or written."""
    directory = Path(directory)
    marked = (directory / QUICK_MARKER).exists()
    csvs = sorted(path.name for path in directory.glob("*.csv")) if directory.is_dir() else []
    if quick and csvs and not marked:
        raise ValueError(f"--quick --results-dir {directory}: it holds real results "
                         f"({', '.join(csvs)}) that 1-epoch runs would join or replace; give "
                         "--quick a new directory, or leave out --results-dir for a scratch one")
    if not quick and marked:
        raise ValueError(f"--results-dir {directory} holds --quick results (it has "
                         f"{QUICK_MARKER}); real runs must not mix with them: choose another "
                         "directory, or add --quick")
    if quick and not marked:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / QUICK_MARKER).write_text("This directory holds --quick results (1 epoch, "
                                              "tiny data): smoke tests, not measurements.\n")
    return directory


def select_rows(rows, wanted):
    """The rows named in --rows (all when None), in the study's order."""
    return [key for key in rows if not wanted or key in wanted]


def is_done(study, keys, seed, protocol, results_dir, redo=False):
    """True when every key of this run already has a row (and --redo was not given)."""
    done = results.completed(study, results_dir)
    return not redo and all((key, seed, protocol) in done for key in keys)


def keep_history(run_dir, results_dir, study, name):
    """Copy a run's per-epoch history next to the results; returns its path."""
    target = Path(results_dir) / "histories" / study / f"{name}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(run_dir) / "history.csv", target)
    return target


def command_line(module):
    """The command that ran this reproduction, as a user would type it."""
    return shlex.join(["python", "-m", module, *sys.argv[1:]])
