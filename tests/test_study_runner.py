"""The shared study runner: progress, interrupts, refused rows; side-by-side workers; a transfer
split that resumes after the conditions it finished."""

import dataclasses
import multiprocessing
import signal
import time

import numpy as np
import pandas as pd
import pytest

from reproductions import study, transfer
from reproductions.study import Progress, Run
from reproductions.transfer import runner as transfer_runner


def test_progress_counts_skipped_runs_and_counts_down_between_finishes(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(study.time, "monotonic", lambda: clock[0])
    runs = [Run("a", seed, "fast") for seed in range(3)]
    progress = Progress("toy", runs, {run: 60.0 for run in runs}, skipped=2)
    assert progress.line() == ("[toy] 2/5 runs done, 0 s elapsed, about 3 min 0 s left (from the "
                               "reference's wall times)")
    clock[0] += 50
    assert "about 2 min 10 s left" in progress.line()  # counts down, not frozen
    clock[0] += 70  # the first run took twice the reference's time
    progress.finished(runs[0])
    assert progress.line().startswith("[toy] 3/5 runs done, 2 min 0 s elapsed, about 4 min 0 s")
    clock[0] += 500
    assert "about 0 s left" in progress.line()


def test_an_interrupt_ends_in_one_line_with_exit_130(tmp_path, capsys):
    def interrupted(runs, context):
        raise KeyboardInterrupt
        yield

    toy = dataclasses.replace(transfer_runner.STUDY, train=interrupted)
    assert study.run(toy, ["--rows", "photos", "--results-dir", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert err == (f"reproductions.transfer: interrupted; the finished runs and checkpoints are "
                   f"kept in {tmp_path}: run the same command again to resume\n")
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # a second Ctrl-C cannot cut it
    signal.signal(signal.SIGINT, signal.default_int_handler)


def test_a_row_of_another_protocol_is_refused_naming_its_protocol(tmp_path, capsys):
    assert transfer.main(["--rows", "tf_tutorial", "--results-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "reproductions.transfer: --rows tf_tutorial: not run under --protocol offline; row "
        "tf_tutorial runs under --protocol tf_tutorial\n")
    assert not any(tmp_path.iterdir())


def test_an_interrupt_terminates_the_side_by_side_workers_at_once():
    from keras_cnn_course.training.side_by_side import side_by_side

    def interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(3)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            list(side_by_side(time.sleep, [(120,), (120,)], workers=2))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < 60  # not the two minutes the workers would sleep
    assert multiprocessing.active_children() == []


@pytest.fixture
def tiny_split(monkeypatch):
    """A split of 40 tiny images with features standing in for the backbone's, and a fake
    trainer that records which conditions it trained."""
    import keras

    monkeypatch.setattr(transfer_runner, "scratch_network", lambda size, classes: keras.Sequential(
        [keras.Input((size, size, 3)), keras.layers.Flatten(), keras.layers.Dense(classes)]))
    cut = keras.Input((2, 2, 4))
    top = keras.Model(cut, keras.layers.GlobalAveragePooling2D()(cut))
    rng = np.random.default_rng(0)
    data = {"x": rng.random((40, 4, 4, 3), "float32"), "y": np.arange(40) % 2}
    features = {"cut": rng.random((40, 2, 2, 4), "float32"),
                "pooled": rng.random((40, 4), "float32"), "top": top,
                "top_weights": top.get_weights()}
    trained = []

    def train_condition(name, build_model, train, validation, test, seed, log_dir, *options):
        if name in interrupt_at:
            raise KeyboardInterrupt
        trained.append(name)
        model = build_model()
        log_dir.mkdir(parents=True, exist_ok=True)
        metrics = {"test_accuracy": float(len(trained)), "selected_epoch": 1}
        timing = {"wall_seconds": 1.5, "started": f"run {len(trained)}"}
        return metrics, timing, np.zeros(len(test[1]), int), pd.DataFrame({"epoch": [0]}), model

    interrupt_at = set()
    monkeypatch.setattr(transfer_runner, "train_condition", train_condition)
    arguments = (data, features, np.arange(30), np.arange(30, 40), 2, 0, 4)
    return arguments, trained, interrupt_at


def test_an_interrupted_split_resumes_after_the_conditions_it_finished(tiny_split, tmp_path):
    arguments, trained, interrupt_at = tiny_split
    interrupt_at.add("fine_tuned")
    with pytest.raises(KeyboardInterrupt):
        transfer_runner.run_conditions(*arguments, tmp_path)
    assert trained == ["scratch", "frozen"]
    interrupt_at.clear()
    runs = transfer_runner.run_conditions(*arguments, tmp_path)
    assert trained == ["scratch", "frozen", "fine_tuned"]  # only the unfinished one trained
    assert runs["scratch"][1]["started"] == "run 1" and runs["frozen"][0]["test_accuracy"] == 2.0
    assert list(runs["frozen"][3]["condition"]) == ["frozen"]
    transfer_runner.forget_conditions(tmp_path)  # recorded: a --redo trains all three again
    transfer_runner.run_conditions(*arguments, tmp_path)
    assert trained[3:] == ["scratch", "frozen", "fine_tuned"]
