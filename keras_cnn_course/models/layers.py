"""Layers the lecture uses that Keras lacks: max unpooling with switches, bed-of-nails upsampling,
and AlexNet's local response normalisation.

Reference: lecture note 000 (upsampling: nearest neighbour, "bed of nails", max unpooling) and
lecture note 001 ("switch variables: record the locations of maxima"); M. Zeiler & R. Fergus,
"Visualizing and Understanding Convolutional Networks", ECCV 2014; H. Noh, S. Hong, B. Han,
"Learning Deconvolution Network for Semantic Segmentation", ICCV 2015.
"""

import keras
import tensorflow as tf
from keras import ops


def _pair(name, value):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in pair):
        raise ValueError(f"`{name}` must be a positive int or a pair of them; "
                         f"received {name}={value!r}.")
    return pair


@keras.saving.register_keras_serializable(package="keras_cnn_course")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """Max pooling that also returns the switches: where in its window each maximum came from.

    Returns `(pooled, switches)`; `switches` holds, for every pooled value, the flat index of its
    maximum in the input tensor, batch included (tf.nn.max_pool_with_argmax). Feed both to
    `MaxUnpooling2D`. Ties go to the first maximum in row-major order.
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _pair("pool_size", pool_size)
        self.strides = _pair("strides", strides if strides is not None else self.pool_size)
        if padding not in ("valid", "same"):
            raise ValueError(f"`padding` must be 'valid' or 'same'; received padding={padding!r}.")
        self.padding = padding

    def call(self, inputs):
        pooled, switches = tf.nn.max_pool_with_argmax(
            inputs, ksize=self.pool_size, strides=self.strides, padding=self.padding.upper(),
            include_batch_in_index=True)
        return pooled, switches

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


@keras.saving.register_keras_serializable(package="keras_cnn_course")
class MaxUnpooling2D(keras.layers.Layer):
    """Approximate inverse of max pooling: values go back where its maximum was, zeros elsewhere.

    Call on `[values, switches]`, the switches coming from the `MaxPoolingWithArgmax2D` that pooled
    a tensor of this layer's output shape: `size` times the input's height and width (pad odd-sized
    maps before pooling).
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _pair("size", size)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2 or tuple(input_shape[0]) != tuple(input_shape[1]):
            raise ValueError("MaxUnpooling2D is called on [values, switches] of the same shape "
                             f"(from MaxPoolingWithArgmax2D); received shapes {input_shape}.")
        batch, height, width, channels = input_shape[0]
        scale = lambda n, s: None if n is None else n * s  # noqa: E731
        return batch, scale(height, self.size[0]), scale(width, self.size[1]), channels

    def call(self, inputs):
        values, switches = inputs
        shape = tf.shape(values, out_type=tf.int64)
        out_shape = tf.stack([shape[0], shape[1] * self.size[0], shape[2] * self.size[1], shape[3]])
        flat = tf.scatter_nd(tf.reshape(switches, (-1, 1)), tf.reshape(values, (-1,)),
                             tf.reshape(tf.reduce_prod(out_shape), (1,)))
        return tf.reshape(flat, out_shape)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@keras.saving.register_keras_serializable(package="keras_cnn_course")
class BedOfNails2D(keras.layers.Layer):
    """"Bed of nails" upsampling: each value at the top left of its block, zeros elsewhere."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _pair("size", size)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        scale = lambda n, s: None if n is None else n * s  # noqa: E731
        return batch, scale(height, self.size[0]), scale(width, self.size[1]), channels

    def call(self, inputs):
        rows, cols = self.size
        shape = ops.shape(inputs)
        x = inputs[:, :, None, :, None, :]  # (batch, H, 1, W, 1, C)
        x = ops.pad(x, [[0, 0], [0, 0], [0, rows - 1], [0, 0], [0, cols - 1], [0, 0]])
        return ops.reshape(x, (-1, shape[1] * rows, shape[2] * cols, shape[3]))

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@keras.saving.register_keras_serializable(package="keras_cnn_course")
class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's response normalisation across `depth` neighbouring channels (no parameters).

    b = a / (k + alpha * sum of a**2 over the window) ** beta, with the paper's k=2, n=5,
    alpha=1e-4, beta=0.75 (alpha is not divided by n, as in the paper; Caffe divides it).
    Reference: Krizhevsky, Sutskever & Hinton, NeurIPS 2012, section 3.3.
    """

    def __init__(self, depth=5, k=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth <= 0 or depth % 2 == 0:
            raise ValueError(f"`depth` must be a positive odd integer; received depth={depth!r}.")
        self.depth, self.k, self.alpha, self.beta = depth, k, alpha, beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        # TF's CPU kernel has no bfloat16: normalise in float32 under a mixed policy
        normalised = tf.nn.local_response_normalization(
            ops.cast(inputs, "float32"), depth_radius=self.depth // 2, bias=self.k,
            alpha=self.alpha, beta=self.beta)
        return ops.cast(normalised, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "k": self.k, "alpha": self.alpha,
                "beta": self.beta}
