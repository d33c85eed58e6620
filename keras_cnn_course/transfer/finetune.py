"""The lecture's transfer recipe in Keras terms: freeze the pretrained layers and train a new last
layer; with more data, fine-tune the top blocks too (lecture note 001).

Both cases leave the bottom of the network frozen, so its output can be computed once per image
and cached: `split_backbone` cuts a backbone into a frozen `bottom` and a `top` that shares the
backbone's own layers. BatchNorm layers of the top stay in inference mode (`trainable = False`
makes Keras use their moving statistics), the known pitfall when fine-tuning small data sets.
"""

import keras
import numpy as np

from keras_cnn_course.models.heads import output_dtype


def split_backbone(backbone, cut):
    """(bottom, top) around the layer named `cut`: bottom(images) -> cut output -> top -> features.

    The layers after `cut` must form a chain (no skip connection crosses the cut); for
    EfficientNet-Lite0, cut="block6d_add" leaves block7a and the 1x1 head conv on top, and
    cut="top_activation" leaves only the pooling.
    """
    names = [layer.name for layer in backbone.layers]
    if cut not in names:
        raise ValueError(f"`cut`={cut!r} is not a layer of {backbone.name}")
    bottom = keras.Model(backbone.input, backbone.get_layer(cut).output, name="bottom")
    inputs = keras.Input(backbone.get_layer(cut).output.shape[1:], name="cut_features")
    x = inputs
    for layer in backbone.layers[names.index(cut) + 1:]:
        if isinstance(layer, keras.layers.Add):
            raise ValueError(f"a skip connection ({layer.name}) crosses `cut`={cut!r}; cut at "
                             "the end of a block (a layer named *_add or *_project_bn)")
        x = layer(x)
    top = keras.Model(inputs, x, name="top")
    for layer in top.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # inference mode, moving statistics kept
    return bottom, top


def cached_features(model, images, path=None, batch_size=32):
    """`model.predict(images)`, read from / written to the .npz `path` when given."""
    if path is not None and path.exists():
        with np.load(path) as data:
            if data["count"] == len(images):
                return data["features"]
    features = model.predict(images, batch_size=batch_size, verbose=0)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp.npz")
        np.savez(temporary, features=features, count=len(images))
        temporary.replace(path)
    return features


def classifier(input_shape, num_classes, dropout_rate=0.2, name="head"):
    """The new last layer: (global average pooling), dropout, softmax over `num_classes`."""
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = keras.layers.GlobalAveragePooling2D()(inputs) if len(input_shape) == 3 else inputs
    x = keras.layers.Dropout(dropout_rate)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype=output_dtype(),
                                 name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def stack(top, head):
    """top then head as one trainable model (the fine-tuning case)."""
    return keras.Model(top.input, head(top.output), name="fine_tuned")
