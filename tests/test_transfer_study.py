"""The pieces of the transfer study: the frozen/top split of a backbone, the offline data sets."""

import gzip
import re
import shutil
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_cnn_course import fetch
from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0
from keras_cnn_course.transfer import datasets, finetune


def test_bottom_then_top_is_the_whole_backbone_with_frozen_batchnorm():
    model = efficientnet_lite0(include_top=False, input_shape=(64, 64, 3))
    bottom, top = finetune.split_backbone(model, "block6d_add")
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(top(bottom(x)), model(x), atol=1e-5)
    assert top.layers[1].name == "block7a_expand_conv" and top.layers[-1].name == "top_activation"
    batchnorms = [layer for layer in top.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(batchnorms) == 4 and not any(layer.trainable for layer in batchnorms)
    # In training mode too, frozen BatchNorm uses its moving statistics.
    features = bottom(x)
    np.testing.assert_allclose(top(features, training=True), top(features), atol=1e-6)
    with pytest.raises(ValueError, match="skip connection .*block6d_add"):
        finetune.split_backbone(model, "block6c_add")


def test_photo_paths_leave_out_cartoons_and_mirrored_copies(tmp_path):
    for name in ["animals/birds/owl.png", "animals/birds/sea/gull.png",
                 "animals/birds/cartoon/tweety.png", "animals/birds/owl_mirror.png",
                 "animals/birds/owl.svg", "vehicles/bus.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    paths = datasets.photo_paths(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths["bird"]] == [
        "animals/birds/owl.png", "animals/birds/sea/gull.png"]
    assert len(paths["vehicle"]) == 1 and paths["fruit"] == []


def test_idx_reader():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in images.shape)
    np.testing.assert_array_equal(datasets._read_idx(header + images.tobytes()), images)


def test_fashion_mnist_with_a_wrong_hash_is_refused(tmp_path, monkeypatch):
    root = tmp_path / "deb" / datasets.FASHION_PACKAGE / datasets.FASHION_ROOT
    root.mkdir(parents=True)
    for name in datasets.FASHION_SHA256:
        (root / f"{name}.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + bytes(8)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: sha256 .*Delete"):
        datasets.load_fashion_mnist(tmp_path)
    assert not (tmp_path / "fashion_mnist.npz").exists()


def test_missing_apt_is_a_clear_error(tmp_path, monkeypatch):
    def no_apt(command, **kwargs):
        raise FileNotFoundError(2, "No such file", command[0])

    monkeypatch.setattr(subprocess, "run", no_apt)
    monkeypatch.setattr(subprocess, "Popen", no_apt)
    with pytest.raises(FileNotFoundError, match=r"apt-get is not installed.*dpkg-deb -x"):
        datasets.apt_extract(datasets.STAMPS_PACKAGE, tmp_path)
    assert not (tmp_path / "deb" / datasets.STAMPS_PACKAGE).exists()


def test_the_photo_predictions_csv_is_checked_by_line_and_column(tmp_path):
    from keras_cnn_course.results.documented import repo_root
    from reproductions.transfer.report import read_predictions

    committed = repo_root() / "results" / "transfer_photo_predictions.csv"
    assert len(read_predictions(committed)) == 186
    lines = committed.read_text().splitlines()
    path = tmp_path / "transfer_photo_predictions.csv"
    for changed, message in [
        ([*lines, lines[1]], f"line {len(lines) + 1} repeats the photo of line 2"),
        ([lines[0], lines[1].replace(",0,", ",first,", 1)], "line 2, column fold: 'first' must "
         "be an integer >= 0"),
        ([lines[0], lines[1].rsplit(",", 1)[0] + ","], "line 2, column fine_tuned: '' must be "
         "filled in"),
        ([lines[0].replace("frozen", "Frozen")], "line 1 lacks the columns ['frozen']"),
    ]:
        path.write_text("\n".join(changed) + "\n")
        with pytest.raises(ValueError, match=re.escape(f"{path}: {message}")):
            read_predictions(path)


def test_apt_is_bounded_within_30_s_offline(tmp_path, monkeypatch):
    calls = []

    def record(command, **kwargs):
        calls.append(command)
        raise subprocess.TimeoutExpired(command, 30)

    monkeypatch.setattr(subprocess, "run", record)  # never a real download here
    monkeypatch.setattr(subprocess, "Popen", record)
    with pytest.raises(ConnectionError, match=r"stopped after 30 s .*apt-get download"):
        datasets.apt_extract(datasets.STAMPS_PACKAGE, tmp_path)
    options = dict(option.split("=") for option in calls[0] if "::" in option)
    # apt tries each connection about twice per attempt (measured against a silent port).
    attempts = int(options["Acquire::Retries"]) + 1
    assert 2 * attempts * int(options["Acquire::http::Timeout"]) < 30
    assert options["Acquire::https::Timeout"] == options["Acquire::http::Timeout"]


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get")
def test_offline_apt_fails_fast_in_one_line(tmp_path, monkeypatch):
    if "Proxy" in subprocess.run(["apt-config", "dump"], capture_output=True, text=True).stdout:
        pytest.skip("apt has a proxy configured, which would override the offline one")
    for name in ("http_proxy", "https_proxy"):  # a closed port on loopback: no network
        monkeypatch.setenv(name, "http://127.0.0.1:9/")
    start = time.monotonic()
    with pytest.raises(ConnectionError) as error:
        datasets.apt_extract(datasets.FASHION_PACKAGE, tmp_path)
    assert time.monotonic() - start < 30
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"fetching {datasets.FASHION_PACKAGE} failed")
    assert f"run `apt-get download {datasets.FASHION_PACKAGE}`" in message
    assert list((tmp_path / "deb").iterdir()) == []


def test_a_download_that_stops_growing_is_stopped(tmp_path):
    silent = [sys.executable, "-c", "import time; time.sleep(60)"]
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        fetch.run_while_growing(silent, tmp_path, timeout=60, stall=1)
    assert time.monotonic() - start < 5


def test_a_download_that_grows_goes_on_past_the_stall_limit(tmp_path):
    growing = [sys.executable, "-c", "import time\nfor _ in range(8):\n"
               "    open('part', 'ab').write(b'x' * 1000); time.sleep(0.4)"]
    start = time.monotonic()
    fetch.run_while_growing(growing, tmp_path, timeout=60, stall=1.5)
    assert time.monotonic() - start > 3 and (tmp_path / "part").stat().st_size == 8000
