"""Keras vs PyTorch training speed on this machine: `make bench`.

Claim (issue 9): Keras trains Nielsen's final network at batch 128 at least 1.5x as fast as an
equivalent PyTorch implementation on a CPU. Evidence: `results/bench.md`, generated from the raw
measurements in `results/bench.csv` (machine, versions, command, date and load on every row).

Protocol: one long-lived process per framework (TensorFlow and torch never share a process);
the data are in memory (MNIST's 50,000 training images cut to whole batches, MNIST-1D's 4,000),
read in order; each measurement trains for whole epochs of fixed steps until `--seconds` have
passed, after one warm-up epoch that is not counted (tracing, caches). The frameworks alternate,
case by case, for `--repeats` rounds (who goes first alternates too), and the table shows medians.
Keras: `model.compile` + `model.fit` with the engine's Recipe pieces (optimizer, loss, dtype
policy, tf.data with autotune off, accuracy metric), without TF op determinism (PyTorch's default
is not deterministic either). PyTorch: an eager loop (`reproductions/bench_torch.py`).
Fraction of peak: training FLOPs per image (3 x the forward pass's 2 x multiply-adds of the conv
and dense layers) x images/s, over cores x 2 FMA units x 16 fp32 lanes (AVX-512) x 2 x clock.

    python -m reproductions.bench [--repeats 3] [--seconds 10] [--cases ...] [--quick]
    python -m reproductions.bench --report              # regenerate bench.md from bench.csv
    python -m reproductions.bench --time-to-accuracy    # heavy: the final net's row to 99.60%
"""

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from reproductions import bench_report


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    model: str
    data: str  # "mnist" (28x28x1) or "mnist1d" (40)
    batch_size: int
    optimizer: str
    learning_rate: float
    steps_per_epoch: int  # one timed unit: about a second on this machine
    precision: str = "float32"  # "bfloat16": Keras mixed_bfloat16, torch.autocast
    jit_compile: bool | str = "auto"  # Keras only
    steps_per_execution: int = 1  # Keras only


CASES = {case.name: case for case in [
    Case("nielsen_final", "nielsen_double_fc_dropout", "mnist", 128, "adam", 1e-3, 40),
    Case("nielsen_final_bf16", "nielsen_double_fc_dropout", "mnist", 128, "adam", 1e-3, 40,
         precision="bfloat16"),
    Case("mnist1d_cnn", "mnist1d_cnn", "mnist1d", 100, "sgd", 0.01, 400),
    Case("mnist1d_cnn_xla", "mnist1d_cnn", "mnist1d", 100, "sgd", 0.01, 400, jit_compile=True,
         steps_per_execution=100),
]}
FRAMEWORKS = ("keras", "torch")


class KerasRunner:
    """Compiles each case's network once, then times `model.fit` over whole epochs."""

    def __init__(self, arrays):
        import keras

        keras.utils.set_random_seed(0)
        self.arrays, self.built = arrays, {}

    def _build(self, case):
        import keras

        from keras_cnn_course.models import get_model
        from keras_cnn_course.training import Recipe, as_dataset

        recipe = Recipe(optimizer=case["optimizer"], learning_rate=case["learning_rate"],
                        batch_size=case["batch_size"], deterministic=False,
                        mixed_precision=None if case["precision"] == "float32" else "bfloat16",
                        jit_compile=case["jit_compile"],
                        steps_per_execution=case["steps_per_execution"])
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(recipe.dtype_policy)
        try:
            model = get_model(case["model"], classifier_activation=None)
            model.compile(recipe.build_optimizer(case["steps_per_epoch"]),
                          recipe.loss_function(10, from_logits=True),
                          metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
                          jit_compile=recipe.jit_compile,
                          steps_per_execution=recipe.steps_per_execution)
        finally:
            keras.config.set_dtype_policy(previous)
        dataset = as_dataset(self.arrays[case["data"]], case["batch_size"]).repeat()
        return model, dataset

    def parameters(self, model_name):
        from keras_cnn_course.models import get_model

        return get_model(model_name).count_params()

    def measure(self, case, seconds):
        import keras

        if case["name"] not in self.built:
            self.built[case["name"]] = self._build(case)
        model, dataset = self.built[case["name"]]
        durations = []

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                durations.append(time.perf_counter() - self.start)
                if sum(durations[1:]) >= seconds:  # the first epoch is the warm-up
                    self.model.stop_training = True

        model.fit(dataset, epochs=10**6, steps_per_epoch=case["steps_per_epoch"],
                  callbacks=[EpochTimer()], verbose=0)
        timed = durations[1:]
        images = case["batch_size"] * case["steps_per_epoch"] * len(timed)
        return {"images_per_second": images / sum(timed), "measured_seconds": sum(timed),
                "epochs": len(timed), "forward_flops": forward_flops(model)}


