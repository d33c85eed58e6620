"""U-Net: a contracting path for context, an expanding path for localisation, joined by skips.

Reference: O. Ronneberger, P. Fischer, T. Brox, "U-Net: Convolutional Networks for Biomedical
Image Segmentation", MICCAI 2015, fig. 1.
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import output_dtype
from keras_cnn_course.models.vocabulary import factory, load_weights, model_input


def _double_conv(x, filters, padding, prefix):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding=padding, activation="relu",
                          name=f"{prefix}_conv{i}")(x)
    return x


def _check_size(input_shape, depth, padding):
    """Every 2x2 pooling must see an even size; the expanding path must keep a positive size."""
    shrink = 4 if padding == "valid" else 0  # two 3x3 convolutions per block
    hint = ("Valid sizes are 16*m + 60 with m >= 8: 188, 204, ..., 572."
            if padding == "valid" and depth == 4
            else f"Use a multiple of {2 ** depth}." if padding == "same" else "")
    for axis, size in enumerate(input_shape[:2]):
        if size is None:
            continue
        for block in range(1, depth + 1):
            size -= shrink
            if size < 2 or size % 2:
                problem = "too small to pool" if size < 2 else "odd: 2x2 pooling needs even sizes"
                raise ValueError(f"input_shape={tuple(input_shape)!r}: layer 'block{block}_pool' "
                                 f"receives size {max(size, 0)} on axis {axis}, {problem} "
                                 f"(paper, section 2). {hint}")
            size //= 2
        for level in range(depth + 1, 0, -1):
            size = size - shrink if level == depth + 1 else 2 * size - shrink
            if size < 1:
                layer = f"block{level}_conv2" if level == depth + 1 else f"up{level}_conv2"
                raise ValueError(f"input_shape={tuple(input_shape)!r} is too small: the 'valid' "
                                 f"convolutions leave nothing for layer '{layer}'. {hint}")


def _unet(network, *, padding, default_shape, include_top, weights, input_tensor, input_shape,
          classes, classifier_activation, name, filters, depth, dropout):
    input_shape = _checks.input_shape(input_shape, ndim=3, default=default_shape,
                                      input_tensor=input_tensor)
    _checks.positive_int("filters", filters)
    _checks.positive_int("depth", depth)
    _checks.classifier(include_top=include_top, pooling=None, classes=classes)
    dropout = _checks.rate("dropout", dropout)
    _check_size(input_shape, depth, padding)

    inputs, x = model_input(input_tensor, input_shape)
    skips = []
    for block in range(1, depth + 1):  # contracting path: channels double, size halves
        x = _double_conv(x, filters * 2 ** (block - 1), padding, f"block{block}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = _double_conv(x, filters * 2 ** depth, padding, f"block{depth + 1}")
    if dropout:  # "drop-out layers at the end of the contracting path"
        x = layers.Dropout(dropout, name=f"block{depth + 1}_dropout")(x)
    for level in range(depth, 0, -1):  # expanding path: 2x2 up-convolution halves the channels
        channels = filters * 2 ** (level - 1)
        x = layers.Conv2DTranspose(channels, 2, strides=2, name=f"up{level}_upconv")(x)
        skip = skips[level - 1]
        if padding == "valid":  # crop the encoder map to the decoder's size, centred
            crop = (skip.shape[1] - x.shape[1], skip.shape[2] - x.shape[2])
            skip = layers.Cropping2D(((crop[0] // 2, crop[0] - crop[0] // 2),
                                      (crop[1] // 2, crop[1] - crop[1] // 2)),
                                     name=f"up{level}_crop")(skip)
        x = layers.Concatenate(name=f"up{level}_concat")([skip, x])
        x = _double_conv(x, channels, padding, f"up{level}")
    if include_top:  # 1x1 convolution to the classes, pixel-wise softmax
        x = layers.Conv2D(classes, 1, activation=classifier_activation,
                          dtype=output_dtype(), name="predictions")(x)
    return load_weights(keras.Model(inputs, x, name=name), weights, network)


@factory
def unet(include_top=True, weights=None, input_tensor=None, input_shape=None, classes=2,
         classifier_activation="softmax", name="unet", *, filters=64, depth=4, dropout=0.5):
    """U-Net as in the paper: 'valid' 3x3 convolutions, crop-and-concatenate skips.

    572x572x1 -> 388x388x2, 64 ... 1024 channels, 31,030,658 parameters. Input sizes must keep
    every pooled map even: 16*m + 60 (m >= 8) for depth 4: 188, 204, ..., 572. `filters` is the
    first block's width, `depth` the number of poolings; dropout after the last contracting block.
    keras.applications' arguments without `pooling` (a segmentation net keeps its map): `classes`
    scores per pixel; include_top=False ends at the last 3x3 convolution.
    Reference: Ronneberger, Fischer & Brox 2015, fig. 1.
    """
    return _unet("unet", padding="valid", default_shape=(572, 572, 1), include_top=include_top,
                 weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                 classes=classes, classifier_activation=classifier_activation, name=name,
                 filters=filters, depth=depth, dropout=dropout)


@factory
def unet_same(include_top=True, weights=None, input_tensor=None, input_shape=None, classes=2,
              classifier_activation="softmax", name="unet_same", *, filters=64, depth=4,
              dropout=0.5):
    """U-Net with 'same' padding: output size = input size, no cropping; 31,030,658 parameters.

    The common variant (sizes a multiple of 2**depth); default input 256x256x1. Arguments as
    `unet`'s.
    Reference: Ronneberger, Fischer & Brox 2015, fig. 1, with zero-padded convolutions.
    """
    return _unet("unet_same", padding="same", default_shape=(256, 256, 1),
                 include_top=include_top, weights=weights, input_tensor=input_tensor,
                 input_shape=input_shape, classes=classes,
                 classifier_activation=classifier_activation, name=name, filters=filters,
                 depth=depth, dropout=dropout)
