"""Keras vs PyTorch training speed on this machine: `make bench`.

Claim: with the fast recipe's defaults (bfloat16 where the CPU has it, 10 steps per `fit`
execution), Keras trains Nielsen's final network at batch 128 (and at its fast recipe's batch 256)
at least 1.5x as fast as an equivalent PyTorch implementation on a CPU; the float32, one-step
cases are reported beside it. Evidence: `results/bench.md`, generated from the raw measurements in
`results/bench.csv` (machine, versions, command, date, load average and the cores other work
took, `bench/load.py`, on every row).

Protocol: one long-lived process per framework (TensorFlow and torch never share a process);
the data are in memory (MNIST's 50,000 training images cut to whole batches, MNIST-1D's 4,000),
read in order; each measurement trains for whole epochs of fixed steps until `--seconds` have
passed, after one warm-up epoch that is not counted (tracing, caches). The frameworks alternate,
case by case, for `--repeats` rounds (who goes first alternates too), and the table shows medians.
Keras: `model.compile` + `model.fit` with the engine's Recipe pieces (optimizer, loss, dtype
policy, tf.data with autotune off, accuracy metric), without TF op determinism (PyTorch's default
is not deterministic either); its Adam is the engine's `FusedAdam` (one TF kernel per weight
tensor) and its dropout layers `ByteDropout` (Keras' Dropout with a mask drawn from random bytes).
PyTorch: an eager loop (`reproductions/bench/torch_side.py`) with its fused Adam
(`torch.optim.Adam(fused=True)`) to match; case `nielsen_final_torch_default` gives it
torch.optim.Adam's default implementation instead. Both use their default thread settings.
Cases `nielsen_final_spe10` and `nielsen_final_xla` measure the Keras settings a user might reach
for (several steps per `fit` execution, XLA) against the same PyTorch loop;
`nielsen_final_bf16_spe10` the fast recipe's defaults at its batch 128 (bfloat16 on a CPU that has
it, 10 steps per execution); `nielsen_final_b256` and `nielsen_final_recipe` the final network's
fast recipe (batch 256, bfloat16 where the CPU has it, 10 steps per execution).
Fraction of peak: training FLOPs per image (3 x the forward pass's 2 x multiply-adds of the conv
and dense layers) x images/s, over the fp32 GFLOP/s of a large NumPy matrix product measured in
the same run (and, for reference, the nominal peak the CPU's clock and vector units imply).
Time to 99.60%: read from the final network's own runs (`make reproduce-mnist`, row6), not
trained again here.

    python -m reproductions.bench [--repeats 5] [--seconds 8] [--cases ...] [--quick]
                                  [--max-load L]  # refuses to time a busy machine by default
    python -m reproductions.bench --report              # regenerate bench.md from bench.csv
"""

import argparse
import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from keras_cnn_course import results
from keras_cnn_course.arguments import non_negative_float, positive_float, positive_int
from keras_cnn_course.training.recipe import Recipe
from reproductions import study
from reproductions.bench import report as bench_report
from reproductions.bench.load import OtherWork


@dataclasses.dataclass(frozen=True)
class Case:
    """One timed case: a network, its data and the Recipe it trains by (batch, optimizer,
    learning rate, precision, XLA, steps per execution), with `steps_per_epoch` as the timed
    unit (about a second on this machine)."""

    name: str
    model: str
    data: str  # "mnist" (28x28x1) or "mnist1d" (40)
    recipe: Recipe
    steps_per_epoch: int
    torch_fused: bool = True  # PyTorch only: torch.optim.Adam(fused=True), as Keras' FusedAdam

    def fields(self):
        """The case as the frameworks' processes read it and bench.csv records it."""
        recipe = self.recipe
        return {"name": self.name, "model": self.model, "data": self.data,
                "batch_size": recipe.batch_size, "optimizer": recipe.optimizer,
                "learning_rate": recipe.learning_rate, "steps_per_epoch": self.steps_per_epoch,
                "precision": "bfloat16" if recipe.mixed_precision else "float32",
                "jit_compile": recipe.jit_compile,
                "steps_per_execution": recipe.steps_per_execution,
                "torch_fused": self.torch_fused}


