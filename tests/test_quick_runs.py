"""--quick never writes where real runs are, nor a real run where --quick results are: both are
refused at start (one line, exit 2) before anything is trained or written."""

import argparse

import numpy as np
import pytest

from keras_cnn_course import data
from reproductions import mnist1d, nielsen_mnist, study, transfer
from reproductions.mnist1d import runner as mnist1d_runner
from reproductions.nielsen_mnist import runner as nielsen_runner
from reproductions.transfer import runner as transfer_runs


@pytest.fixture
def nothing_trains(monkeypatch):
    def trained(*args, **kwargs):
        raise AssertionError("the run started training")

    monkeypatch.setattr(nielsen_runner, "train_one", trained)
    monkeypatch.setattr(nielsen_runner, "vote", trained)
    monkeypatch.setattr(mnist1d_runner, "side_by_side", trained)
    monkeypatch.setattr(transfer_runs, "prepare", trained)


def snapshot(directory):
    return {path: path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("main, module, argv", [
    (nielsen_mnist.main, "nielsen_mnist", ["--rows", "row3", "--redo"]),  # once replaced row 3
    (nielsen_mnist.main, "nielsen_mnist", ["--rows", "row6"]),  # once crashed in the vote
    (mnist1d.main, "mnist1d", ["--rows", "cnn"]),
    (transfer.main, "transfer", ["--rows", "photos"]),
])
def test_quick_is_refused_where_real_runs_are(results_copy, nothing_trains, capsys, main, module, argv):
    before = snapshot(results_copy)
    assert main(["--quick", *argv, "--results-dir", str(results_copy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reproductions.{module}: --quick --results-dir {results_copy}: it holds real "
                          "results (")
    assert "mnist1d.csv, nielsen_mnist.csv" in err and err.count("\n") == 1
    assert snapshot(results_copy) == before


def test_a_real_run_is_refused_where_quick_results_are(tmp_path, nothing_trains, capsys):
    quick = tmp_path / "quick"
    study.results_directory(quick, quick=True)
    assert nielsen_mnist.main(["--rows", "row0", "--results-dir", str(quick)]) == 2
    assert (f"--results-dir {quick} holds --quick results (it has .quick)"
            in capsys.readouterr().err)


def test_a_quick_directory_is_marked_and_can_be_reused(tmp_path, results_copy):
    fresh = tmp_path / "fresh"
    assert study.results_directory(fresh, quick=True) == fresh
    assert (fresh / ".quick").is_file()
    (fresh / "nielsen_mnist.csv").write_text("key,seed,protocol\n")
    assert study.results_directory(fresh, quick=True) == fresh  # its own CSVs: reused
    assert study.results_directory(results_copy, quick=False) == results_copy
    with pytest.raises(ValueError, match="holds real results"):
        study.results_directory(results_copy, quick=True)
    assert not (results_copy / ".quick").exists()


def test_a_quick_benchmark_never_replaces_the_real_one(results_copy, monkeypatch, capsys):
    from reproductions.bench import run as bench

    def measured(args):
        raise AssertionError("the benchmark started")

    monkeypatch.setattr(bench, "run_bench", measured)
    before = snapshot(results_copy)
    assert bench.main(["--quick", "--results-dir", str(results_copy)]) == 2
    assert "holds real results" in capsys.readouterr().err
    assert snapshot(results_copy) == before


def test_a_vote_over_predictions_of_another_test_set_says_so(tmp_path):
    folder = tmp_path / "predictions" / "nielsen_mnist"
    folder.mkdir(parents=True)
    np.save(folder / "row6-fast-seed0.npy", np.zeros(10_000, np.uint8))  # a full run's
    test = (np.zeros((500, 28, 28), np.uint8), np.zeros(500, np.int64))  # --quick's 500
    splits = data.MnistSplits(train=test, validation=test, test=test)
    context = study.Context(nielsen_mnist.STUDY, argparse.Namespace(protocol="fast"), tmp_path)
    with pytest.raises(ValueError, match="row6-fast-seed0.npy holds 10000 predicted labels, but "
                       "this run's test set has 500: rerun --rows row6 --redo"):
        nielsen_runner.vote(context, "row6", ("mnist_row7_ensemble_vote",), 1, splits)
    assert not (tmp_path / "nielsen_mnist.csv").exists()
