"""A newcomer's run on a fresh clone: one real row of each study (not --quick) trains into the
user's own results directory, never touches a tracked file, shows the three-way comparison,
skips when rerun, and resumes when killed.

Minutes of training: marked `slow`, run by `make test-slow` (not by `make test`).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = [pytest.mark.slow, pytest.mark.data, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A fresh clone of the committed project (what a student gets)."""
    target = tmp_path_factory.mktemp("newcomer") / "keras_cnn_course"
    subprocess.run(["git", "clone", "-q", ROOT, str(target)], check=True)
    return target


def reproduce(clone, module, *options, wait=True, stderr=None):
    """Run the study; with wait=False, the started process (its own process group, stderr into
    the file `stderr` if given)."""
    command = [sys.executable, "-m", f"reproductions.{module}", *options]
    env = {**os.environ, "PYTHONPATH": str(clone), "TF_CPP_MIN_LOG_LEVEL": "2"}
    if not wait:
        return subprocess.Popen(command, cwd=clone, env=env, stdout=subprocess.DEVNULL,
                                stderr=stderr.open("w") if stderr else subprocess.DEVNULL,
                                start_new_session=True)
    done = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True,
                          timeout=1500)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout


def untracked_changes(clone):
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True,
                            text=True, check=True).stdout
    return status.strip()


def rows_of(clone, study):
    path = clone / "my_results" / f"{study}.csv"
    return pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["key", "seed"])


def assert_the_users_page(clone, study, out):
    page = clone / "my_results" / f"{study}.md"
    assert out.strip().splitlines()[-1] == f"results: {page}"
    header = next(line for line in page.read_text().splitlines() if line.startswith("| key"))
    for column in ("documented", "reference", "yours", "status"):
        assert column in header, header
    assert "not run" in page.read_text()  # the rows this user did not run say so
    assert untracked_changes(clone) == ""  # my_results/ is git-ignored; nothing tracked changed


def kill_after(process, ready, limit=600, signum=signal.SIGKILL):
    """Send `signum` to the run (its whole process group, as a Ctrl-C at a terminal reaches it)
    once `ready()` holds, and wait for it to end (at most a minute)."""
    end = time.monotonic() + limit
    while not ready() and time.monotonic() < end and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None and ready(), "the run ended before it could be interrupted"
    os.killpg(process.pid, signum)
    process.wait(timeout=60)


def test_a_nielsen_row_trains_resumes_and_skips(clone):
    history = clone / "my_results" / "checkpoints" / "nielsen_mnist" / "row0-fast-seed0"
    options = ["--rows", "row0", "--seeds", "1"]
    run = reproduce(clone, "nielsen_mnist", *options, wait=False)

    def two_epochs_kept():
        path = history / "history.csv"
        return path.exists() and len(path.read_text().splitlines()) >= 3 and any(
            (history / "backup").glob("*"))

    kill_after(run, two_epochs_kept)
    before = pd.read_csv(history / "history.csv")
    assert rows_of(clone, "nielsen_mnist").empty  # killed: no result row yet
    out = reproduce(clone, "nielsen_mnist", *options)
    # an epoch logged but not yet backed up when killed is trained again: the later row counts
    after = pd.read_csv(history / "history.csv").drop_duplicates("epoch", keep="last")
    assert list(after["epoch"]) == list(range(30))  # resumed: every epoch once
    figures = [name for name in before.columns if not name.endswith("seconds")]
    assert after[figures].iloc[0].equals(before[figures].iloc[0])  # kept, not retrained
    assert set(rows_of(clone, "nielsen_mnist")["key"]) == {"mnist_row0_shallow"}
    assert_the_users_page(clone, "nielsen_mnist", out)
    again = reproduce(clone, "nielsen_mnist", *options)
    assert "row0 seed 0 (fast): done, skipped" in again
    assert len(rows_of(clone, "nielsen_mnist")) == 1


def test_an_mnist1d_row_trains_restarts_and_skips(clone):
    options = ["--rows", "mlp", "--seeds", "2"]
    run = reproduce(clone, "mnist1d", *options, wait=False)
    time.sleep(20)  # inside its compiled steps: the copies restart from scratch after a kill
    if run.poll() is None:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    out = reproduce(clone, "mnist1d", *options)
    assert sorted(rows_of(clone, "mnist1d")["seed"]) == [0, 1]
    assert_the_users_page(clone, "mnist1d", out)
    assert "mlp seed 1 (book): done, skipped" in reproduce(clone, "mnist1d", *options)


def test_a_transfer_row_trains_resumes_after_a_ctrl_c_and_skips(clone, tmp_path):
    options = ["--rows", "fashion_100", "--seeds", "1"]
    scratch = clone / "my_results" / "checkpoints" / "transfer" / "fashion_100-offline-seed0" / \
        "scratch"
    stderr = tmp_path / "stderr"
    run = reproduce(clone, "transfer", *options, wait=False, stderr=stderr)
    kill_after(run, lambda: (scratch / "finished.json").exists(), signum=signal.SIGINT)
    assert run.returncode == 130, stderr.read_text()[-2000:]
    assert stderr.read_text().strip().splitlines()[-1].startswith(
        "reproductions.transfer: interrupted"), stderr.read_text()[-2000:]
    assert rows_of(clone, "transfer").empty  # the split was not finished
    started = json.loads((scratch / "finished.json").read_text())["timing"]["started"]
    out = reproduce(clone, "transfer", *options)
    rows = rows_of(clone, "transfer").set_index("key")
    assert set(rows.index) == {"fashion_100_scratch", "fashion_100_frozen",
                               "fashion_100_fine_tuned", "fashion_100_frozen_gain",
                               "fashion_100_fine_tune_gain"}
    assert rows.loc["fashion_100_scratch", "started"] == started  # kept, not trained again
    assert not (scratch / "finished.json").exists()  # recorded: a --redo trains it again
    assert_the_users_page(clone, "transfer", out)
    assert "fashion_100 seed 0 (offline): done, skipped" in reproduce(clone, "transfer", *options)
