"""`make bench`'s record: the machine and its fp32 peak, bench.csv, and bench.md generated from it.

`results/bench.csv` holds one row per measurement (raw numbers and their provenance);
`results/bench.md` is generated from it (`python -m reproductions.bench --report`), never edited.
"""

import math
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from keras_cnn_course import results
from keras_cnn_course.results.runs import device_description
from reproductions import study
from reproductions.bench.load import BUSY_CORES

FMA_UNITS = 2  # per core on Xeon Scalable Gold/Platinum (Sapphire Rapids included): an assumption
TARGET_RATIO = 1.5  # issue 9: Keras >= 1.5x PyTorch for the final net at the default batch (128)
TTA_TARGET = 99.60  # the book's figure for the final network
TTA_RUNS = ("nielsen_mnist", "row6", "mnist_row6_double_fc_dropout")  # study, run name, key


def machine():
    """CPU, physical cores, clock and the fp32 peak they imply (see PEAK_NOTE)."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    blocks = [dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
              for block in text.split("\n\n") if block.strip()]
    blocks = [{key.strip(): value.strip() for key, value in block.items()} for block in blocks]
    cores = len({(b.get("physical id"), b.get("core id")) for b in blocks}) or os.cpu_count()
    flags = set(blocks[0].get("flags", "").split()) if blocks else set()
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    ghz = float(blocks[0]["cpu MHz"]) / 1000 if blocks and "cpu MHz" in blocks[0] else float("nan")
    return {"device": device_description(), "physical_cores": cores,
            "clock_ghz": ghz, "fp32_lanes": lanes,
            "fp32_peak_gflops": cores * FMA_UNITS * lanes * 2 * ghz,
            "matmul_gflops": matmul_gflops()}


def matmul_gflops(size=2048, repeats=5):
    """fp32 GFLOP/s of NumPy's BLAS on a size x size matrix product, best of `repeats`: what this
    CPU delivers on the friendliest dense workload, on all cores."""
    a, b = (np.random.default_rng(seed).random((size, size), dtype=np.float32) for seed in (0, 1))
    a @ b  # warm-up: threads and caches
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


PEAK_NOTE = ("fp32 peak: {measured:.0f} GFLOP/s measured (a 2048 x 2048 float32 matrix product "
             "with NumPy's BLAS on all cores, best of 5, in this run); the fractions below are of "
             "this figure. For reference, the nominal peak = physical cores x {units} FMA units x "
             "{lanes} fp32 lanes x 2 flops x {ghz:.2f} GHz (the clock /proc/cpuinfo reports) = "
             "{peak:.0f} GFLOP/s, assuming {units} full-width FMA units per core. Training FLOPs "
             "per image = 3 x the forward pass (2 x the multiply-adds of the conv and dense "
             "layers). The bfloat16 rows are also set against the fp32 peak.")


def write(rows, versions, wall_seconds, args):
    """bench.csv (atomically) from the measurements, then bench.md from bench.csv."""
    frame = pd.DataFrame(rows)
    frame["training_flops_per_image"] = 3 * frame.groupby("case")["forward_flops"].transform("max")
    frame = frame.drop(columns=["forward_flops"])
    provenance = {**machine(), **versions,
                  **results.environment(command=study.command_line("reproductions.bench")),
                  "run_wall_seconds": round(wall_seconds, 1)}
    for name, value in provenance.items():
        frame[name] = value
    directory = results.results_dir(args.results_dir)
    directory.mkdir(parents=True, exist_ok=True)
    results.write_atomic(directory / "bench.csv", frame.to_csv(index=False))
    return regenerate(args)


def regenerate(args):
    directory = results.results_dir(args.results_dir)
    path = directory / "bench.csv"
    if not path.exists():
        raise SystemExit(f"{path} does not exist yet: run `make bench` first")
    markdown = render(read_bench(path), directory)
    results.write_atomic(directory / "bench.md", markdown)
    print(markdown)
    print(f"written: {path} and {directory / 'bench.md'}")
    return 0


# bench.csv's columns the report reads, and what each must hold: a count (integer >= 0), an
# amount (finite number >= 0), a rate (finite number > 0) or text
BENCH_COLUMNS = {
    "count": ("repetition", "batch_size", "steps_per_execution", "physical_cores", "fp32_lanes"),
    "amount": ("load_before", "load_after", "fp32_peak_gflops", "run_wall_seconds"),
    "rate": ("images_per_second", "training_flops_per_image", "learning_rate"),
    "text": ("case", "framework", "model", "optimizer", "precision", "jit_compile", "device",
             "date", "command", "git_commit", "python", "tensorflow", "keras", "torch",
             "torch_threads", "clock_ghz"),
}
FRAMEWORKS = ("keras", "torch")


def read_bench(path):
    """bench.csv with every measurement checked: the columns the report reads, numbers where
    numbers belong, both frameworks in every case, one row per (case, framework, repetition).
    A ValueError names the file, line (the header is line 1), column and value."""
    from keras_cnn_course.results.rows import located, number

    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for columns in BENCH_COLUMNS.values() for c in columns if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: line 1 lacks the columns {missing}; rerun `make bench`")
    rules = {"count": (lambda v: isinstance(v, int) and v >= 0, "an integer >= 0"),
             "amount": (lambda v: isinstance(v, (int, float)) and math.isfinite(v) and v >= 0,
                        "a finite number >= 0"),
             "rate": (lambda v: isinstance(v, (int, float)) and math.isfinite(v) and v > 0,
                      "a finite number > 0")}

    def check(column, kind, text):
        good, wanted = rules[kind]
        if not good(number(text)):
            raise ValueError(f"{column} {text!r} must be {wanted}")

    seen = {}
    for index, row in enumerate(raw.to_dict("records")):
        line = index + 2
        for kind in rules:
            for column in BENCH_COLUMNS[kind]:
                located(path, line, column, check, column, kind, row[column])
        if row["framework"] not in FRAMEWORKS:
            raise ValueError(f"{path}: line {line}, column framework: {row['framework']!r} is "
                             f"not one of {FRAMEWORKS}")
        identity = (row["case"], row["framework"], row["repetition"])
        if identity in seen:
            raise ValueError(f"{path}: line {line} repeats line {seen[identity]} (case="
                             f"{identity[0]}, framework={identity[1]}, repetition={identity[2]})")
        seen[identity] = line
    for case, frameworks in raw.groupby("case")["framework"]:
        if set(frameworks) != set(FRAMEWORKS):
            raise ValueError(f"{path}: case {case} has no {set(FRAMEWORKS) - set(frameworks)} "
                             "measurement; the report sets the frameworks side by side")
    return pd.read_csv(path)


def render(frame, results_dir=None):
    first = frame.iloc[0]
    peak_gflops = first.get("matmul_gflops", first["fp32_peak_gflops"])
    lines = [
        "# Training speed: Keras vs PyTorch on this machine\n",
        f"Generated by `python -m reproductions.bench --report` from `bench.csv` "
        f"({len(frame)} measurements); do not edit.\n",
        f"- Date (UTC): {first['date']}; command: `{first['command']}`; commit "
        f"{first['git_commit']}; wall time of the run: {first['run_wall_seconds']:.0f} s",
        f"- Machine: {first['device']} ({first['physical_cores']} physical cores, "
        f"{first['clock_ghz']:.2f} GHz as reported)",
        f"- Versions: Python {first['python']}, TensorFlow {first['tensorflow']}, Keras "
        f"{first['keras']}, PyTorch {first['torch']} ({first['torch_threads']} threads)",
        load_line(frame, first["physical_cores"]),
        "- Protocol: see `reproductions/bench.py` (one process per framework, data in memory, "
        "alternating, one untimed warm-up epoch per measurement, medians over repetitions).",
        "- " + PEAK_NOTE.format(measured=peak_gflops, units=FMA_UNITS, lanes=first["fp32_lanes"],
                                ghz=first["clock_ghz"], peak=first["fp32_peak_gflops"]) + "\n",
        "| case | network | batch | optimizer | precision | settings | Keras images/s | "
        "PyTorch images/s | Keras / PyTorch | Keras % of fp32 peak | PyTorch % of fp32 peak | "
        "runs |",
        "|---|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    ratios = {}
    for case, runs in frame.groupby("case", sort=False):
        speed = {name: runs.loc[runs["framework"] == name, "images_per_second"]
                 for name in ("keras", "torch")}
        median = {name: statistics.median(values) for name, values in speed.items()}
        ratios[case] = median["keras"] / median["torch"]
        row = runs.iloc[0]
        peak = peak_gflops * 1e9 / row["training_flops_per_image"]  # images/s at the peak
        settings = (f"Keras steps_per_execution={row['steps_per_execution']}, "
                    f"jit_compile={row['jit_compile']}"
                    + torch_adam(row))
        lines.append(
            f"| {case} | {row['model']} | {row['batch_size']} | {row['optimizer']} "
            f"{row['learning_rate']:g} | {row['precision']} | {settings} | "
            + " | ".join(f"{median[n]:,.0f} ({speed[n].min():,.0f}-{speed[n].max():,.0f})"
                         for n in ("keras", "torch"))
            + f" | {ratios[case]:.2f} | {100 * median['keras'] / peak:.1f} | "
            f"{100 * median['torch'] / peak:.1f} | {len(speed['keras'])} |")
    def verdict(case):
        ratio = ratios[case]
        text = f"{'met' if ratio >= TARGET_RATIO else 'NOT met'} ({ratio:.2f}x)"
        busy = is_busy(frame, first["physical_cores"], case)
        return text + ("; measured on a busy machine, so not a valid verdict" if busy else "")

    if "nielsen_final_bf16_spe10" in ratios:  # FAST in reproductions/nielsen_mnist.py
        lines.append(f"\nTarget: Keras >= {TARGET_RATIO}x PyTorch for the final net at the default "
                     "batch 128 with the fast recipe's defaults (bfloat16 on a CPU that has it, 10 "
                     f"steps per execution): {verdict('nielsen_final_bf16_spe10')}.")
    if "nielsen_final" in ratios:
        lines.append("The same ratio in float32 with one step per execution (Keras' own defaults): "
                     f"{verdict('nielsen_final')}.")
    if "nielsen_final_torch_default" in ratios:
        lines.append("The same against torch.optim.Adam's default (unfused) implementation: "
                     f"{verdict('nielsen_final_torch_default')}.")
    if "nielsen_final_bf16" in ratios:
        lines.append("In bfloat16 with one step per execution: "
                     f"{verdict('nielsen_final_bf16')}.")
    if "nielsen_final_b256" in ratios:
        lines.append(f"At the final network's fast-recipe batch (256), float32: "
                     f"{verdict('nielsen_final_b256')}.")
    if "nielsen_final_recipe" in ratios:
        lines.append("With the fast recipe's settings (batch 256, bfloat16, 10 steps per "
                     f"execution): {verdict('nielsen_final_recipe')}.")
    lines.append("\nImages/s: median (min-max) over the runs.")
    if results_dir is not None:
        lines += time_to_accuracy_lines(time_to_accuracy(results_dir))
    return "\n".join(lines) + "\n"


def torch_adam(row):
    """Which Adam PyTorch ran: fused where recorded (the default since the column exists)."""
    if row["optimizer"] != "adam":
        return ""
    fused = str(row.get("torch_fused")) == "True"
    return "; PyTorch fused Adam" if fused else "; PyTorch default Adam"


def other_cores(frame):
    """The cores other work took per measurement (bench/load.py), or None in older records."""
    if "other_cores" not in frame or frame["other_cores"].isna().all():
        return None
    return frame["other_cores"]


def is_busy(frame, cores, case):
    """Other work took more than BUSY_CORES in one of the case's measurements; in older records
    without that figure, the load average exceeded the cores by half a core in the whole run."""
    other = other_cores(frame)
    if other is None:
        return frame["load_before"].max() > cores + 0.5
    return other[frame["case"] == case].max() > BUSY_CORES


def load_line(frame, cores):
    load = (f"{frame['load_before'].min():.1f} to {frame['load_after'].max():.1f} on "
            f"{cores} cores")
    other = other_cores(frame)
    if other is None:
        return (f"- Load average (1 min) around the measurements: {load}. Above the number of "
                "cores other work shared the CPU: absolute numbers are then low and ratios noisy.")
    return (f"- Other work on the CPU during each measurement (the machine's CPU time less the "
            f"benchmark's own processes, `bench/load.py`): median {other.median():.2f}, max "
            f"{other.max():.2f} cores of {cores}; a verdict is flagged above {BUSY_CORES} cores. "
            f"The load average (1 min), the benchmark's own threads included: {load}.")


def time_to_accuracy(results_dir, target=TTA_TARGET, runs=TTA_RUNS, protocol="fast"):
    """Per run of the final network: wall time (training and per-epoch evaluation) until its test
    accuracy after an epoch first reached `target` percent, from the histories the reproduction
    keeps (results/histories/nielsen_mnist/row6-fast-seed*.csv) and its rows' provenance."""
    from keras_cnn_course.results.runs import percent
    from keras_cnn_course.training import read_history

    study, name, key = runs
    rows = results.load_runs(study, results_dir)
    rows = rows[(rows["key"] == key) & (rows["protocol"] == protocol)].set_index("seed")
    found = []
    for path in sorted((Path(results_dir) / "histories" / study).glob(f"{name}-{protocol}-seed*.csv")):
        seed = int(path.stem.rsplit("seed", 1)[1])
        history = read_history(path)
        accuracy = [percent(value) for value in history["test_accuracy"]]
        elapsed = np.cumsum(history["seconds"])
        reached = next((epoch for epoch, value in enumerate(accuracy) if value >= target), None)
        run = rows.loc[seed] if seed in rows.index else {}
        found.append({"seed": seed, "reached": reached is not None,
                      "seconds": None if reached is None else float(elapsed[reached]),
                      "epochs_to_target": None if reached is None else reached + 1,
                      "max_test_accuracy": max(accuracy), "epochs": len(accuracy),
                      "seconds_total": float(elapsed[-1]), "device": run.get("device", "–"),
                      "precision": run.get("precision", "–"), "date": run.get("date", "–")})
    return pd.DataFrame(found)


def time_to_accuracy_lines(runs, target=TTA_TARGET):
    lines = [f"\n## Time to {target:.2f}% test accuracy (final net, its fast recipe)\n",
             "From the runs of `make reproduce-mnist` (row6; `results/histories/nielsen_mnist/`): "
             "wall time (training and per-epoch evaluation) until the test accuracy after an "
             "epoch first reached the target.\n"]
    if runs.empty:
        return lines + ["No runs of the final network yet."]
    lines += ["| seed | reached | seconds to target | epochs to target | max test accuracy % | "
              "epochs | wall s | precision | device | date |",
              "|---:|---|---:|---:|---:|---:|---:|---|---|---|"]
    for run in runs.itertuples(index=False):
        seconds = f"{run.seconds:.0f}" if run.reached else "-"
        epochs = f"{run.epochs_to_target:.0f}" if run.reached else "-"
        lines.append(f"| {run.seed} | {'yes' if run.reached else 'no'} | {seconds} | {epochs} | "
                     f"{run.max_test_accuracy:.2f} | {run.epochs} | {run.seconds_total:.0f} | "
                     f"{run.precision} | {run.device} | {run.date} |")
    return lines
