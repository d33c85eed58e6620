"""Every network of the lecture as a Keras model factory, one module per family, in one registry.

    from keras_cnn_course import models
    models.list_models("vgg*")                          # ['vgg11', 'vgg13', 'vgg16', 'vgg19']
    models.list_models(weights="imagenet")              # the networks with published weights
    model = models.get_model("nielsen_dbl_conv_relu")   # uncompiled keras.Model
    model = models.get_model("vgg16", include_top=False, pooling="avg", input_shape=(64, 64, 3))
    model = models.get_model("resnet50", weights="imagenet")  # keras.applications' own weights

Every classifier factory takes keras.applications' arguments with their meanings: `include_top`,
`weights` (None, "imagenet" where published weights exist, or the path of a weights file saved
from the same factory), `input_tensor`, `input_shape`, `pooling`, `classes`,
`classifier_activation` (default "softmax"; None gives logits), `name`, then keyword-only options
of its family (`models.vocabulary`). Segmentation and 1-D networks take the subset that makes
sense. Nothing is downloaded unless weights="imagenet" asks for it. The registry
(`models.registry`) knows each network's reference, default input shape, parameter count and
weights without building it; factory modules load on first use, so that importing this package
(e.g. for the `kcc` commands) does not import Keras.
"""

import importlib

from keras_cnn_course.models import registry
from keras_cnn_course.models.registry import list_models, reference

# Model name -> the module that defines its factory, in the order of the lecture.
SOURCES = {name: item.module for name, item in registry.ENTRIES.items()}
HELPERS = {"book_l2": "nielsen", "vgg": "vgg"}
# Modules whose layers and optimizers a saved model may name (registered when imported).
CUSTOM_OBJECTS = ("keras_cnn_course.models.layers", "keras_cnn_course.models.byte_dropout",
                  "keras_cnn_course.training.fused_adam")


def _load(name):
    source = (SOURCES | HELPERS)[name]
    module = importlib.import_module(f"{__name__}.{source}")
    # Importing the module `models.unet` set this package's attribute `unet` to it: here the
    # names of the module's factories mean the factories.
    for factory in [*SOURCES, *HELPERS]:
        if (SOURCES | HELPERS)[factory] == source:
            globals()[factory] = getattr(module, factory)
    return globals()[name]


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
    registry.entry(name)  # an unknown name: the closest ones
    return _load(name)(**kwargs)


def load_model(path, **kwargs):
    """`keras.saving.load_model` for a model saved from this package, e.g. the final network
    `make reproduce-mnist` keeps in runs/nielsen_mnist/row6-fast-seed0/model.keras: its own
    layers (ByteDropout, ...) and optimizers are registered first."""
    import keras

    for module in CUSTOM_OBJECTS:
        importlib.import_module(module)
    return keras.saving.load_model(path, **kwargs)


__all__ = ["MODELS", "SOURCES", "get_model", "list_models", "load_model", "reference", *SOURCES,
           *HELPERS]

