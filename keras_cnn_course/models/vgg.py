"""VGG: stacks of 3x3 convolutions with max pooling, then three fully connected layers.

Reference: K. Simonyan & A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015, table 1. Layer names as keras.applications.VGG16/VGG19.
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import dense_classifier, global_pooling

# Table 1 of the paper: (number of 3x3 convolutions, channels) per block; each block ends in a
# 2x2 max pool. Configurations A, B, D, E.
VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
VGG13 = ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512))
VGG16 = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
VGG19 = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))


def vgg(arch, *, input_shape=None, num_classes=1000, include_top=True, pooling=None,
        classifier_activation="softmax", dropout=0.0, name="vgg"):
    """A VGG network from an `arch` tuple of (convolutions, channels) per block.

    `dropout` (0.5 in the paper) goes after fc1 and fc2; the default 0 matches keras.applications.
    Reference: Simonyan & Zisserman 2015, table 1.
    """
    input_shape = _checks.input_shape(input_shape, ndim=3, default=(224, 224, 3))
    _checks.classifier(include_top=include_top, pooling=pooling, num_classes=num_classes)
    dropout = _checks.rate("dropout", dropout)
    for convs, channels in arch:
        _checks.positive_int("arch convolutions", convs)
        _checks.positive_int("arch channels", channels)
    _checks.spatial_walk(input_shape, [(f"block{b}_pool", 2, 2, "valid")
                                       for b in range(1, len(arch) + 1)])

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x = inputs
    for block, (convs, channels) in enumerate(arch, start=1):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(channels, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if include_top:
        x = dense_classifier(x, ("fc1", "fc2"), dropout=dropout, num_classes=num_classes,
                             classifier_activation=classifier_activation)
    else:
        x = global_pooling(x, pooling)
    return keras.Model(inputs, x, name=name)


def vgg11(*, name="vgg11", **options):
    """VGG-11, configuration A (8 conv + 3 FC layers): 132,863,336 parameters.

    Reference: Simonyan & Zisserman 2015, table 1, column A.
    """
    return vgg(VGG11, name=name, **options)


def vgg13(*, name="vgg13", **options):
    """VGG-13, configuration B: 133,047,848 parameters.

    Reference: Simonyan & Zisserman 2015, table 1, column B.
    """
    return vgg(VGG13, name=name, **options)


def vgg16(*, name="vgg16", **options):
    """VGG-16, configuration D: 138,357,544 parameters (14,714,688 without the top).

    Reference: Simonyan & Zisserman 2015, table 1, column D; keras.applications.VGG16.
    """
    return vgg(VGG16, name=name, **options)


def vgg19(*, name="vgg19", **options):
    """VGG-19, configuration E: 143,667,240 parameters.

    Reference: Simonyan & Zisserman 2015, table 1, column E; keras.applications.VGG19.
    """
    return vgg(VGG19, name=name, **options)
