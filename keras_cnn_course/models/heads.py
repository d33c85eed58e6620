"""The top of a network: the classic dense classifier, or the keras.applications `pooling` option."""

import keras
from keras import layers


def output_dtype():
    """The dtype of a `predictions` layer: float32 under a mixed policy (its variables' dtype).

    Keras' mixed precision guide keeps the softmax in float32: bfloat16 keeps 8 bits, so it rounds
    a probability of 0.99 to 0.9883 or 0.9922, and the loss's gradient (p - y) with it.
    """
    return keras.config.dtype_policy().variable_dtype


def global_pooling(x, pooling):
    """None: the last feature maps as they are; "avg" / "max": one vector per image."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def dense_classifier(x, fc_names, *, units=4096, dropout, classes, classifier_activation):
    """Flatten, one ReLU layer of `units` per name in `fc_names` (each followed by dropout when
    `dropout` is a rate), then the `predictions` layer: AlexNet's and VGG's top."""
    x = layers.Flatten(name="flatten")(x)
    for fc in fc_names:
        x = layers.Dense(units, activation="relu", name=fc)(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout_{fc}")(x)
    return layers.Dense(classes, activation=classifier_activation, dtype=output_dtype(),
                        name="predictions")(x)
