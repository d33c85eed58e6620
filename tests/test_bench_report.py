"""The benchmark's report: time to accuracy read from the final network's own runs, when a
verdict was measured on a busy machine, and the case that times the final network's recipe."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from keras_cnn_course import results
from reproductions.bench import report as bench_report
from reproductions.bench import load
from reproductions.bench.load import OtherWork


def test_time_to_accuracy_is_read_from_the_runs_histories(tmp_path):
    folder = tmp_path / "histories" / "nielsen_mnist"
    folder.mkdir(parents=True)
    # CSVLogger's 0-based epochs; the second file repeats an epoch, as a resumed run does
    pd.DataFrame({"epoch": [0, 1, 2], "test_accuracy": [0.9952, 0.99600001, 0.9958],
                  "seconds": [100.0, 90.0, 95.0]}).to_csv(folder / "row6-fast-seed0.csv")
    pd.DataFrame({"epoch": [0, 1, 1], "test_accuracy": [0.9950, 0.9961, 0.9959],
                  "seconds": [100.0, 50.0, 90.0]}).to_csv(folder / "row6-fast-seed1.csv")
    results.append_run("nielsen_mnist", "mnist_row6_double_fc_dropout", 0, "fast",
                       {"test_accuracy": 99.6}, wall_seconds=285.0, precision="float32",
                       results_dir=tmp_path, command="python -m reproductions.nielsen_mnist")
    runs = bench_report.time_to_accuracy(tmp_path).set_index("seed")
    assert runs.loc[0, "reached"] and runs.loc[0, "seconds"] == 190.0  # 99.60% at epoch 2
    assert runs.loc[0, "epochs_to_target"] == 2 and runs.loc[0, "precision"] == "float32"
    assert not runs.loc[1, "reached"] and runs.loc[1, "max_test_accuracy"] == 99.59
    assert runs.loc[1, "seconds_total"] == 190.0 and runs.loc[1, "device"] == "–"
    lines = "\n".join(bench_report.time_to_accuracy_lines(bench_report.time_to_accuracy(tmp_path)))
    assert "| 0 | yes | 190 | 2 | 99.60 |" in lines and "| 1 | no | - | - | 99.59 |" in lines
    assert "No runs" in "\n".join(bench_report.time_to_accuracy_lines(
        bench_report.time_to_accuracy(tmp_path / "empty")))


def test_a_busy_verdict_needs_other_work_in_that_case_not_the_benchmarks_own_load():
    frame = pd.DataFrame({"case": ["nielsen_final", "nielsen_final", "mnist1d_cnn"],
                          "load_before": [2.9, 2.7, 0.1], "other_cores": [0.05, 0.1, 0.9]})
    assert not bench_report.is_busy(frame, 2, "nielsen_final")  # load 2.9: its own threads
    assert bench_report.is_busy(frame, 2, "mnist1d_cnn")
    assert "max 0.90 cores of 2" in bench_report.load_line(frame.assign(load_after=3.0), 2)
    older = frame.drop(columns="other_cores")  # records from before the figure existed
    assert bench_report.is_busy(older, 2, "nielsen_final")
    assert not bench_report.is_busy(older.assign(load_before=2.4), 2, "nielsen_final")


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs Linux /proc")
def test_other_work_counts_a_spinning_process_unless_it_is_the_benchmarks_own():
    # Both measures over the same second, so whatever else runs on the machine counts in both:
    # they differ by the spinning process's own CPU time, however much of a core it got.
    spin = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"
    process = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.1)
        spinner_start = load.process_ticks(process.pid)
        started = time.perf_counter()
        with OtherWork([]) as counted, OtherWork([process.pid]) as excluded:
            time.sleep(1.0)
        spinner_cores = ((load.process_ticks(process.pid) - spinner_start)
                         / os.sysconf("SC_CLK_TCK") / (time.perf_counter() - started))
    finally:
        process.wait()
    assert spinner_cores > 0.1, spinner_cores
    assert abs((counted.cores - excluded.cores) - spinner_cores) < 0.1, (
        counted.cores, excluded.cores, spinner_cores)


def test_the_recipe_case_times_the_final_networks_fast_recipe():
    import dataclasses

    from reproductions.bench.run import CASES
    from reproductions.nielsen_mnist.rows import FINAL

    # FINAL as bench trains it: bfloat16 whatever the CPU, no EMA, no op determinism
    expected = dataclasses.replace(FINAL, mixed_precision="bfloat16", ema=False, epochs=1,
                                   schedule="constant", deterministic=False)
    assert CASES["nielsen_final_recipe"].recipe == expected
    assert CASES["nielsen_final_b256"].recipe.batch_size == FINAL.batch_size
    assert CASES["nielsen_final_recipe"].fields()["precision"] == "bfloat16"


def test_the_defaults_case_times_the_fast_recipes_defaults():
    import dataclasses

    from reproductions.bench.run import CASES
    from reproductions.nielsen_mnist.rows import FAST

    case = CASES["nielsen_final_bf16_spe10"]
    assert case.recipe == dataclasses.replace(FAST, mixed_precision="bfloat16", epochs=1,
                                              schedule="constant", deterministic=False)
    assert (FAST.mixed_precision, case.fields()["precision"]) == ("auto", "bfloat16")


def test_the_settings_say_which_pytorch_adam_ran():
    torch_adam = bench_report.torch_adam
    assert torch_adam({"optimizer": "adam", "torch_fused": True}) == "; PyTorch fused Adam"
    assert torch_adam({"optimizer": "adam", "torch_fused": False}) == "; PyTorch default Adam"
    assert torch_adam({"optimizer": "adam"}) == "; PyTorch default Adam"  # older records
    assert torch_adam({"optimizer": "sgd", "torch_fused": True}) == ""


@pytest.mark.parametrize("change, expected", [
    (lambda frame: frame.assign(images_per_second=["fast"] + list(frame["images_per_second"][1:])),
     "line 2, column images_per_second: images_per_second 'fast' must be a finite number > 0"),
    (lambda frame: pd.concat([frame, frame.iloc[[5]]], ignore_index=True),
     "line 102 repeats line 7 (case="),
    (lambda frame: frame[~((frame["case"] == "nielsen_final") & (frame["framework"] == "torch"))],
     "case nielsen_final has no {'torch'} measurement"),
    (lambda frame: frame.drop(columns="framework"), "line 1 lacks the columns ['framework']"),
])
def test_a_bad_bench_csv_is_refused_by_line_and_column(tmp_path, capsys, change, expected):
    from reproductions.bench import run as bench

    committed = results.repo_root() / "results" / "bench.csv"
    assert len(bench_report.read_bench(committed)) == 100  # the committed record reads
    frame = change(pd.read_csv(committed, dtype=str, keep_default_na=False))
    (tmp_path / "bench.csv").write_text(frame.to_csv(index=False))
    assert bench.main(["--report", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reproductions.bench: {tmp_path / 'bench.csv'}: ") and expected in err
    assert err.count("\n") == 1 and not (tmp_path / "bench.md").exists()
