"""Fixtures several test files share."""

import os
import shutil

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def offline_pip(monkeypatch, tmp_path):
    """pip as on a machine without network: no config files, the index a closed loopback port."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    (tmp_path / "no-wheels").mkdir()
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-wheels"))
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def results_copy(tmp_path):
    """A copy of the committed results/ (real runs), never the committed files themselves."""
    from keras_cnn_course.results.documented import repo_root

    target = tmp_path / "results"
    shutil.copytree(repo_root() / "results", target)
    return target


@pytest.fixture
def restore_op_determinism():
    """A seeded recipe enables TF op determinism process-wide: switch it off after the test, so
    that other test files are unaffected."""
    yield
    from tensorflow.python.framework import config  # the only switch back; tests only

    config.disable_op_determinism()
