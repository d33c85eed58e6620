"""The study runner every reproduction shares.

A study declares its runs as data: rows with named fields, each holding a `Recipe`, and one
function that trains a batch of runs (`Study`). `run(study, argv)` does the rest: the command
line, where results go, which runs are still to do (skip, resume, `--redo`), progress, the
results rows, histories and predictions, the figures and the page, and the last line
`results: PATH`.

Where results go:
- by default `my_results/` in the clone (git ignores it): the user's own runs, page and figures,
  compared with the documented figures and with the package's reference results;
- `--results-dir DIR`: the same, in DIR;
- `--publish`: the package's reference, `results/`, and the README's results section (how the
  reference is refreshed);
- `--quick`: a scratch directory, or a `--results-dir` holding nothing but quick runs.
A run's logs and Keras backups live in `<results>/checkpoints/<study>/<run>/` (git ignores
them), so an interrupted run resumes there and no two results directories share checkpoints.
"""

import argparse
import dataclasses
import functools
import shlex
import shutil
import statistics
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from keras_cnn_course import results
from keras_cnn_course.arguments import positive_int
from keras_cnn_course.project import repo_root
from keras_cnn_course.results.documented import QUICK_MARKER

USER_DIR = "my_results"  # the user's own results in a clone (listed in .gitignore)
HEARTBEAT_SECONDS = 50  # a study that trains silently prints its progress at least this often


def run_name(row, protocol, seed):
    """The one name of a run: its checkpoints folder, history and predictions files."""
    return f"{row}-{protocol}-seed{seed}"


@dataclasses.dataclass(frozen=True)
class Run:
    """One (row, seed) of a study under one protocol."""

    row: str
    seed: int
    protocol: str

    @property
    def name(self):
        return run_name(self.row, self.protocol, self.seed)


@dataclasses.dataclass(frozen=True)
class Study:
    """A reproduction: its rows (each with `keys` and a number of `seeds`) and how it trains.

    `train(runs, context)` trains the pending runs (in batches if it likes), records each through
    `context` and yields each run as it finishes; `finish(context)` draws the figures from the
    results. `seeds(row, protocol)` is the number of seeds a row runs by default (`row.seeds`
    unless given); a --quick run trains `row.quick_seeds` where a row has it, else `quick_seeds`
    (or --seeds).
    """

    name: str
    module: str  # what `python -m` runs
    description: str
    rows: dict
    train: object
    finish: object = None
    protocols: tuple = ("fast",)
    seeds: object = None  # (row, protocol) -> int; default: row.seeds
    quick_seeds: int = 1
    strategy: bool = False  # trains under several replicas or workers (--strategy, TF_CONFIG)
    one_device_reason: str = ""  # why it does not, when it does not
    options: object = None  # (argparse parser) -> None: the study's own options
    quiet: bool = False  # trains without a per-epoch bar: print progress every HEARTBEAT_SECONDS
    # (args) -> None, before anything is written: raise when the run cannot start (a download)
    preflight: object = None

    def row_seeds(self, name, protocol, quick=False, requested=None):
        """Seeds the row trains; 0 under a protocol it does not list (`row.protocols`)."""
        row = self.rows[name]
        if protocol not in getattr(row, "protocols", (protocol,)):
            return 0
        if quick:
            return getattr(row, "quick_seeds", requested or self.quick_seeds)
        return requested or (self.seeds(row, protocol) if self.seeds else row.seeds)


