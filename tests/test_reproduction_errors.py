"""User errors in a reproduction end in one line `module: message` and exit code 2, as in `kcc`:
no traceback, nothing trained or written."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from keras_cnn_course import data
from reproductions import mnist1d, nielsen_mnist, transfer

ROOT = str(Path(__file__).resolve().parents[1])
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT}


def run(module, *args, **env):
    """`python -m module args` in a fresh process: (exit code, stderr)."""
    done = subprocess.run([sys.executable, "-m", module, *args], env={**ENV, **env},
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stderr


def one_line(module, stderr):
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{module}: "), stderr
    return lines[0]


def test_a_bad_tf_config_is_one_line_and_exit_2(tmp_path):
    code, stderr = run("reproductions.nielsen_mnist", "--quick", "--rows", "row0",
                       "--results-dir", str(tmp_path / "quick"), TF_CONFIG="garbage")
    assert code == 2
    assert "TF_CONFIG is not JSON (received 'garbage')" in one_line("reproductions.nielsen_mnist",
                                                                   stderr)
    assert not (tmp_path / "quick").exists()


def test_a_bad_results_csv_stops_the_run_before_it_trains(tmp_path):
    directory = tmp_path / "results"
    shutil.copytree(Path(ROOT) / "results", directory)
    path = directory / "nielsen_mnist.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(",97.52,", ",97.52%,", 1)  # row0 seed 2's test accuracy
    path.write_text("".join(lines))
    code, stderr = run("reproductions.nielsen_mnist", "--rows", "row0", "--results-dir",
                       str(directory))
    assert code == 2
    assert (f"{path}: line 4, column test_accuracy: metric test_accuracy='97.52%' must be a raw "
            "number") in one_line("reproductions.nielsen_mnist", stderr)
    assert not (tmp_path / "runs").exists()


def test_tf_config_errors_of_the_one_device_studies(monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", "[1,2]")
    assert mnist1d.main(["--quick", "--rows", "cnn"]) == 2
    assert "TF_CONFIG is a JSON list" in one_line("reproductions.mnist1d", capsys.readouterr().err)
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1", "b:2"]}}')
    assert transfer.main(["--quick"]) == 2
    assert 'has no "task"' in one_line("reproductions.transfer", capsys.readouterr().err)


def test_missing_data_is_one_line_even_when_the_message_has_several(tmp_path, monkeypatch,
                                                                     capsys):
    def missing(*args, **kwargs):
        raise FileNotFoundError("MNIST could not be found or fetched. Tried:\n  - cache: not "
                                "present\n  - registry mirror: offline\nTo place it by hand: ...")

    monkeypatch.setattr(data, "load_mnist", missing)
    argv = ["--quick", "--rows", "row0", "--results-dir", str(tmp_path)]
    assert nielsen_mnist.main(argv) == 2
    line = one_line("reproductions.nielsen_mnist", capsys.readouterr().err)
    assert "Tried: - cache: not present - registry mirror: offline To place it by hand" in line
