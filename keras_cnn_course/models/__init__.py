"""Every network of the lecture as a Keras model factory, one module per family.

    from keras_cnn_course.models import get_model, MODELS
    model = get_model("nielsen_dbl_conv_relu")          # uncompiled keras.Model
    model = get_model("vgg16", include_top=False, pooling="avg", input_shape=(64, 64, 3))

Factories share the keras.applications vocabulary: `input_shape`, `num_classes`, `include_top`,
`pooling`, `classifier_activation` (default "softmax"; None gives logits), `name`, plus
keyword-only options of their family. Nothing is downloaded. Modules load on first use, so that
importing this package (e.g. for the `kcc` commands) does not import Keras.
"""

import importlib

from keras_cnn_course.models import _checks

# Model name -> the module that defines its factory, in the order of the lecture.
SOURCES = {
    **dict.fromkeys([  # Nielsen, chapter 6, the book's progression
        "nielsen_shallow", "nielsen_basic_conv", "nielsen_omit_fc", "nielsen_dbl_conv",
        "nielsen_dbl_conv_relu", "nielsen_expanded_data_100", "nielsen_expanded_data_300",
        "nielsen_expanded_data_1000", "nielsen_expanded_data_double_fc_100",
        "nielsen_expanded_data_double_fc_300", "nielsen_expanded_data_double_fc_1000",
        "nielsen_double_fc_dropout"], "nielsen"),
    **dict.fromkeys(["mnist1d_cnn", "mnist1d_fc", "mnist1d_mlp", "mnist1d_benchmark_cnn"],
                    "mnist1d"),
    "lenet5": "lenet",
    "alexnet": "alexnet",
    "alexnet_grouped": "alexnet",
    **dict.fromkeys(["vgg11", "vgg13", "vgg16", "vgg19"], "vgg"),
    "efficientnet_lite0": "efficientnet_lite",
    "unet": "unet",
    "unet_same": "unet",
    "fcn": "fcn",
}
HELPERS = {"book_l2": "nielsen", "vgg": "vgg"}
# Modules whose layers and optimizers a saved model may name (registered when imported).
CUSTOM_OBJECTS = ("keras_cnn_course.models.layers", "keras_cnn_course.models.byte_dropout",
                  "keras_cnn_course.training.fused_adam")


def _load(name):
    module = importlib.import_module(f"{__name__}.{(SOURCES | HELPERS)[name]}")
    return getattr(module, name)


def __getattr__(attr):
    """`MODELS` and the factories themselves are imported on first access."""
    if attr == "MODELS":
        globals()["MODELS"] = {name: _load(name) for name in SOURCES}
        return globals()["MODELS"]
    if attr in SOURCES or attr in HELPERS:
        return _load(attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def get_model(name, **kwargs):
    """Build the registered model `name` with the factory's keyword arguments."""
    if name not in SOURCES:
        raise ValueError(_checks.close_matches(name, SOURCES))
    return _load(name)(**kwargs)


def reference(name):
    """The `Reference:` line of a model's docstring (where the network comes from)."""
    if name not in SOURCES:
        raise ValueError(_checks.close_matches(name, SOURCES))
    lines = [line.strip() for line in (_load(name).__doc__ or "").splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("Reference:")), None)
    if start is None:
        return ""
    text = [lines[start][len("Reference:"):].strip()]
    for line in lines[start + 1:]:  # a reference may wrap onto the following lines
        if not line or line.endswith(":"):
            break
        text.append(line)
    return " ".join(text)


def load_model(path, **kwargs):
    """`keras.saving.load_model` for a model saved from this package, e.g. the final network
    `make reproduce-mnist` keeps in runs/nielsen_mnist/row6-fast-seed0/model.keras: its own
    layers (ByteDropout, ...) and optimizers are registered first."""
    import keras

    for module in CUSTOM_OBJECTS:
        importlib.import_module(module)
    return keras.saving.load_model(path, **kwargs)


__all__ = ["MODELS", "SOURCES", "get_model", "load_model", "reference", *SOURCES, *HELPERS]

