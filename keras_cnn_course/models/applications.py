"""keras.applications networks, the transfer study's backbones, with their ImageNet weights.

Keras fetches those weights from the internet on first use and caches them in ~/.keras/models/.
Here a missing file is fetched only if its host answers within PROBE_TIMEOUT seconds, in a child
process killed after `timeout` seconds: an offline machine gets one line naming the file to fetch
and where to put it, instead of a hang.
"""

import contextlib
import socket
import subprocess
import sys
import threading
import urllib.parse
from unittest import mock

from keras_cnn_course.models import _checks, registry
from keras_cnn_course.models.vocabulary import factory, load_weights

DOWNLOAD_TIMEOUT = 120  # seconds for one weights file
PROBE_TIMEOUT = 5  # seconds for the weights' host to accept a connection


def reachable(url, timeout=PROBE_TIMEOUT):
    """Whether the host of `url` accepts a TCP connection within `timeout` s (name lookup
    included: the probe runs in a thread that is not waited for longer)."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    answered = []

    def probe():
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout).close()
            answered.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answered)


def bounded_urlretrieve(timeout):
    """A stand-in for `urllib.request.urlretrieve` that fails at once offline and gives up after
    `timeout` seconds online."""

    def urlretrieve(url, filename, reporthook=None):
        fix = (f"fetch {url} where the internet is reachable and save it as {filename} "
               "(Keras' cache), or use weights=None; efficientnet_lite0's ImageNet weights come "
               "from the package registry.")
        if not reachable(url):
            raise ConnectionError(f"weights='imagenet' needs a file that is not cached and whose "
                                  f"host does not answer: {fix}")
        command = [sys.executable, "-c",
                   "import sys, urllib.request; urllib.request.urlretrieve(*sys.argv[1:])",
                   url, str(filename)]
        try:
            subprocess.run(command, check=True, timeout=timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            raise ConnectionError(f"could not download {url} within {timeout} s: {fix}") from None
        except subprocess.CalledProcessError as error:
            reason = (error.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise ConnectionError(f"could not download {url} ({reason}): {fix}") from None
        return filename, None

    return urlretrieve


@contextlib.contextmanager
def bounded_downloads(timeout=DOWNLOAD_TIMEOUT):
    """Within this block, Keras' weight downloads are bounded (see the module docstring)."""
    from keras.src.utils import file_utils

    with mock.patch.object(file_utils, "urlretrieve", bounded_urlretrieve(timeout)):
        yield


def _application(function, network, *, include_top, weights, input_tensor, input_shape, pooling,
                 classes, classifier_activation, name, timeout):
    """keras.applications.<function> with this package's checks and bounded downloads; its
    input layer is named `input_layer`, as in every other network here."""
    import keras

    _checks.classifier(include_top=include_top, pooling=pooling, classes=classes)
    default = registry.entry(network).input_shape if include_top else (None, None, 3)
    input_shape = _checks.input_shape(input_shape, ndim=3, default=default,
                                      input_tensor=input_tensor)
    if input_tensor is None:
        input_tensor = keras.Input(shape=input_shape, name="input_layer")
    with bounded_downloads(timeout):
        model = getattr(keras.applications, function)(
            include_top=include_top, weights="imagenet" if weights == "imagenet" else None,
            input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
            classifier_activation=classifier_activation, name=name)
    return load_weights(model, None if weights == "imagenet" else weights, network)


@factory
def mobilenet_v2(include_top=True, weights=None, input_tensor=None, input_shape=None,
                 pooling=None, classes=1000, classifier_activation="softmax",
                 name="mobilenet_v2", *, timeout=DOWNLOAD_TIMEOUT):
    """MobileNetV2 (alpha 1.0): inverted residuals with linear bottlenecks, 3,538,984 parameters.

    `timeout`: seconds allowed for downloading the ImageNet weights.
    Reference: Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
    CVPR 2018; keras.applications.MobileNetV2.
    """
    return _application("MobileNetV2", "mobilenet_v2", include_top=include_top, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                        classes=classes, classifier_activation=classifier_activation, name=name,
                        timeout=timeout)


@factory
def efficientnet_b0(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax",
                    name="efficientnet_b0", *, timeout=DOWNLOAD_TIMEOUT):
    """EfficientNet-B0: MBConv blocks with squeeze-and-excitation and swish, 5,330,571 parameters.

    Takes pixels in [0, 255] (the rescaling is inside the model). `timeout`: seconds allowed for
    downloading the ImageNet weights.
    Reference: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
    Networks", ICML 2019; keras.applications.EfficientNetB0.
    """
    return _application("EfficientNetB0", "efficientnet_b0", include_top=include_top,
                        weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                        pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, name=name, timeout=timeout)


@factory
def resnet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="resnet50", *,
             timeout=DOWNLOAD_TIMEOUT):
    """ResNet-50: bottleneck residual blocks, 25,636,712 parameters.

    `timeout`: seconds allowed for downloading the ImageNet weights.
    Reference: He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016;
    keras.applications.ResNet50.
    """
    return _application("ResNet50", "resnet50", include_top=include_top, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                        classes=classes, classifier_activation=classifier_activation, name=name,
                        timeout=timeout)


@factory
def xception(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="xception", *,
             timeout=DOWNLOAD_TIMEOUT):
    """Xception: depthwise separable convolutions with residual links, 299x299x3, 22,910,480
    parameters.

    `timeout`: seconds allowed for downloading the ImageNet weights.
    Reference: Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions",
    CVPR 2017; keras.applications.Xception.
    """
    return _application("Xception", "xception", include_top=include_top, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                        classes=classes, classifier_activation=classifier_activation, name=name,
                        timeout=timeout)
