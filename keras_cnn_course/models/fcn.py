"""A fully convolutional segmentation network: downsample (encoder), then upsample (decoder).

Reference: J. Long, E. Shelhamer, T. Darrell, "Fully Convolutional Networks for Semantic
Segmentation", CVPR 2015; H. Noh, S. Hong, B. Han, "Learning Deconvolution Network for Semantic
Segmentation", ICCV 2015 (max unpooling); lecture note 000, "Fully Convolutional Networks".
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import output_dtype
from keras_cnn_course.models.layers import BedOfNails2D, MaxPoolingWithArgmax2D, MaxUnpooling2D
from keras_cnn_course.models.vocabulary import factory, load_weights, model_input

# The lecture's upsampling methods: learnable (transposed convolution) and fixed ones.
UPSAMPLING = ("transpose", "nearest", "bilinear", "bed_of_nails", "max_unpooling")


@factory
def fcn(include_top=True, weights=None, input_tensor=None, input_shape=None, classes=21,
        classifier_activation="softmax", name="fcn", *, filters=(32, 64, 128),
        upsampling="transpose"):
    """Encoder of conv-conv-pool blocks, decoder doubling the size back: output size = input size.

    Every layer is a convolution, so the net takes any image whose sides are a multiple of
    2**len(filters) (or None for variable size) and returns a class score per pixel.
    `upsampling`: "transpose" (learnable 3x3 transposed convolution, stride 2), or a fixed
    "nearest", "bilinear", "bed_of_nails", "max_unpooling" (with the encoder's switches) followed
    by a 3x3 convolution. Default: 224x224x3, 21 classes (PASCAL VOC). keras.applications'
    arguments without `pooling` (a segmentation net keeps its map): `classes` scores per pixel;
    include_top=False ends at the decoder's last layer.
    Reference: Long, Shelhamer & Darrell 2015; Noh, Hong & Han 2015; lecture note 000.
    """
    input_shape = _checks.input_shape(input_shape, ndim=3, default=(224, 224, 3),
                                      input_tensor=input_tensor)
    filters = _checks.positive_ints("filters", filters)
    _checks.classifier(include_top=include_top, pooling=None, classes=classes)
    if upsampling not in UPSAMPLING:
        raise ValueError(f"`upsampling` must be one of {UPSAMPLING}; "
                         f"received upsampling={upsampling!r}.")
    for axis, size in enumerate(input_shape[:2]):
        if size is not None and size % 2 ** len(filters):
            raise ValueError(
                f"input_shape={tuple(input_shape)!r}: size {size} on axis {axis} is not a multiple "
                f"of {2 ** len(filters)}, so a pooling layer (block1_pool ... "
                f"block{len(filters)}_pool) would drop a row or column and the output would not "
                "match the input. Pad or resize the image.")

    inputs, x = model_input(input_tensor, input_shape)
    switches = []
    for block, width in enumerate(filters, start=1):
        for i in (1, 2):
            x = layers.Conv2D(width, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{i}")(x)
        if upsampling == "max_unpooling":
            x, switch = MaxPoolingWithArgmax2D(2, name=f"block{block}_pool")(x)
            switches.append(switch)
        else:
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    for block in range(len(filters), 0, -1):  # mirror of the encoder
        width, prefix = filters[max(block - 2, 0)], f"up{block}"
        if upsampling == "transpose":
            x = layers.Conv2DTranspose(width, 3, strides=2, padding="same", activation="relu",
                                       name=f"{prefix}_upconv")(x)
            continue
        if upsampling in ("nearest", "bilinear"):
            x = layers.UpSampling2D(2, interpolation=upsampling, name=f"{prefix}_upsample")(x)
        elif upsampling == "bed_of_nails":
            x = BedOfNails2D(2, name=f"{prefix}_upsample")(x)
        else:  # the values go back where block{block}_pool found their maxima
            x = MaxUnpooling2D(2, name=f"{prefix}_unpool")([x, switches[block - 1]])
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{prefix}_conv")(x)
    if include_top:  # 1x1 convolution: class scores per pixel
        x = layers.Conv2D(classes, 1, activation=classifier_activation,
                          dtype=output_dtype(), name="predictions")(x)
    return load_weights(keras.Model(inputs, x, name=name), weights, "fcn")
