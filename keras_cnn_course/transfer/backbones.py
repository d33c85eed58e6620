"""Pretrained feature extractors: EfficientNet-Lite0 (offline) and keras.applications networks.

`backbone(name)` returns the network without its classifier and the `preprocess_input` it
expects, the two things the lecture's recipe needs ("train on ImageNet; for a small data set
freeze the pretrained layers and retrain the last one"). keras.applications fetches its weights
from the internet on first use; here that download runs in a child process killed after
`timeout` seconds, so an offline machine gets a clear error instead of a hang.
"""

import subprocess
import sys
from unittest import mock

DOWNLOAD_TIMEOUT = 120  # seconds for one weights file
# name -> (keras.applications function, its module, default input size)
KERAS_APPLICATIONS = {
    "mobilenet_v2": ("MobileNetV2", "mobilenet_v2", 224),
    "efficientnet_b0": ("EfficientNetB0", "efficientnet", 224),
    "resnet50": ("ResNet50", "resnet50", 224),
    "xception": ("Xception", "xception", 299),
}
BACKBONES = ("efficientnet_lite0", *KERAS_APPLICATIONS)


def bounded_urlretrieve(timeout):
    """A stand-in for `urllib.request.urlretrieve` that gives up after `timeout` seconds."""

    def urlretrieve(url, filename, reporthook=None):
        fix = ("Without internet, use backbone('efficientnet_lite0') (its weights come from the "
               f"package registry), or fetch that URL elsewhere and save it as {filename}.")
        command = [sys.executable, "-c",
                   "import sys, urllib.request; urllib.request.urlretrieve(*sys.argv[1:])",
                   url, str(filename)]
        try:
            subprocess.run(command, check=True, timeout=timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            raise ConnectionError(f"could not download {url} within {timeout} s. {fix}") from None
        except subprocess.CalledProcessError as error:
            reason = (error.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise ConnectionError(f"could not download {url} ({reason}). {fix}") from None
        return filename, None

    return urlretrieve


def keras_application(name, timeout=DOWNLOAD_TIMEOUT, **kwargs):
    """Build a keras.applications model; a weights download, if needed, is bounded in time."""
    import keras
    from keras.src.utils import file_utils

    function = getattr(keras.applications, KERAS_APPLICATIONS[name][0])
    with mock.patch.object(file_utils, "urlretrieve", bounded_urlretrieve(timeout)):
        return function(**kwargs)


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
    if name == "efficientnet_lite0":
        from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0
        from keras_cnn_course.transfer.imagenet import preprocess_input

        model = efficientnet_lite0(include_top=False, weights=weights, input_shape=input_shape,
                                   pooling=pooling, cache_dir=cache_dir)
        return model, preprocess_input
    import keras

    _function, module, size = KERAS_APPLICATIONS[name]
    model = keras_application(name, timeout, include_top=False, weights=weights,
                              input_shape=input_shape or (size, size, 3), pooling=pooling)
    return model, getattr(keras.applications, module).preprocess_input
