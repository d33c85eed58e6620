"""One registry of networks, and keras.applications' arguments on every factory.

The parameter counts the registry lists are checked against the built networks in
tests/test_models.py; here: what it lists, the factories' signatures, keywords, weights and
input tensors, on small networks.
"""

import inspect
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras.src.backend import config as keras_config

from keras_cnn_course import cli, models, transfer
from keras_cnn_course.models import applications, get_model, list_models, registry

VOCABULARY = ("include_top", "weights", "input_tensor", "input_shape", "pooling", "classes",
              "classifier_activation", "name")
WITHOUT_POOLING = {"unet", "unet_same", "fcn", "mnist1d_fc", "mnist1d_mlp"}
IMAGENET = {"vgg16", "vgg19", "efficientnet_lite0", "mobilenet_v2", "efficientnet_b0",
            "resnet50", "xception"}


def test_list_models_filters_by_pattern_and_weights():
    assert list_models("vgg*") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert list_models("lite") == ["efficientnet_lite0"]  # a plain word matches anywhere
    assert list_models("*net*", weights="imagenet") == [
        "efficientnet_lite0", "mobilenet_v2", "efficientnet_b0", "resnet50"]
    assert set(list_models(weights="imagenet")) == IMAGENET
    assert list_models() == list(models.SOURCES) and len(list_models()) == 31
    with pytest.raises(ValueError, match=r"`weights` must be None or 'imagenet'.*weights='coco'"):
        list_models(weights="coco")


def test_the_transfer_backbones_are_a_view_of_the_registry():
    assert transfer.BACKBONES == tuple(list_models(weights="imagenet"))
    assert {"resnet50", "xception", "mobilenet_v2", "efficientnet_b0"} <= set(models.SOURCES)
    assert models.MODELS["resnet50"] is applications.resnet50  # what get_model builds


@pytest.mark.parametrize("name", list(registry.ENTRIES))
def test_reference_is_read_from_the_source_as_python_reads_the_docstring(name):
    lines = inspect.getdoc(models.MODELS[name]).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Reference:"))
    assert registry.reference(name).startswith(lines[start].strip()[len("Reference:"):].strip())
    assert registry.ENTRIES[name].reference == registry.reference(name)


@pytest.mark.parametrize("name", list(registry.ENTRIES))
def test_every_factory_shows_keras_applications_arguments_in_its_signature(name):
    parameters = inspect.signature(models.MODELS[name]).parameters
    expected = [word for word in VOCABULARY if not (word == "pooling" and name in WITHOUT_POOLING)]
    assert list(parameters)[:len(expected)] == expected
    assert not any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    assert parameters["weights"].default is None and parameters["name"].default == name


def test_a_misspelt_keyword_names_the_closest_and_the_valid_ones():
    with pytest.raises(TypeError) as error:
        get_model("vgg16", clases=10)
    message = str(error.value)
    assert "\n" not in message and "unexpected keyword argument 'clases'" in message
    assert "Did you mean 'classes'?" in message
    assert "Valid arguments: include_top, weights, input_tensor" in message


def test_num_classes_still_works_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="`num_classes` is deprecated: pass `classes`"):
        model = get_model("lenet5", num_classes=3)
    assert model.output_shape == (None, 3)
    with pytest.raises(TypeError, match="both `classes` and"):
        get_model("lenet5", classes=3, num_classes=3)


@pytest.mark.parametrize("name, kwargs, words", [
    ("lenet5", {"classes": 0}, ["classes=0", "positive integer"]),
    ("mnist1d_cnn", {"classes": 2.5}, ["classes=2.5"]),
    ("lenet5", {"weights": "imagenet"},
     ["weights='imagenet'", "lenet5 has no published", "vgg16", "efficientnet_lite0"]),
    ("fcn", {"weights": 3}, ["weights=3", "`.weights.h5`"]),
    ("unet", {"weights": "missing.weights.h5"}, ["'missing.weights.h5': no such file"]),
    ("lenet5", {"input_tensor": [1, 2]}, ["input_tensor=[1, 2]", "must be a tensor"]),
    ("vgg16", {"weights": "imagenet", "classes": 10}, ["`classes` must be 1000", "classes=10"]),
    ("vgg19", {"weights": "imagenet", "input_shape": (64, 64, 3)},
     [r"must be (224, 224, 3)", "input_shape=(64, 64, 3)"]),
])
def test_refusals_name_the_argument_the_value_and_what_is_accepted(name, kwargs, words,
                                                                   monkeypatch):
    monkeypatch.setattr(applications, "bounded_downloads", pytest.fail)  # refused before
    with pytest.raises(ValueError) as error:
        get_model(name, **kwargs)
    assert "\n" not in str(error.value)
    for word in words:
        assert word in str(error.value)


