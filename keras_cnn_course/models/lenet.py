"""LeNet-5: two conv / subsampling stages and three fully connected layers.

Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to
document recognition", Proc. IEEE 86(11), 1998.
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import global_pooling, output_dtype
from keras_cnn_course.models.vocabulary import factory, load_weights, model_input


@factory
def lenet5(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
           classes=10, classifier_activation="softmax", name="lenet5", *, activation="tanh"):
    """LeNet-5 on 32x32x1: C1 6@5x5 -> S2 -> C3 16@5x5 -> S4 -> 120 -> 84 -> 10: 61,706 parameters.

    The paper's C5 (120 maps of 5x5 over a 5x5 input) is a fully connected layer here (the same
    48,120 weights); on 28x28 MNIST without padding S4 is 4x4x16 and the net has 44,426 parameters.
    Subsampling is average pooling (the paper's trainable coefficients are left out), tanh
    activations; C3 connects to all S2 maps (the paper's partial connection table is left out).
    Reference: LeCun et al. 1998, fig. 2.
    """
    input_shape = _checks.input_shape(input_shape, ndim=3, default=(32, 32, 1),
                                      input_tensor=input_tensor)
    _checks.classifier(include_top=include_top, pooling=pooling, classes=classes)
    _checks.spatial_walk(input_shape, [("conv1", 5, 1, "valid"), ("pool1", 2, 2, "valid"),
                                       ("conv2", 5, 1, "valid"), ("pool2", 2, 2, "valid")])
    inputs, x = model_input(input_tensor, input_shape)
    x = layers.Conv2D(6, 5, activation=activation, name="conv1")(x)
    x = layers.AveragePooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 5, activation=activation, name="conv2")(x)
    x = layers.AveragePooling2D(2, name="pool2")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(120, activation=activation, name="fc1")(x)
        x = layers.Dense(84, activation=activation, name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, dtype=output_dtype(),
                         name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return load_weights(keras.Model(inputs, x, name=name), weights, "lenet5")