@dataclasses.dataclass
class Context:
    """What a study's `train` and `finish` need: the options, the directories, the recorder."""

    study: Study
    args: argparse.Namespace
    results_dir: Path
    strategy: object = None
    writes: bool = True  # False on the workers other than the chief: they write nothing
    trained: set = dataclasses.field(default_factory=set)  # run names trained in this process

    @property
    def checkpoints(self):
        return self.results_dir / "checkpoints" / self.study.name

    def run_dir(self, run):
        return self.checkpoints / run.name

    def command(self):
        return command_line(self.study.module)

    def append_run(self, run, metrics, key=None, **provenance):
        """The run's result rows (one per key of its row, or `key`): metrics and provenance."""
        if self.writes:
            keys = [key] if key else list(self.study.rows[run.row].keys)
            results.append_run(self.study.name, keys, run.seed,
                               run.protocol, metrics, replace=self.args.redo,
                               results_dir=self.results_dir, command=self.command(), **provenance)

    def append_fit(self, run, result, **options):
        """`append_run` for a training.FitResult (its selected figures, timings, steps)."""
        if self.writes:
            results.append_fit(self.study.name, list(self.study.rows[run.row].keys), run.seed,
                               run.protocol, result, replace=self.args.redo,
                               results_dir=self.results_dir, command=self.command(), **options)

    def history_path(self, run):
        return self.results_dir / "histories" / self.study.name / f"{run.name}.csv"

    def keep_history(self, run, source=None, frame=None):
        """Keep the run's per-epoch history beside the results: a CSV file or a DataFrame."""
        if not self.writes:
            return
        target = self.history_path(run)
        target.parent.mkdir(parents=True, exist_ok=True)
        if frame is not None:
            results.write_atomic(target, frame.to_csv(index=False))
        else:
            shutil.copyfile(source, target)

    def predictions_path(self, run):
        return self.results_dir / "predictions" / self.study.name / f"{run.name}.npy"

    def keep_predictions(self, run, predictions):
        if self.writes:
            path = self.predictions_path(run)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, predictions)

    def figure(self, *parts):
        """Where a figure of this study goes: figures/<study>/<parts>."""
        return self.results_dir.joinpath("figures", self.study.name, *parts)


def parser(study):
    """The options every reproduction takes, and the study's own."""
    cli = argparse.ArgumentParser(prog=f"python -m {study.module}", description=study.description)
    cli.add_argument("--rows", nargs="+", choices=list(study.rows), metavar="ROW",
                     help=f"run only these rows (default: all): {', '.join(study.rows)}")
    cli.add_argument("--seeds", type=positive_int, metavar="N",
                     help="seeds per row (default: each row's own)")
    cli.add_argument("--protocol", choices=study.protocols, default=study.protocols[0])
    cli.add_argument("--quick", action="store_true",
                     help="tiny subsets and one epoch, in seconds; writes to a scratch directory "
                     "(or a --results-dir without real runs: it is marked as a quick one)")
    if study.strategy:
        cli.add_argument("--strategy", type=positive_int, default=None, metavar="REPLICAS",
                         help="train over this many replicas (GPUs, or logical CPU devices)")
    cli.add_argument("--redo", action="store_true", help="rerun rows that are already finished")
    where = cli.add_mutually_exclusive_group()
    where.add_argument("--results-dir", type=Path,
                       help=f"where your results go (default: {USER_DIR}/ in the clone)")
    where.add_argument("--publish", action="store_true",
                       help="write the package's reference results (results/ and the README's "
                       "results section) instead of your own")
    cli.add_argument("--tensorboard", action="store_true",
                     help="write TensorBoard logs of every run into its checkpoints folder "
                     "(pip install tensorboard, or the [tensorboard] extra)")
    if study.options:
        study.options(cli)
    return cli


def reports_user_errors(module):
    """Decorate a `main(argv)`: a user error (ValueError, FileNotFoundError or ConnectionError: a
    bad TF_CONFIG, results CSV or data file, a refused option, a download out of reach) ends in one line `module: message` on stderr and
    exit code 2, as `kcc` does, instead of a traceback."""
    def decorate(main):
        @functools.wraps(main)
        def checked(argv=None):
            try:
                return main(argv)
            except (ValueError, FileNotFoundError, ConnectionError) as error:
                print(f"{module}: {' '.join(str(error).split())}", file=sys.stderr)
                return 2

        return checked

    return decorate


