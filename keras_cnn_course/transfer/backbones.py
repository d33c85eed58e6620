"""Pretrained feature extractors: the registry's networks with published ImageNet weights.

`backbone(name)` returns the network without its classifier and the `preprocess_input` its
weights expect, the two things the lecture's recipe needs ("train on ImageNet; for a small data
set freeze the pretrained layers and retrain the last one"). EfficientNet-Lite0's weights come
offline from the package registry; keras.applications fetches the others from the internet on
first use, bounded in time (`keras_cnn_course.models.applications`).
"""

import importlib

from keras_cnn_course.models import get_model, registry
from keras_cnn_course.models.applications import DOWNLOAD_TIMEOUT

BACKBONES = tuple(registry.list_models(weights="imagenet"))


def preprocess_function(name):
    """The `preprocess_input` that the ImageNet weights of `name` expect."""
    module, function = registry.entry(name).preprocess.split(":")
    return getattr(importlib.import_module(module), function)


def backbone(name="efficientnet_lite0", input_shape=None, *, weights="imagenet", pooling="avg",
             timeout=DOWNLOAD_TIMEOUT, cache_dir=None):
    """A pretrained network without its classifier, and the `preprocess_input` it expects.

    Args:
        name: one of `BACKBONES`.
        input_shape: (height, width, 3); default the network's ImageNet size.
        weights: "imagenet" or None (random initialisation: the "from scratch" baseline).
        pooling: "avg" (a feature vector), "max" or None (the last feature map).
        timeout: seconds allowed for a keras.applications weights download.
        cache_dir: cache of the converted EfficientNet-Lite0 weights.

    Returns:
        (model, preprocess_input): the model maps preprocessed RGB images to features;
        `preprocess_input` maps RGB pixels in [0, 255] to the model's input range.
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    options = {"cache_dir": cache_dir} if name == "efficientnet_lite0" else {"timeout": timeout}
    if input_shape is None and registry.entry(name).module == "applications":
        input_shape = registry.entry(name).input_shape  # the size its weights were trained at
    model = get_model(name, include_top=False, weights=weights, input_shape=input_shape,
                      pooling=pooling, **options)
    return model, preprocess_function(name)
