"""VGG: stacks of 3x3 convolutions with max pooling, then three fully connected layers.

Reference: K. Simonyan & A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015, table 1. Layer names as keras.applications.VGG16/VGG19.
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import dense_classifier, global_pooling
from keras_cnn_course.models.vocabulary import check_weights, factory, load_weights, model_input

# Table 1 of the paper: (number of 3x3 convolutions, channels) per block; each block ends in a
# 2x2 max pool. Configurations A, B, D, E.
VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
VGG13 = ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512))
VGG16 = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
VGG19 = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))
DEFAULT_SHAPE = (224, 224, 3)
# keras.applications functions whose ImageNet weights fit these layers one to one.
KERAS_APPLICATIONS = {"vgg16": "VGG16", "vgg19": "VGG19"}


def vgg(arch, include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
        classes=1000, classifier_activation="softmax", name="vgg", *, dropout=0.0,
        network="vgg", timeout=None):
    """A VGG network from an `arch` tuple of (convolutions, channels) per block.

    `dropout` (0.5 in the paper) goes after fc1 and fc2; the default 0 matches keras.applications.
    `network` is the registered name whose `weights` are loaded; weights="imagenet" copies
    keras.applications' (vgg16, vgg19), whose download is bounded by `timeout` seconds.
    Reference: Simonyan & Zisserman 2015, table 1.
    """
    input_shape = _checks.input_shape(input_shape, ndim=3, default=DEFAULT_SHAPE,
                                      input_tensor=input_tensor)
    _checks.classifier(include_top=include_top, pooling=pooling, classes=classes)
    _checks.pretrained_top(weights=weights, include_top=include_top, classes=classes,
                           classifier_activation=classifier_activation, shape=input_shape,
                           default=DEFAULT_SHAPE)
    dropout = _checks.rate("dropout", dropout)
    check_weights(network, weights)
    for convs, channels in arch:
        _checks.positive_int("arch convolutions", convs)
        _checks.positive_int("arch channels", channels)
    _checks.spatial_walk(input_shape, [(f"block{b}_pool", 2, 2, "valid")
                                       for b in range(1, len(arch) + 1)])

    inputs, x = model_input(input_tensor, input_shape)
    for block, (convs, channels) in enumerate(arch, start=1):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(channels, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if include_top:
        x = dense_classifier(x, ("fc1", "fc2"), dropout=dropout, classes=classes,
                             classifier_activation=classifier_activation)
    else:
        x = global_pooling(x, pooling)
    model = keras.Model(inputs, x, name=name)
    if weights == "imagenet":
        model.set_weights(imagenet_weights(network, include_top, input_shape, timeout))
        return model
    return load_weights(model, weights, network)


def imagenet_weights(network, include_top, input_shape, timeout=None):
    """The ImageNet weights of keras.applications' VGG16 / VGG19 (same layers, same order), from
    Keras' cache (~/.keras/models/) or downloaded there, bounded in time."""
    from keras_cnn_course.models.applications import DOWNLOAD_TIMEOUT, bounded_downloads

    function = getattr(keras.applications, KERAS_APPLICATIONS[network])
    with bounded_downloads(timeout or DOWNLOAD_TIMEOUT):
        oracle = function(include_top=include_top, weights="imagenet", input_shape=input_shape)
    values = oracle.get_weights()
    del oracle
    return values


@factory
def vgg11(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg11", *, dropout=0.0):
    """VGG-11, configuration A (8 conv + 3 FC layers): 132,863,336 parameters.

    Reference: Simonyan & Zisserman 2015, table 1, column A.
    """
    return vgg(VGG11, include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, dropout=dropout, network="vgg11")


@factory
def vgg13(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg13", *, dropout=0.0):
    """VGG-13, configuration B: 133,047,848 parameters.

    Reference: Simonyan & Zisserman 2015, table 1, column B.
    """
    return vgg(VGG13, include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, dropout=dropout, network="vgg13")


@factory
def vgg16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg16", *, dropout=0.0,
          timeout=None):
    """VGG-16, configuration D: 138,357,544 parameters (14,714,688 without the top).

    weights="imagenet" loads keras.applications.VGG16's (inputs: its `preprocess_input`).
    Reference: Simonyan & Zisserman 2015, table 1, column D; keras.applications.VGG16.
    """
    return vgg(VGG16, include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, dropout=dropout, network="vgg16", timeout=timeout)


@factory
def vgg19(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg19", *, dropout=0.0,
          timeout=None):
    """VGG-19, configuration E: 143,667,240 parameters.

    weights="imagenet" loads keras.applications.VGG19's (inputs: its `preprocess_input`).
    Reference: Simonyan & Zisserman 2015, table 1, column E; keras.applications.VGG19.
    """
    return vgg(VGG19, include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, dropout=dropout, network="vgg19", timeout=timeout)