def run(study, argv=None):
    """Run a study from its command line; returns the exit code (see the module docstring):
    130 after an interrupt, which ends in one line."""
    try:
        return reports_user_errors(study.module)(functools.partial(_run, study))(argv)
    except KeyboardInterrupt:  # before training started, or a second interrupt
        print(f"{study.module}: interrupted", file=sys.stderr)
        return 130


def _run(study, argv):
    args = parser(study).parse_args(argv)
    if args.quick and args.publish:
        raise ValueError("--quick --publish: quick runs are smoke tests, never the reference")
    other = [row for row in args.rows or ()
             if args.protocol not in getattr(study.rows[row], "protocols", (args.protocol,))]
    if other:
        row = study.rows[other[0]]
        raise ValueError(f"--rows {' '.join(other)}: not run under --protocol {args.protocol}; "
                         f"row {other[0]} runs under --protocol {' or '.join(row.protocols)}")
    if args.tensorboard:
        _check_tensorboard()
    if study.preflight:
        study.preflight(args)
    strategy = _strategy(study, args)
    context = Context(study, args, results_directory(_chosen_dir(study, args), args.quick),
                      strategy)
    if strategy is not None:
        from keras_cnn_course.training.strategy import is_chief

        context.writes = is_chief(strategy)  # in a multi-worker run, only the chief writes
    results.load_runs(study.name, context.results_dir)  # a bad results file stops us here
    runs, skipped = pending_runs(study, context)
    progress = Progress(study.name, runs, reference_seconds(study, runs, args.quick), skipped)
    try:
        with progress.heartbeat(study.quiet):
            for finished in study.train(runs, context):
                context.trained.add(finished.name)
                progress.finished(finished)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut this short
        print(f"{study.module}: interrupted; the finished runs and checkpoints are kept in "
              f"{context.results_dir}: run the same command again to resume", file=sys.stderr)
        return 130
    if not context.writes:
        return 0
    if study.finish:
        study.finish(context)
    readme = repo_root() / "README.md" if args.publish else None
    results.write_tables([study.name], results_dir=context.results_dir, readme=readme)
    print(f"results: {context.results_dir / (study.name + '.md')}")
    return 0


def _strategy(study, args):
    """The tf.distribute strategy for a study that takes one; the others refuse a cluster."""
    from keras_cnn_course.training.strategy import choose_strategy, cluster_from_tf_config

    if study.strategy:
        return choose_strategy(args.strategy)  # before TensorFlow initialises its devices
    if sum(len(tasks) for tasks in cluster_from_tf_config().values()) > 1:
        raise ValueError(f"TF_CONFIG describes a cluster, but the {study.name} study "
                         f"{study.one_device_reason}; every worker would train and write the "
                         "same rows: run it in one process (without kcc launch)")
    return None


def _chosen_dir(study, args):
    if args.publish:
        return results.results_dir()
    if args.results_dir:
        return args.results_dir
    if args.quick:
        return Path(tempfile.mkdtemp(prefix=f"kcc-{study.name}-quick-")) / "results"
    return repo_root() / USER_DIR


def _check_tensorboard():
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise ValueError("--tensorboard needs the tensorboard package: pip install tensorboard "
                         "(or pip install -e '.[tensorboard]')")


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
    directory.mkdir(parents=True, exist_ok=True)
    if quick and not marked:
        (directory / QUICK_MARKER).write_text("This directory holds --quick results (1 epoch, "
                                              "tiny data): smoke tests, not measurements.\n")
    return directory


