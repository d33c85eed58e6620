"""Several replicas and several workers train exactly like one device; `kcc launch` cleans up.

The network is Nielsen's final net (1,672,570 parameters) with the final recipe of
`reproductions.nielsen_mnist` (Adam, cosine, EMA, several steps an execution), made comparable:
float32 instead of bfloat16, dropout off, no reshuffling; 24 steps at a global batch of 32 on
random images, 3 steps an execution, validation and test scored every epoch (with the EMA weights). The
reference trains on one device at batch 32 and rate 2r; the distributed runs train 2 replicas
(two logical CPU devices, or two worker processes on 127.0.0.1) at batch 16 each and rate r, which
the linear scaling rule makes 2r. TensorFlow runs in fresh processes: logical devices and the
multi-worker strategy must be set up before TensorFlow initialises.
"""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from keras_cnn_course import cli, data, launch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT}
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}  # observed: weights within 2e-7 of the single device

TRAIN_SCRIPT = textwrap.dedent("""
    import dataclasses, json, os, sys
    from keras_cnn_course.training import choose_strategy, fit
    mode, out = sys.argv[1], sys.argv[2]
    strategy = choose_strategy(2 if mode == "reference" else None)  # before TF initialises
    import keras, numpy as np, tensorflow as tf
    from keras_cnn_course.models import get_model
    from reproductions.nielsen_mnist.rows import FINAL

    rng = np.random.default_rng(0)
    x, y = rng.random((448, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 448)
    FIGURES = ("loss", "accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy")

    def train(strategy, replicas):
        # FINAL as shipped (EMA, 3 steps an execution here) but comparable across replica counts
        recipe = dataclasses.replace(
            FINAL, batch_size=32 // replicas, learning_rate=FINAL.learning_rate * 2 / replicas,
            epochs=4, steps_per_epoch=6, steps_per_execution=3, shuffle=False, dropout=False,
            mixed_precision=None, seed=3)
        assert recipe.ema
        result = fit(lambda: get_model("nielsen_double_fc_dropout"), recipe, (x[:384], y[:384]),
                     (x[384:416], y[384:416]), (x[416:], y[416:]), strategy=strategy, verbose=0)
        return result, {**{name: result.history[name] for name in FIGURES},
                        "selected": result.selected, "replicas": result.replicas,
                        "batch": result.global_batch_size, "steps": result.steps}

    if mode == "reference":
        keras.utils.set_random_seed(3)
        np.savez(f"{out}/initial.npz", *get_model("nielsen_double_fc_dropout").get_weights())
        runs = {"one": train(tf.distribute.get_strategy(), 1),
                "mirrored": train(strategy, strategy.num_replicas_in_sync)}
    else:
        runs = {f"worker{strategy.cluster_resolver.task_id}":
                train(strategy, strategy.num_replicas_in_sync)}
    for name, (result, figures) in runs.items():
        np.savez(f"{out}/{name}.npz", *result.model.get_weights())
        with open(f"{out}/{name}.json", "w") as file:
            json.dump({**figures, "pid": os.getpid()}, file)
""")


def load_run(directory, name):
    with open(directory / f"{name}.json") as file:
        figures = json.load(file)
    weights = np.load(directory / f"{name}.npz")
    return figures, [weights[key] for key in weights.files]


FIGURES = ("loss", "accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy")


