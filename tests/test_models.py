"""The model zoo: every factory builds, has the documented parameter count, and refuses bad input.

Documented counts are read from the package's documented.csv (study "params"), not repeated here.
Heavy models are built once per module (at the documented shapes, for the counts) and otherwise
at small inputs.
"""

import json
import re
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from keras_cnn_course import models
from keras_cnn_course.models import SOURCES, book_l2, get_model, registry
from keras_cnn_course.results.documented import study_file
from keras_cnn_course.training.fused_adam import FusedAdam

DOCUMENTED = study_file("documented.csv")

# Small inputs (and widths) for forward passes; the count tests use the documented shapes.
# The big classifiers run without their 4096-wide top (it is counted at the documented shape).
FEATURES = {"include_top": False, "pooling": "avg"}
SMALL = {
    "alexnet": {"input_shape": (67, 67, 3), **FEATURES},
    "alexnet_grouped": {"input_shape": (67, 67, 3), **FEATURES},
    **{f"vgg{n}": {"input_shape": (32, 32, 3), **FEATURES} for n in (11, 13, 16, 19)},
    "unet": {"input_shape": (188, 188, 1), "filters": 2},
    "unet_same": {"input_shape": (32, 32, 3), "filters": 2, "classes": 3},
    "fcn": {"input_shape": (32, 32, 3), "filters": (4, 8, 8)},
    "efficientnet_lite0": {"input_shape": (64, 64, 3), "classes": 7},
}
# keras.applications' own networks: built (and their counts checked) once, at their defaults.
KERAS_APPLICATIONS = [name for name in SOURCES if registry.ENTRIES[name].module == "applications"]
OURS = [name for name in SOURCES if name not in KERAS_APPLICATIONS]


def documented_counts():
    table = pd.read_csv(DOCUMENTED, keep_default_na=False)
    rows = table[table.study == "params"]
    return [pytest.param(row.model, json.loads(row.config or "{}"), int(row.value), id=row.key)
            for row in rows.itertuples()]


@pytest.fixture(scope="module")
def build():
    """Build a model once per module and configuration."""
    cache = {}

    def get(name, **kwargs):
        key = (name, json.dumps(kwargs, sort_keys=True))
        if key not in cache:
            cache[key] = get_model(name, **kwargs)
        return cache[key]

    yield get
    cache.clear()
    keras.backend.clear_session()


