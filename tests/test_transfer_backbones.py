"""keras.applications backbones: built like EfficientNet-Lite0, weights download bounded in time."""

import re
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from keras.src.backend import config as keras_config

from keras_cnn_course.results.documented import study_file
from keras_cnn_course.models import applications
from keras_cnn_course.transfer import backbones

DOCUMENTED = pd.read_csv(study_file("documented.csv")).set_index("key")


def test_mobilenet_v2_backbone_has_the_tutorials_parameter_count():
    model, preprocess = backbones.backbone("mobilenet_v2", (160, 160, 3), weights=None)
    assert model.count_params() == DOCUMENTED.loc["params_mobilenet_v2_notop_160", "value"]
    assert model.output_shape == (None, 1280)
    np.testing.assert_allclose(preprocess(np.array([0.0, 255.0])), [-1, 1])  # its input range


def test_an_unreachable_host_fails_at_once_naming_the_file_and_where_to_put_it(tmp_path,
                                                                               monkeypatch):
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))  # nothing cached
    monkeypatch.setattr(applications, "reachable", lambda url: False)
    monkeypatch.setattr(applications.subprocess, "run", pytest.fail)  # no download attempted
    with pytest.raises(ConnectionError) as error:
        backbones.backbone("mobilenet_v2", (96, 96, 3))
    message = str(error.value)
    assert "\n" not in message
    assert re.search(rf"fetch https://\S+/mobilenet_v2\S+\.h5 .* save it as "
                     rf"{re.escape(str(tmp_path / 'models'))}/mobilenet_v2\S+\.h5", message)
    assert list((tmp_path / "models").iterdir()) == []  # no partial file left


def test_a_slow_download_is_stopped_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))
    monkeypatch.setattr(applications, "reachable", lambda url: True)
    calls = []

    def no_network(command, **kwargs):
        calls.append(command)
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(applications.subprocess, "run", no_network)
    with pytest.raises(ConnectionError, match=r"mobilenet_v2.*within 5 s.*efficientnet_lite0"):
        backbones.backbone("mobilenet_v2", (96, 96, 3), timeout=5)
    assert len(calls) == 1 and calls[0][-2].startswith("https://")
    assert list((tmp_path / "models").iterdir()) == []


def test_the_probe_is_bounded_in_time():
    started = time.monotonic()
    assert not applications.reachable("https://unreachable.invalid/x.h5", timeout=1)
    assert time.monotonic() - started < 3


def test_unknown_backbone_lists_the_choices():
    with pytest.raises(ValueError, match="unknown backbone 'mobilenet'.*mobilenet_v2"):
        backbones.backbone("mobilenet")