def forward_flops(model):
    """2 x multiply-adds of the conv and dense layers for one example (pooling, ReLU, biases and
    the loss are left out: they are a small fraction for these nets)."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D)):
            positions = int(np.prod(layer.output.shape[1:-1]))
            total += 2 * positions * int(np.prod(layer.kernel.shape))
    return total


def serve(framework, arrays_path):
    """A child process: answer one JSON request per stdin line with a RESULT line."""
    with np.load(arrays_path) as npz:
        arrays = {name: (npz[f"{name}_x"], npz[f"{name}_y"]) for name in ("mnist", "mnist1d")}
    if framework == "keras":
        runner, info = KerasRunner(arrays), bench_report.keras_versions()
    else:
        from reproductions import bench_torch

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
              "mnist1d_x": mnist1d["x"].astype(np.float32), "mnist1d_y": mnist1d["y"].astype(np.int64)}
    np.savez(path, **arrays)


def run_bench(args):
    cases = [CASES[name] for name in args.cases]
    if args.quick:
        cases = [dataclasses.replace(case, steps_per_epoch=min(case.steps_per_epoch, 100))
                 for case in cases]
    start, rows = time.perf_counter(), []
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          "(timings are not trustworthy when it exceeds the number of cores)", flush=True)
    with tempfile.TemporaryDirectory(prefix="kcc-bench-") as scratch:
        in_memory_arrays(Path(scratch) / "arrays.npz", args.quick)
        children = {name: Child(name, Path(scratch) / "arrays.npz", scratch) for name in FRAMEWORKS}
        try:
            for repetition in range(args.repeats):
                for number, case in enumerate(cases):
                    order = FRAMEWORKS if (repetition + number) % 2 == 0 else FRAMEWORKS[::-1]
                    for framework in order:
                        load = os.getloadavg()[0]
                        result = children[framework].measure(dataclasses.asdict(case),
                                                             args.seconds)
                        rows.append({"case": case.name, "framework": framework,
                                     "repetition": repetition, **result,
                                     "load_before": load, "load_after": os.getloadavg()[0],
                                     **children[framework].info, **dataclasses.asdict(case)})
                        print(f"{case.name} {framework}: {result['images_per_second']:,.0f} "
                              f"images/s (load {load:.1f})", flush=True)
        finally:
            for child in children.values():
                child.close()
    return bench_report.write(rows, time.perf_counter() - start, args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every case (default 3)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="timed seconds per measurement, after the warm-up epoch (default 10)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--quick", action="store_true",
                        help="tiny data and windows, results in a scratch directory (a smoke test)")
    parser.add_argument("--results-dir", help="where bench.csv/.md go (default: results/)")
    parser.add_argument("--report", action="store_true", help="only regenerate bench.md")
    parser.add_argument("--time-to-accuracy", action="store_true",
                        help="train the final net by its fast recipe; time to 99.60%% test accuracy")
    parser.add_argument("--seed", type=int, default=0, help="seed of the time-to-accuracy run")
    parser.add_argument("--serve", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--arrays", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.arrays)
    if args.repeats < 1 or args.seconds <= 0:
        parser.error("--repeats must be >= 1 and --seconds > 0")
    if args.quick:
        args.repeats, args.seconds = 1, min(args.seconds, 1.0)
        args.results_dir = args.results_dir or tempfile.mkdtemp(prefix="kcc-bench-quick-")
    if args.report:
        return bench_report.regenerate(args)
    if args.time_to_accuracy:
        return bench_report.time_to_accuracy(args)
    return run_bench(args)


if __name__ == "__main__":
    raise SystemExit(main())