def test_kcc_compare_params_says_these_tests_check_the_counts(capsys):
    from keras_cnn_course import cli

    assert cli.main(["compare", "params"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "tests/test_models.py" in out
    assert len(documented_counts()) == 27  # every one of them is a test case below

def test_registered_counts_are_the_built_networks():
    """The registry's metadata (what `kcc models` lists without building) is what the factories
    build at their defaults; networks with a documented count are built by the test below."""
    documented = {param.values[0]: param.values[2] for param in documented_counts()
                  if not param.values[1]}
    # Every VGG has VGG-16's 7x7x512 -> 4096 -> 4096 -> 1000 top: build vgg11 and vgg13 without
    # it (9 M parameters instead of 133 M, seconds less on a shared CPU).
    vgg_top = documented["vgg16"] - next(param.values[2] for param in documented_counts()
                                         if param.id == "params_vgg16_notop")
    for name, item in registry.ENTRIES.items():
        if name in documented:
            assert item.params == documented[name], name
        elif name in ("vgg11", "vgg13"):
            model = get_model(name, include_top=False)
            assert (item.params, item.input_shape) == (model.count_params() + vgg_top,
                                                      model.input_shape[1:]), name
        else:
            model = get_model(name)
            assert (item.params, item.input_shape) == (model.count_params(),
                                                      model.input_shape[1:]), name
            del model
            keras.backend.clear_session()


def test_documented_counts_cover_the_zoo():
    documented = {param.values[0] for param in documented_counts()}
    assert {"nielsen_double_fc_dropout", "mnist1d_cnn", "lenet5", "alexnet_grouped", "vgg16",
            "vgg19", "unet"} <= documented <= set(SOURCES)


@pytest.mark.parametrize("name, config, expected", documented_counts())
def test_parameter_count_is_the_documented_figure(build, name, config, expected):
    config = dict(config)
    layer = config.pop("layer", None)
    model = build(name, **config)
    counted = model.get_layer(layer).count_params() if layer else model.count_params()
    assert counted == expected
    if not config and not layer:  # the defaults: what the registry lists without building
        assert model.input_shape[1:] == registry.ENTRIES[name].input_shape


@pytest.mark.parametrize("name", OURS)
def test_every_model_builds_runs_and_names_its_layers_stably(name):
    kwargs = SMALL.get(name, {})
    model = get_model(name, **kwargs)
    again = get_model(name, **kwargs)
    assert isinstance(model, keras.Model) and not model.compiled
    assert [layer.name for layer in model.layers] == [layer.name for layer in again.layers]
    assert models.reference(name), f"{name} has no Reference: line"
    x = np.random.default_rng(0).random((2, *model.input_shape[1:]), dtype=np.float32)
    y = keras.ops.convert_to_numpy(model(x))
    assert y.shape == (2, *model.output_shape[1:]) and np.all(np.isfinite(y))
    if kwargs.get("include_top", True):
        assert model.layers[-1].name == "predictions"
        np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-4)  # softmax per example/pixel
    keras.backend.clear_session()


@pytest.mark.parametrize("name", OURS)
def test_predictions_stay_float32_under_mixed_precision(name):
    """Keras' mixed precision guide: a bfloat16 softmax rounds 0.99 to 0.9883 or 0.9922."""
    kwargs = {**SMALL.get(name, {}), "include_top": True}
    kwargs.pop("pooling", None)
    if name.startswith(("alexnet", "vgg")):  # a 1,000-class 4096-wide top: small classes suffice
        kwargs["classes"] = 3
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = get_model(name, **kwargs)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("predictions").compute_dtype == "float32"
    assert model.layers[-2].compute_dtype == "bfloat16"  # the rest computes in bfloat16
    x = np.random.default_rng(0).random((1, *model.input_shape[1:]), dtype=np.float32)
    assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
    keras.backend.clear_session()


@pytest.mark.parametrize("name, kwargs, shape", [
    ("nielsen_shallow", {}, (None, 10)),
    ("mnist1d_cnn", {}, (None, 10)),
    ("mnist1d_cnn", {"input_shape": (40, 1)}, (None, 10)),
    ("lenet5", {"include_top": False, "pooling": "avg"}, (None, 16)),
    ("alexnet", {}, (None, 1000)),
    ("vgg16", {"include_top": False}, (None, 7, 7, 512)),
    ("unet", {}, (None, 388, 388, 2)),
    ("unet_same", {"filters": 4}, (None, 256, 256, 2)),
    ("fcn", {}, (None, 224, 224, 21)),
    ("fcn", {"input_shape": (None, None, 3), "upsampling": "max_unpooling"},
     (None, None, None, 21)),
])
def test_output_shape_at_the_documented_input(build, name, kwargs, shape):
    assert build(name, **kwargs).output_shape == shape


def test_alexnet_conv1_is_55x55x96(build):
    assert build("alexnet").get_layer("conv1").output.shape == (None, 55, 55, 96)
    assert build("alexnet_grouped").get_layer("conv2").kernel.shape == (5, 5, 48, 256)


def test_vgg16_equals_keras_applications_layer_by_layer(build):
    ours, oracle = build("vgg16"), keras.applications.VGG16(weights=None)
    assert len(ours.layers) == len(oracle.layers)
    for mine, theirs in zip(ours.layers[1:], oracle.layers[1:]):
        assert (mine.name, type(mine), mine.output.shape, mine.count_params()) == \
               (theirs.name, type(theirs), theirs.output.shape, theirs.count_params())
    assert ours.count_params() == oracle.count_params()


def test_vgg16_computes_what_keras_applications_computes():
    ours = get_model("vgg16", include_top=False, input_shape=(32, 32, 3), pooling="max")
    oracle = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3),
                                      pooling="max")
    ours.set_weights(oracle.get_weights())
    x = np.random.default_rng(1).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(ours(x), oracle(x), rtol=1e-5, atol=1e-6)