# Keras without TF op determinism: PyTorch's default is not deterministic either.
ADAM = Recipe(optimizer="adam", learning_rate=1e-3, batch_size=128, deterministic=False)
SGD = Recipe(optimizer="sgd", learning_rate=0.01, batch_size=100, deterministic=False)
BF16 = dict(mixed_precision="bfloat16")
# the final network's fast recipe (reproductions/nielsen_mnist/rows.py FINAL): batch 256, EMA
# (which the PyTorch loop has no counterpart of, so neither side uses it here)
FINAL = dataclasses.replace(ADAM, batch_size=256, steps_per_execution=10, **BF16)
NIELSEN = "nielsen_double_fc_dropout"
CASES = {case.name: case for case in [
    Case("nielsen_final", NIELSEN, "mnist", ADAM, 40),
    Case("nielsen_final_bf16", NIELSEN, "mnist", dataclasses.replace(ADAM, **BF16), 40),
    Case("nielsen_final_torch_default", NIELSEN, "mnist", ADAM, 40, torch_fused=False),
    Case("nielsen_final_spe10", NIELSEN, "mnist", dataclasses.replace(ADAM, steps_per_execution=10),
         40),
    Case("nielsen_final_bf16_spe10", NIELSEN, "mnist",
         dataclasses.replace(ADAM, steps_per_execution=10, **BF16), 40),
    Case("nielsen_final_b256", NIELSEN, "mnist", dataclasses.replace(ADAM, batch_size=256), 20),
    Case("nielsen_final_recipe", NIELSEN, "mnist", FINAL, 20),
    Case("nielsen_final_xla", NIELSEN, "mnist",
         dataclasses.replace(ADAM, jit_compile=True, steps_per_execution=10), 40),
    Case("mnist1d_cnn", "mnist1d_cnn", "mnist1d", SGD, 400),
    Case("mnist1d_cnn_xla", "mnist1d_cnn", "mnist1d",
         dataclasses.replace(SGD, jit_compile=True, steps_per_execution=100), 400),
]}
FRAMEWORKS = ("keras", "torch")