def test_a_weights_file_saved_from_the_same_factory_loads(tmp_path):
    keras.utils.set_random_seed(0)
    saved = get_model("lenet5", classes=4)
    path = tmp_path / "lenet5.weights.h5"
    saved.save_weights(path)
    loaded = get_model("lenet5", classes=4, weights=path)
    for mine, theirs in zip(saved.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    for name, kwargs in [("lenet5", {"classes": 10}), ("mnist1d_cnn", {})]:
        with pytest.raises(ValueError) as error:
            get_model(name, weights=str(path), **kwargs)
        assert str(error.value).startswith(f"weights='{path}': cannot be loaded into {name} (")
        assert "\n" not in str(error.value)


def test_input_tensor_is_the_models_input_as_in_keras_applications():
    images = keras.Input((32, 32, 1), name="images")
    assert get_model("lenet5", input_tensor=images).inputs == [images]
    signals = keras.Input((40,), name="signals")
    features = keras.layers.Dense(40, name="first")(signals)  # another network's output
    model = get_model("mnist1d_cnn", input_tensor=features)
    assert model.inputs == [signals] and model.output_shape == (None, 10)
    with pytest.raises(ValueError, match=r"input_shape=\(28, 28, 1\) does not match"):
        get_model("nielsen_shallow", input_tensor=images, input_shape=(28, 28, 1))


def test_vgg16_imagenet_copies_keras_applications_weights(monkeypatch):
    """Keras' VGG16 (here with random weights standing in for the download) fills ours."""
    real = keras.applications.VGG16
    built = []

    def stand_in(**kwargs):
        built.append(real(**{**kwargs, "weights": None}))
        return built[-1]

    monkeypatch.setattr(keras.applications, "VGG16", stand_in)
    ours = get_model("vgg16", weights="imagenet", include_top=False, input_shape=(32, 32, 3),
                     pooling="avg")
    for mine, theirs in zip(ours.get_weights(), built[0].get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_vgg16_imagenet_offline_is_one_line_naming_the_file_and_keras_cache(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))
    monkeypatch.setattr(applications, "reachable", lambda url: False)
    with pytest.raises(ConnectionError) as error:
        get_model("vgg16", weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    message = str(error.value)
    assert "\n" not in message and "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert f"save it as {tmp_path / 'models'}/" in message


def test_kcc_models_lists_from_the_registry(capsys):
    assert cli.main(["models", "vgg1?"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["model", "input", "parameters", "weights", "reference"]
    assert [line.split()[0] for line in lines[1:]] == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert re.match(r"vgg16 +224x224x3 +138,357,544 +imagenet +Simonyan & Zisserman", lines[3])
    assert cli.main(["models", "--weights", "imagenet", "resnet"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["resnet50"]
    assert cli.main(["models", "zzz"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("kcc models: no network matches PATTERN='zzz'")
    assert cli.main(["models", "--bogus"]) == 2  # named with the sub-command's usage
    assert capsys.readouterr().err.splitlines() == [
        "usage: kcc models [-h] [--weights {imagenet}] [PATTERN]",
        "kcc models: error: unrecognized arguments: --bogus"]


def test_kcc_models_imports_neither_keras_nor_tensorflow():
    code = ("import sys; from keras_cnn_course import cli; cli.main(['models']); "
            "print(sorted({'keras', 'tensorflow'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines()[-1] == "[]"
    assert len(done.stdout.splitlines()) == 1 + 31 + 1  # the header, 31 networks, the modules
