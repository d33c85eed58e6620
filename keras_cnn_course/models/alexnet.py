"""AlexNet: five convolutional and three fully connected layers, 227x227x3 -> 1000 classes.

Reference: A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NeurIPS 2012, fig. 2 and section 3.5.
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import dense_classifier, global_pooling
from keras_cnn_course.models.layers import LocalResponseNormalization
from keras_cnn_course.models.vocabulary import factory, load_weights, model_input

# Paper's table: (name, filters, kernel, stride, padding, LRN after it, max-pool 3/2 after it).
# `groups` = 2 on conv2, conv4, conv5 gives the paper's two-GPU connectivity: those layers see
# only the maps on their own GPU (conv3 and the FC layers see both).
ARCH = (
    ("conv1", 96, 11, 4, "valid", True, True),
    ("conv2", 256, 5, 1, "same", True, True),
    ("conv3", 384, 3, 1, "same", False, False),
    ("conv4", 384, 3, 1, "same", False, False),
    ("conv5", 256, 3, 1, "same", False, True),
)
GROUPED = ("conv2", "conv4", "conv5")


def _alexnet(network, *, groups, include_top, weights, input_tensor, input_shape, pooling, classes,
             classifier_activation, name, dropout, lrn):
    input_shape = _checks.input_shape(input_shape, ndim=3, default=(227, 227, 3),
                                      input_tensor=input_tensor)
    _checks.classifier(include_top=include_top, pooling=pooling, classes=classes)
    dropout = _checks.rate("dropout", dropout)
    steps = []
    for conv, _, kernel, stride, padding, _, pool in ARCH:
        steps.append((conv, kernel, stride, padding))
        if pool:
            steps.append((f"pool{conv[-1]}", 3, 2, "valid"))
    _checks.spatial_walk(input_shape, steps)

    inputs, x = model_input(input_tensor, input_shape)
    for conv, filters, kernel, stride, padding, norm, pool in ARCH:
        x = layers.Conv2D(filters, kernel, strides=stride, padding=padding, activation="relu",
                          groups=groups if conv in GROUPED else 1, name=conv)(x)
        if norm and lrn:
            x = LocalResponseNormalization(name=f"norm{conv[-1]}")(x)
        if pool:  # overlapping pooling: 3x3 windows, stride 2
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{conv[-1]}")(x)
    if include_top:
        x = dense_classifier(x, ("fc6", "fc7"), dropout=dropout, classes=classes,
                             classifier_activation=classifier_activation)
    else:
        x = global_pooling(x, pooling)
    return load_weights(keras.Model(inputs, x, name=name), weights, network)


@factory
def alexnet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=1000, classifier_activation="softmax", name="alexnet", *, dropout=0.5,
            lrn=True):
    """AlexNet as a single tower: 62,378,344 parameters; conv1 (96 of 11x11x3, stride 4) has 34,944.

    227x227x3 -> conv1 55x55x96 -> pool 27 -> conv2 27x27x256 -> pool 13 -> conv3-5 13x13 ->
    pool 6x6x256 -> FC 4096 -> FC 4096 -> 1000. Local response normalisation after conv1 and conv2
    (`lrn`), dropout on the outputs of FC6 and FC7 (`dropout`), as in the paper; neither has
    parameters.
    Reference: Krizhevsky et al. 2012, fig. 2 (the 224 of the figure is 227 in practice).
    """
    return _alexnet("alexnet", groups=1, include_top=include_top, weights=weights,
                    input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                    classes=classes, classifier_activation=classifier_activation, name=name,
                    dropout=dropout, lrn=lrn)


@factory
def alexnet_grouped(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax",
                    name="alexnet_grouped", *, dropout=0.5, lrn=True):
    """AlexNet with the paper's two-GPU split (conv2, conv4, conv5 in 2 groups): 60,965,224 params.

    Reference: Krizhevsky et al. 2012, section 3.2 and fig. 2.
    """
    return _alexnet("alexnet_grouped", groups=2, include_top=include_top, weights=weights,
                    input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                    classes=classes, classifier_activation=classifier_activation, name=name,
                    dropout=dropout, lrn=lrn)
