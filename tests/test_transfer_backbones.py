"""keras.applications backbones: built like EfficientNet-Lite0, weights download bounded in time."""

import subprocess

import numpy as np
import pandas as pd
import pytest
from keras.src.backend import config as keras_config

from keras_cnn_course.results.documented import study_file
from keras_cnn_course.transfer import backbones

DOCUMENTED = pd.read_csv(study_file("documented.csv")).set_index("key")


def test_mobilenet_v2_backbone_has_the_tutorials_parameter_count():
    model, preprocess = backbones.backbone("mobilenet_v2", (160, 160, 3), weights=None)
    assert model.count_params() == DOCUMENTED.loc["params_mobilenet_v2_notop_160", "value"]
    assert model.output_shape == (None, 1280)
    np.testing.assert_allclose(preprocess(np.array([0.0, 255.0])), [-1, 1])  # its input range


def test_offline_download_fails_fast_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))  # nothing cached
    calls = []

    def no_network(command, **kwargs):
        calls.append(command)
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(backbones.subprocess, "run", no_network)
    with pytest.raises(ConnectionError, match=r"mobilenet_v2.*within 5 s.*efficientnet_lite0"):
        backbones.backbone("mobilenet_v2", (96, 96, 3), timeout=5)
    assert len(calls) == 1 and calls[0][-2].startswith("https://")
    assert list((tmp_path / "models").iterdir()) == []  # no partial file left


def test_unknown_backbone_lists_the_choices():
    with pytest.raises(ValueError, match="unknown backbone 'mobilenet'.*mobilenet_v2"):
        backbones.backbone("mobilenet")
