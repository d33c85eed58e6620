"""Several replicas and several workers train exactly like one device; `kcc launch` cleans up.

The network is Nielsen's final net (1,672,570 parameters) with the final recipe of
`reproductions.nielsen_mnist` (Adam, warm-up + cosine, EMA), made comparable: float32 instead of
bfloat16, dropout off, no reshuffling; 24 steps at a global batch of 32 on random images. The
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
import pytest

from keras_cnn_course import cli, launch

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
    from reproductions.nielsen_mnist import FINAL

    rng = np.random.default_rng(0)
    x, y = rng.random((384, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 384)

    def train(strategy, replicas):
        recipe = dataclasses.replace(
            FINAL, batch_size=32 // replicas, learning_rate=FINAL.learning_rate * 2 / replicas,
            epochs=4, steps_per_epoch=6, steps_per_execution=1, shuffle=False, dropout=False,
            mixed_precision=None, seed=3)
        result = fit(lambda: get_model("nielsen_double_fc_dropout"), recipe, (x, y),
                     strategy=strategy, verbose=0)
        return result, {"loss": result.history["loss"], "accuracy": result.history["accuracy"],
                        "replicas": result.replicas, "batch": result.global_batch_size}

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


def assert_same_training(run, reference, name):
    (figures, weights), (expected, expected_weights) = run, reference
    assert (figures["replicas"], figures["batch"]) == (2, expected["batch"]), name
    np.testing.assert_allclose(figures["loss"], expected["loss"], **TOLERANCE, err_msg=name)
    np.testing.assert_allclose(figures["accuracy"], expected["accuracy"], **TOLERANCE,
                               err_msg=name)
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