def test_stable_hierarchical_layer_names():
    names = lambda model: [layer.name for layer in model.layers]  # noqa: E731
    assert names(get_model("nielsen_double_fc_dropout")) == [
        "input_layer", "conv1", "pool1", "conv2", "pool2", "flatten", "dropout_fc1", "fc1",
        "dropout_fc2", "fc2", "dropout_predictions", "predictions"]
    assert names(get_model("lenet5")) == [
        "input_layer", "conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2", "predictions"]
    assert names(get_model("mnist1d_cnn")) == [
        "input_layer", "reshape", "conv1", "conv2", "conv3", "flatten", "predictions"]
    unet = names(get_model("unet", filters=1))
    assert unet[:4] == ["input_layer", "block1_conv1", "block1_conv2", "block1_pool"]
    assert {"block5_dropout", "up4_upconv", "up4_crop", "up4_concat", "up1_conv2"} <= set(unet)
    for model in (get_model("alexnet", include_top=False), get_model("fcn", filters=(2, 2))):
        assert not [n for n in names(model) if re.search(r"_\d+$", n)]  # no Keras auto-names


def test_mnist1d_benchmark_cnn_pads_as_pytorch_padding_1():
    model = get_model("mnist1d_benchmark_cnn")
    lengths = [model.get_layer(f"conv{i}").output.shape[1] for i in (1, 2, 3)]
    assert lengths == [19, 10, 5]  # floor((L + 2 - k) / 2) + 1


def test_book_l2_matches_network3_scaling():
    assert book_l2(0.1, 50_000) == pytest.approx(1e-5)
    assert book_l2(0.1, 250_000) == pytest.approx(2e-6)
    with pytest.raises(ValueError, match="lmbda"):
        book_l2(-1, 50_000)


def test_l2_penalises_every_kernel_but_no_bias():
    model = get_model("nielsen_dbl_conv_relu", l2=1e-5)
    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
    assert len(kernels) == 4  # conv1, conv2, fc1 and the softmax layer
    expected = 1e-5 * sum(float(np.sum(np.square(k))) for k in kernels)
    assert float(sum(keras.ops.convert_to_numpy(loss) for loss in model.losses)) == \
        pytest.approx(expected, rel=1e-5)


def test_book_init_is_nielsens():
    keras.utils.set_random_seed(0)
    model = get_model("nielsen_expanded_data_1000", book_init=True)
    weights = {layer.name: [np.asarray(w) for w in layer.weights] for layer in model.layers}
    assert np.std(weights["conv1"][0]) == pytest.approx((4 / (20 * 25)) ** 0.5, rel=0.15)
    assert np.std(weights["conv2"][0]) == pytest.approx((4 / (40 * 25)) ** 0.5, rel=0.05)
    assert np.std(weights["fc1"][0]) == pytest.approx(1000 ** -0.5, rel=0.05)
    assert np.std(weights["fc1"][1]) == pytest.approx(1.0, rel=0.15)  # biases N(0, 1)
    assert not np.any(weights["predictions"][0]) and not np.any(weights["predictions"][1])
    default = get_model("nielsen_expanded_data_1000")
    assert not np.any(np.asarray(default.get_layer("fc1").bias))  # Keras defaults otherwise