def pending_runs(study, context):
    """(the runs still to train, in the study's order; how many are finished and skipped, each
    reported)."""
    args = context.args
    done = results.completed(study.name, context.results_dir)
    pending, skipped = [], 0
    for name in [row for row in study.rows if not args.rows or row in args.rows]:
        seeds = study.row_seeds(name, args.protocol, args.quick, args.seeds)
        for seed in range(seeds):
            keys = study.rows[name].keys
            if not args.redo and all((key, seed, args.protocol) in done for key in keys):
                print(f"{name} seed {seed} ({args.protocol}): done, skipped (--redo reruns it)")
                skipped += 1
            else:
                pending.append(Run(name, seed, args.protocol))
    return pending, skipped


def reference_seconds(study, runs, quick):
    """Each run's wall time in the package's reference results (median over its seeds; runs
    trained together as copies share theirs), or None where the reference has none."""
    if quick or not runs:
        return {}
    reference = results.load_runs(study.name, results.results_dir())
    seconds = {}
    for run in runs:
        key = study.rows[run.row].keys[0]
        mine = reference[(reference["key"] == key) & (reference["protocol"] == run.protocol)]
        if len(mine):
            copies = mine["copies"] if "copies" in mine else 1
            seconds[run] = float((mine["wall_seconds"] / copies).median())
    return seconds


class Progress:
    """One line per finished run: runs done / total (the skipped ones count as done), elapsed,
    and an estimate of the time left, from the reference's wall times until runs finish here,
    then from their pace; between finishes the estimate counts down."""

    def __init__(self, study, runs, reference, skipped=0):
        self.study, self.runs, self.reference = study, list(runs), reference
        self.skipped, self.done, self.lock = skipped, [], threading.Lock()
        self.start = time.monotonic()
        self.ends = self._forecast()  # the monotonic time the last run should finish, or None

    def finished(self, run):
        with self.lock:
            self.done.append(run)
            self.ends = self._forecast()
        self.report()

    def _forecast(self):
        remaining = [run for run in self.runs if run not in self.done]
        now = time.monotonic()
        if not remaining:
            return now
        known = list(self.reference.values())
        typical = statistics.median(known) if known else None
        estimate = [self.reference.get(run, typical) for run in remaining]
        elapsed = now - self.start
        if self.done:  # from the runs so far: their pace against the reference's, or per run
            done_reference = [self.reference.get(run, typical) for run in self.done]
            if None in done_reference or None in estimate:
                return now + elapsed / len(self.done) * len(remaining)
            return now + sum(estimate) * elapsed / sum(done_reference)
        return None if None in estimate else now + sum(estimate)

    def left_seconds(self):
        """Seconds until the forecast end (0 once it has passed), or None without a forecast."""
        return None if self.ends is None else max(self.ends - time.monotonic(), 0.0)

    def line(self):
        elapsed = time.monotonic() - self.start
        left = self.left_seconds()
        source = "" if self.done else " (from the reference's wall times)"
        tail = "" if left is None else f", about {duration(left)} left{source}"
        total = self.skipped + len(self.runs)
        return (f"[{self.study}] {self.skipped + len(self.done)}/{total} runs done, "
                f"{duration(elapsed)} elapsed{tail}")

    def report(self):
        print(self.line(), flush=True)

    def heartbeat(self, enabled):
        """A context: the start line, then (if enabled) the line every HEARTBEAT_SECONDS."""
        return _Heartbeat(self, enabled and self.runs)


class _Heartbeat:
    def __init__(self, progress, enabled):
        self.progress, self.enabled, self.stop = progress, enabled, threading.Event()

    def __enter__(self):
        if self.progress.runs:
            self.progress.report()
        if self.enabled:
            self.thread = threading.Thread(target=self._beat, daemon=True)
            self.thread.start()
        return self

    def _beat(self):
        while not self.stop.wait(HEARTBEAT_SECONDS):
            self.progress.report()

    def __exit__(self, *exc):
        self.stop.set()


def duration(seconds):
    """12 s, 3 min 5 s, 2 h 4 min."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def command_line(module):
    """The command that ran this reproduction, as a user would type it."""
    return shlex.join(["python", "-m", module, *sys.argv[1:]])
