"""EfficientNet-Lite0: the mobile EfficientNet without squeeze-excite or swish.

The body reads like the paper's table (`BLOCKS`): a 3x3 stem, seven stages of inverted-residual
MBConv blocks, and a 1x1 head to 1,280 channels. "Lite" replaces swish by ReLU6, drops the
squeeze-and-excitation modules, and keeps the stem and head fixed when the network is scaled.
Layer names follow `keras.applications.EfficientNetB0` (`stem_conv`, `block2a_dwconv`, `top_bn`,
`predictions`), so features can be taken and blocks unfrozen by name.
"""

import string

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import global_pooling, output_dtype
from keras_cnn_course.models.vocabulary import factory, load_weights, model_input

# (repeats, kernel, first stride, expand ratio, input filters, output filters) per stage.
BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_FILTERS = 32
HEAD_FILTERS = 1280
BN_EPSILON = 1e-3
DEFAULT_SIZE = 224
MIN_SIZE = 32


def block_specs():
    """Every MBConv block in order: (name, kernel, stride, expand, filters_in, filters_out)."""
    for stage, (repeats, kernel, stride, expand, filters_in, filters_out) in enumerate(BLOCKS, 1):
        for i in range(repeats):
            name = f"block{stage}{string.ascii_lowercase[i]}"
            yield (name, kernel, stride if i == 0 else 1, expand,
                   filters_in if i == 0 else filters_out, filters_out)


def _conv_bn(x, filters, kernel, stride, prefix, activation=True, depthwise=False):
    """Convolution (or depthwise convolution), BatchNorm, then ReLU6 unless linear."""
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False,
                                   name=f"{prefix}dwconv")(x)
    else:
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False,
                          name=f"{prefix}conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{prefix}bn")(x)
    return layers.ReLU(6.0, name=f"{prefix}activation")(x) if activation else x


def mbconv_block(inputs, name, kernel, stride, expand, filters_in, filters_out):
    """Inverted residual: 1x1 expand, depthwise kxk, linear 1x1 project, skip when shapes match."""
    x = inputs
    if expand != 1:
        x = _conv_bn(x, filters_in * expand, 1, 1, f"{name}_expand_")
    x = _conv_bn(x, None, kernel, stride, f"{name}_", depthwise=True)
    x = _conv_bn(x, filters_out, 1, 1, f"{name}_project_", activation=False)
    if stride == 1 and filters_in == filters_out:
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


def _check_arguments(include_top, weights, input_tensor, input_shape, pooling, classes,
                     classifier_activation, dropout_rate):
    _checks.classifier(include_top=include_top, pooling=pooling, classes=classes)
    _checks.rate("dropout_rate", dropout_rate)
    default = (DEFAULT_SIZE, DEFAULT_SIZE, 3) if include_top else (None, None, 3)
    shape = _checks.input_shape(input_shape, ndim=3, default=default, input_tensor=input_tensor)
    if shape[-1] != 3:
        raise ValueError(f"`input_shape` must be (height, width, 3) for RGB images; received "
                         f"input_shape={shape!r}.")
    _checks.pretrained_top(weights=weights, include_top=include_top, classes=classes,
                           classifier_activation=classifier_activation, shape=shape,
                           default=default)
    for size in shape[:2]:
        _checks.fits(size, MIN_SIZE, layer="stem_conv", input_shape=shape,
                     why="five stride-2 stages follow")
    return shape


@factory
def efficientnet_lite0(include_top=True, weights=None, input_tensor=None, input_shape=None,
                       pooling=None, classes=1000, classifier_activation="softmax",
                       name="efficientnet_lite0", *, dropout_rate=0.2, cache_dir=None):
    """EfficientNet-Lite0 (4.65 M parameters), optionally with its ImageNet weights.

    Reference: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
    Networks", ICML 2019 (arXiv:1905.11946); EfficientNet-Lite, TensorFlow TPU repository,
    models/official/efficientnet/lite/README.md (2020).

    Args:
        include_top: keep the global pooling, dropout and `classes`-way classifier.
        weights: None (random), "imagenet" (the published Lite0 checkpoint, converted once and
            cached, see `keras_cnn_course.transfer.weights`), or a `.weights.h5` path.
        input_tensor: a tensor to use as the input (instead of a new `input_layer`).
        input_shape: (height, width, 3); default (224, 224, 3) with the top, any size >= 32
            without it.
        pooling: without the top, None (feature map), "avg" or "max" (a vector of 1,280).
        classes: size of the classifier (1000 with ImageNet weights and the top).
        classifier_activation: activation of the classifier; None gives logits.
        name: model name.
        dropout_rate: dropout before the classifier (0.2 as published).
        cache_dir: where converted ImageNet weights are kept (default: the package cache).

    Inputs are RGB images preprocessed by `keras_cnn_course.transfer.preprocess_input`
    ((x - 127) / 128).
    """
    input_shape = _check_arguments(include_top, weights, input_tensor, input_shape, pooling,
                                   classes, classifier_activation, dropout_rate)
    fix = None
    if weights == "imagenet":  # fetched and checked before the model is built
        from keras_cnn_course.transfer.weights import imagenet_weights_path

        weights = imagenet_weights_path(cache_dir, build_model=random_network)
        fix = "delete it and run `kcc classify IMAGE` again to convert the weights afresh."
    inputs, x = model_input(input_tensor, input_shape)
    x = _conv_bn(x, STEM_FILTERS, 3, 2, "stem_")
    for spec in block_specs():
        x = mbconv_block(x, *spec)
    x = _conv_bn(x, HEAD_FILTERS, 1, 1, "top_")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, dtype=output_dtype(),
                         name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return load_weights(keras.Model(inputs, x, name=name), weights, "efficientnet_lite0", fix)


def random_network():
    """EfficientNet-Lite0 at its defaults, randomly initialised: what the published checkpoint
    is converted into."""
    return efficientnet_lite0(weights=None)