def serve(framework, arrays_path):
    """A child process: answer one JSON request per stdin line with a RESULT line."""
    with np.load(arrays_path) as npz:
        arrays = {name: (npz[f"{name}_x"], npz[f"{name}_y"]) for name in ("mnist", "mnist1d")}
    if framework == "keras":
        from reproductions.bench import keras_side as bench_keras

        runner, info = bench_keras.KerasRunner(arrays), bench_keras.versions()
    else:
        from reproductions.bench import torch_side as bench_torch

        runner, info = bench_torch.TorchRunner(arrays), bench_torch.versions()
    print("RESULT " + json.dumps(info), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        result = runner.measure(request["case"], request["seconds"])
        result["parameters"] = runner.parameters(request["case"]["model"])
        print("RESULT " + json.dumps(result), flush=True)


class Child:
    """A framework's serving process, its stderr kept in a log file."""

    def __init__(self, framework, arrays_path, log_dir):
        self.framework, self.log = framework, Path(log_dir) / f"{framework}.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "reproductions.bench", "--serve", framework,
                 "--arrays", str(arrays_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        self.info = self.reply()

    def reply(self):
        for line in self.process.stdout:
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT "):])
        raise RuntimeError(f"the {self.framework} benchmark process failed:\n"
                           + self.log.read_text()[-3000:])

    def measure(self, case, seconds):
        self.process.stdin.write(json.dumps({"case": case, "seconds": seconds}) + "\n")
        self.process.stdin.flush()
        return self.reply()

    def close(self):
        self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def in_memory_arrays(path, quick):
    """MNIST's training images as float32 NHWC in [0, 1] and MNIST-1D, cut to whole batches."""
    from keras_cnn_course import data

    x, y = data.load_mnist().train
    mnist1d = data.load_mnist1d()
    count = 1280 if quick else len(y) // 128 * 128
    arrays = {"mnist_x": (x[:count, ..., None] / np.float32(255)).astype(np.float32),
              "mnist_y": y[:count].astype(np.int64),
              "mnist1d_x": mnist1d["x"].astype(np.float32),
              "mnist1d_y": mnist1d["y"].astype(np.int64)}
    np.savez(path, **arrays)


def run_bench(args):
    cases = [CASES[name] for name in args.cases]
    if args.quick:  # a few steps an epoch (whole executions for steps_per_execution)
        cases = [dataclasses.replace(case, steps_per_epoch=max(3, case.recipe.steps_per_execution))
                 for case in cases]
    if importlib.util.find_spec("torch") is None:
        raise SystemExit("PyTorch is not installed: pip install -e '.[bench]' (make bench does it)")
    load, cores = os.getloadavg()[0], bench_report.machine()["physical_cores"]
    max_load = cores + 0.5 if args.max_load is None else args.max_load
    if not args.quick and max_load and load > max_load:
        raise SystemExit(f"load average {load:.1f} on {cores} cores is above --max-load "
                         f"{max_load:g}: other work would distort the timings (PyTorch's OpenMP "
                         "threads slow down about tenfold on a busy CPU). Rerun when the machine "
                         "is quiet, or pass --max-load 0 to measure anyway.")
    start, rows = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="kcc-bench-") as scratch:
        in_memory_arrays(Path(scratch) / "arrays.npz", args.quick)
        children = {}
        try:
            for name in FRAMEWORKS:
                children[name] = Child(name, Path(scratch) / "arrays.npz", scratch)
            for repetition in range(args.repeats):
                for number, case in enumerate(cases):
                    order = FRAMEWORKS if (repetition + number) % 2 == 0 else FRAMEWORKS[::-1]
                    for framework in order:
                        load = os.getloadavg()[0]
                        with OtherWork([children[framework].process.pid]) as other:
                            result = children[framework].measure(case.fields(), args.seconds)
                        rows.append({"case": case.name, "framework": framework,
                                     "repetition": repetition, **result,
                                     "load_before": load, "load_after": os.getloadavg()[0],
                                     "other_cores": other.cores,
                                     **{key: value for key, value in
                                        case.fields().items() if key != "name"}})
                        busy = "–" if other.cores is None else f"{other.cores:.2f}"
                        print(f"{case.name} {framework}: {result['images_per_second']:,.0f} "
                              f"images/s (other work: {busy} cores)", flush=True)
        finally:
            for child in children.values():
                child.close()
    check_same_networks(rows)
    versions = {key: value for child in children.values() for key, value in child.info.items()}
    return bench_report.write(rows, versions, time.perf_counter() - start, args)


def check_same_networks(rows):
    """Both frameworks must have trained networks with the same number of parameters."""
    counts = {}
    for row in rows:
        counts.setdefault(row["model"], {})[row["framework"]] = row["parameters"]
    for model, by_framework in counts.items():
        if len(set(by_framework.values())) != 1:
            raise RuntimeError(f"{model}: the frameworks' networks differ: {by_framework} "
                               "parameters (see reproductions/bench/torch_side.py)")


@study.reports_user_errors("reproductions.bench")
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive_int, default=5,
                        help="rounds of every case (default 5: images/s vary up to ~1.4x "
                        "between rounds on this machine)")
    parser.add_argument("--seconds", type=positive_float, default=8.0,
                        help="timed seconds per measurement, after the warm-up epoch (default 8)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--quick", action="store_true",
                        help="tiny data and windows, results in a scratch directory (a smoke test)")
    parser.add_argument("--results-dir", help="where bench.csv/.md go (default: results/)")
    parser.add_argument("--max-load", type=non_negative_float, metavar="L",
                        help="refuse to start when the 1-minute load average is above L "
                        "(default: physical cores + 0.5; 0 never refuses)")
    parser.add_argument("--report", action="store_true", help="only regenerate bench.md")
    parser.add_argument("--serve", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--arrays", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.arrays)
    if args.quick:
        args.repeats, args.seconds = 1, min(args.seconds, 0.5)
        args.results_dir = args.results_dir or tempfile.mkdtemp(prefix="kcc-bench-quick-")
    if args.report:
        return bench_report.regenerate(args)
    # a --quick benchmark never replaces a real bench.csv, nor a real one a quick one's
    study.results_directory(results.results_dir(args.results_dir), quick=args.quick)
    return run_bench(args)


if __name__ == "__main__":
    raise SystemExit(main())