def assert_same_training(run, reference, name):
    """Training, validation and test figures (EMA weights) and the final weights agree."""
    (figures, weights), (expected, expected_weights) = run, reference
    assert (figures["replicas"], figures["batch"]) == (2, expected["batch"]), name
    assert figures["steps"] == expected["steps"] == 24, name
    for figure in FIGURES:
        np.testing.assert_allclose(figures[figure], expected[figure], **TOLERANCE,
                                   err_msg=f"{name}: {figure}")
    assert figures["selected"]["epoch"] == expected["selected"]["epoch"], name
    for mine, theirs in zip(weights, expected_weights, strict=True):
        np.testing.assert_allclose(mine, theirs, **TOLERANCE, err_msg=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One device and MirroredStrategy over 2 logical CPUs, trained in one fresh process."""
    out = tmp_path_factory.mktemp("reference")
    script = out / "train.py"
    script.write_text(TRAIN_SCRIPT)
    done = subprocess.run([sys.executable, str(script), "reference", str(out)], env=ENV,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_two_cpu_replicas_train_the_final_net_like_one_device(reference):
    one, initial = load_run(reference, "one"), np.load(reference / "initial.npz")
    assert one[0]["replicas"] == 1 and one[0]["batch"] == 32
    moved = max(float(np.abs(w - initial[k]).max()) for w, k in zip(one[1], initial.files))
    assert moved > 100 * TOLERANCE["atol"]  # training moved the weights far beyond the tolerance
    assert_same_training(load_run(reference, "mirrored"), one, "mirrored")


def test_two_workers_launched_on_localhost_train_like_one_device(reference, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    command = [sys.executable, "-m", "keras_cnn_course.cli", "launch", "--workers", "2",
               "--timeout", "120", "--", "python", str(script), "worker", str(tmp_path)]
    launcher = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = launcher.communicate(timeout=150)
    finally:  # SIGTERM lets the launcher stop its workers; never leave it running
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
            launcher.wait(15)
    assert launcher.returncode == 0, output[-3000:]
    workers = [load_run(tmp_path, f"worker{index}") for index in (0, 1)]
    for mine, theirs in zip(*(weights for _, weights in workers), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # the all-reduce keeps them identical
    assert workers[0][0]["loss"] == workers[1][0]["loss"]
    one = load_run(reference, "one")
    for index, run in enumerate(workers):
        assert_same_training(run, one, f"worker{index}")
        assert all_gone([run[0]["pid"]])


# --- the launcher itself (plain Python workers, no TensorFlow: fast) -----------------------------

SLEEPER = textwrap.dedent("""
    import json, os, subprocess, sys, time
    task = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    pids = os.path.join(sys.argv[1], "pids{}.json")
    with open(pids.format("tmp") + str(task), "w") as file:
        json.dump([os.getpid(), child.pid], file)
    os.replace(pids.format("tmp") + str(task), pids.format(task))
    print("ready", os.environ["TF_CONFIG"], flush=True)
    if task == int(sys.argv[2]):  # fail once every worker has started
        while not all(os.path.exists(pids.format(index)) for index in (0, 1)):
            time.sleep(0.05)
        sys.exit(3)
    time.sleep(120)
""")


def alive(pid):
    """True while the process runs (a zombie, dead but not yet reaped, counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(") ", 1)[1][:1] != "Z"
    except FileNotFoundError:
        return False


def all_gone(pids, wait=2.0):
    """True when none of `pids` runs any more (a killed process needs a moment to die)."""
    end = time.monotonic() + wait
    while any(alive(pid) for pid in pids) and time.monotonic() < end:
        time.sleep(0.02)
    return not any(alive(pid) for pid in pids)


def started_pids(directory, workers=2, wait=30):
    end = time.monotonic() + wait
    while time.monotonic() < end:
        files = [directory / f"pids{index}.json" for index in range(workers)]
        if all(path.exists() for path in files):
            return [pid for path in files for pid in json.loads(path.read_text())]
        time.sleep(0.05)
    raise AssertionError("the workers did not start")


def sleeper_command(tmp_path, failing_task=-1):
    script = tmp_path / "sleeper.py"
    script.write_text(SLEEPER)
    return [sys.executable, str(script), str(tmp_path), str(failing_task)]


def test_a_failing_worker_stops_the_others_and_sets_the_exit_code(tmp_path, monkeypatch):
    monkeypatch.setattr(launch, "GRACE_SECONDS", 0.5)
    out, start = io.StringIO(), time.monotonic()
    code = launch.launch(sleeper_command(tmp_path, failing_task=1), launch.local_hosts(2),
                         timeout=60, out=out)
    assert code == 3 and time.monotonic() - start < 30
    assert all_gone(started_pids(tmp_path))  # grandchildren too
    lines = out.getvalue().splitlines()
    configs = {int(line[7]): json.loads(line.split(" ", 2)[2]) for line in lines
               if line.startswith("[worker") and " ready " in line}
    assert sorted(configs) == [0, 1]
    assert all(config["task"] == {"type": "worker", "index": index}
               for index, config in configs.items())
    hosts = configs[0]["cluster"]["worker"]
    assert configs[1]["cluster"]["worker"] == hosts and len(set(hosts)) == 2
    assert all(host.startswith("127.0.0.1:") for host in hosts)


def test_the_time_limit_stops_every_worker(tmp_path, monkeypatch):
    monkeypatch.setattr(launch, "GRACE_SECONDS", 0.5)
    code = launch.launch(sleeper_command(tmp_path), launch.local_hosts(2), timeout=4,
                         out=io.StringIO())
    assert code == launch.TIMEOUT_EXIT
    assert all_gone(started_pids(tmp_path))


@pytest.mark.parametrize("signum, expected", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_to_the_launcher_stops_every_worker(tmp_path, signum, expected):
    command = [sys.executable, "-m", "keras_cnn_course.cli", "launch", "--workers", "2", "--",
               *sleeper_command(tmp_path)]
    launcher = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        pids = started_pids(tmp_path)
        launcher.send_signal(signum)
        assert launcher.wait(30) == expected
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert all_gone(pids)


def test_the_cluster_plan_and_bad_arguments(capsys):
    assert cli.main(["launch", "--hosts", "node1:2222,node2:2222", "--", "python", "-m",
                     "reproductions.nielsen_mnist"]) == 0
    plan = capsys.readouterr().out
    for index, host in enumerate(["node1", "node2"]):
        assert f"# on {host} (worker {index}" in plan
        assert (f"kcc launch --hosts node1:2222,node2:2222 --task-index {index} -- python -m "
                "reproductions.nielsen_mnist") in plan
        assert launch.tf_config(["node1:2222", "node2:2222"], index) in plan
    for argv, message in [
        (["launch", "--workers", "2", "--"], "no command"),
        (["launch", "--task-index", "0", "--", "true"], "--task-index needs --hosts"),
        (["launch", "--hosts", "node1", "--task-index", "0", "--", "true"], "HOST:PORT"),
        (["launch", "--hosts", "a:1,b:2", "--task-index", "2", "--", "true"], "--task-index"),
        (["launch", "--hosts", "a:1,b:2", "--workers", "3", "--", "true"], "--workers 3"),
        (["launch", "--workers", "0", "--", "true"], "--workers"),
        (["launch", "--timeout", "0", "--", "true"], "--timeout"),
    ]:
        assert cli.main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv


def test_worker_commands_run_modules_and_python_under_this_interpreter():
    assert launch.worker_command(["--", "reproductions.nielsen_mnist", "--quick"]) == [
        sys.executable, "-m", "reproductions.nielsen_mnist", "--quick"]
    assert launch.worker_command(["python", "-c", "1"]) == [sys.executable, "-c", "1"]
    assert launch.worker_command(["--", "./train.sh", "a.b"]) == ["./train.sh", "a.b"]


# --- the reproduction under both paths, its shipped recipe as is ---------------------------------

def run_quick_final_row(prefix, results_dir, *options):
    """`--quick --rows row6`: EMA, dropout, distortions, 10 steps an execution, mixed precision
    "auto" (bfloat16 on CPUs that have it natively)."""
    command = [*prefix, "python", "-m", "reproductions.nielsen_mnist", "--quick", "--rows",
               "row6", "--results-dir", str(results_dir), *options]
    command = [sys.executable if part == "python" and not prefix else part for part in command]
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    runs = pd.read_csv(results_dir / "nielsen_mnist.csv")
    row = runs[runs["key"] == "mnist_row6_double_fc_dropout"].iloc[0]
    predictions = np.load(results_dir / "predictions" / "nielsen_mnist" / "row6-fast-seed0.npy")
    labels = data.load_mnist().test[1][:len(predictions)]
    # the test figure and the kept test predictions come from the same (EMA) weights
    assert row["test_accuracy"] == pytest.approx(100 * np.mean(predictions == labels), abs=1e-9)
    return row


@pytest.mark.data
def test_the_final_row_trains_as_shipped_on_two_replicas_and_on_two_workers(tmp_path):
    mirrored = run_quick_final_row([], tmp_path / "mirrored", "--strategy", "2")
    launcher = [sys.executable, "-m", "keras_cnn_course.cli", "launch", "--workers", "2",
                "--timeout", "200", "--"]
    workers = run_quick_final_row(launcher, tmp_path / "workers")
    assert mirrored["precision"] == workers["precision"]  # "auto": bfloat16 where native
    # the same global batch (2 x 256) and replica seeds: the two paths agree
    for figure in ("train_accuracy", "validation_accuracy", "test_accuracy", "selected_epoch"):
        assert workers[figure] == pytest.approx(mirrored[figure], abs=0.05), figure