def test_dropout_sits_on_the_inputs_of_fc_and_softmax_layers():
    model = get_model("nielsen_double_fc_dropout")
    rates = {layer.name: layer.rate for layer in model.layers
             if isinstance(layer, keras.layers.Dropout)}
    assert rates == {"dropout_fc1": 0.5, "dropout_fc2": 0.5, "dropout_predictions": 0.5}
    assert not any(isinstance(layer, keras.layers.Dropout)
                   for layer in get_model("nielsen_expanded_data_double_fc_1000").layers)


def test_unknown_model_lists_close_matches():
    with pytest.raises(ValueError, match="vgg16") as error:
        get_model("vgg61")
    assert "unknown model 'vgg61'" in str(error.value)
    with pytest.raises(ValueError, match="nielsen_dbl_conv_relu"):
        get_model("nielsen_dbl_conv_rel")


@pytest.mark.parametrize("name, kwargs, argument", [
    ("lenet5", {"classes": 0}, "classes=0"),
    ("vgg16", {"classes": "ten"}, "classes='ten'"),
    ("lenet5", {"include_top": "yes"}, "include_top='yes'"),
    ("vgg16", {"input_shape": (0, 224, 3)}, "input_shape=(0, 224, 3)"),
    ("vgg11", {"input_shape": (224, 3)}, "input_shape=(224, 3)"),
    ("unet", {"filters": -1}, "filters=-1"),
    ("unet_same", {"depth": 0}, "depth=0"),
    ("mnist1d_cnn", {"filters": 0}, "filters=0"),
    ("mnist1d_fc", {"hidden": (285, 0)}, "hidden=(285, 0)"),
    ("fcn", {"filters": (32, -64)}, "filters=(32, -64)"),
    ("nielsen_double_fc_dropout", {"dropout": (0.5, 1.5, 0.5)}, "dropout=1.5"),
    ("nielsen_shallow", {"l2": -0.1}, "l2=-0.1"),
    ("alexnet", {"pooling": "mean", "include_top": False}, "pooling='mean'"),
    ("fcn", {"upsampling": "bicubic"}, "upsampling='bicubic'"),
])
def test_bad_arguments_are_named_with_the_value_received(name, kwargs, argument):
    with pytest.raises(ValueError, match=re.escape(argument)):
        get_model(name, **kwargs)


@pytest.mark.parametrize("name, input_shape, layer", [
    ("nielsen_dbl_conv", (12, 12, 1), "conv2"),
    ("lenet5", (8, 8, 1), "conv2"),
    ("alexnet", (50, 50, 3), "pool5"),
    ("vgg16", (16, 16, 3), "block5_pool"),
    ("mnist1d_cnn", (10,), "conv3"),
    ("unet", (570, 570, 1), "block2_pool"),
    ("unet", (60, 60, 1), "block4_pool"),
    ("unet", (140, 140, 1), "up4_conv2"),
    ("unet_same", (40, 40, 1), "block4_pool"),
])
def test_input_too_small_names_the_layer_and_why(name, input_shape, layer):
    with pytest.raises(ValueError, match=f"'{layer}'") as error:
        get_model(name, input_shape=input_shape)
    assert re.search(r"too small|does not fit|odd", str(error.value))


def test_fcn_needs_a_size_its_poolings_divide():
    with pytest.raises(ValueError, match="multiple of 8"):
        get_model("fcn", input_shape=(30, 30, 3))


def test_a_saved_final_net_loads_in_a_fresh_process(tmp_path):
    """`models.load_model` registers the package's layers and optimizers, which a new Python
    session (a notebook, `kcc figures --model`) has not imported yet."""
    model = get_model("nielsen_double_fc_dropout")
    model.compile(optimizer=FusedAdam(1e-3), loss="sparse_categorical_crossentropy")
    path = tmp_path / "final.keras"
    model.save(path)
    code = ("import sys; from keras_cnn_course import models; m = models.load_model(sys.argv[1]); "
            "print(type(m.optimizer).__name__, m.count_params())")
    loaded = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, check=True)
    assert loaded.stdout.split()[-2:] == ["FusedAdam", "1672570"]

