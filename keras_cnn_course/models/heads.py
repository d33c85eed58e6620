"""The keras.applications `pooling` option of a network without its top (classifier) layers."""

from keras import layers


def global_pooling(x, pooling):
    """None: the last feature maps as they are; "avg" / "max": one vector per image."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x
