"""Elastic distortion of handwritten digits (Simard, Steinkraus & Platt, 2003).

Each image gets its own random displacement field: uniform noise in [-1, 1] per pixel and axis,
smoothed by a Gaussian of width `sigma`, scaled by `alpha` (pixels), then the image is resampled
bilinearly at the displaced positions. Simard et al. used alpha = 34, sigma = 4 on 28×28 digits
and report 99.6% on MNIST with a simple convolutional network.

Keras' own `RandomElasticTransform` draws one field per batch (and the same noise for both axes),
so it is not used here.
"""

import keras
import tensorflow as tf


def gaussian_kernel(sigma):
    radius = max(1, int(3 * sigma))
    offsets = tf.range(-radius, radius + 1, dtype=tf.float32)
    kernel = tf.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / tf.reduce_sum(kernel)


def smooth(fields, sigma):
    """Separable Gaussian blur of (B, H, W, 2) fields, zero outside."""
    kernel = gaussian_kernel(sigma)
    channels = fields.shape[-1]
    rows = tf.tile(kernel[:, None, None, None], [1, 1, channels, 1])
    columns = tf.tile(kernel[None, :, None, None], [1, 1, channels, 1])
    fields = tf.nn.depthwise_conv2d(fields, rows, [1, 1, 1, 1], "SAME")
    return tf.nn.depthwise_conv2d(fields, columns, [1, 1, 1, 1], "SAME")


def resample(images, rows, columns):
    """Bilinear sample of (B, H, W, C) images at float positions (B, H, W); zero outside."""
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])  # a zero border for outside points
    rows = tf.clip_by_value(rows + 1.0, 0.0, tf.cast(height, tf.float32) + 1.0)
    columns = tf.clip_by_value(columns + 1.0, 0.0, tf.cast(width, tf.float32) + 1.0)
    top, left = tf.floor(rows), tf.floor(columns)
    dr, dc = (rows - top)[..., None], (columns - left)[..., None]
    top, left = tf.cast(top, tf.int32), tf.cast(left, tf.int32)
    bottom = tf.minimum(top + 1, height + 1)
    right = tf.minimum(left + 1, width + 1)

    def at(r, c):
        return tf.gather_nd(padded, tf.stack([r, c], axis=-1), batch_dims=1)

    return ((1 - dr) * ((1 - dc) * at(top, left) + dc * at(top, right))
            + dr * ((1 - dc) * at(bottom, left) + dc * at(bottom, right)))


class RandomElasticDistortion(keras.layers.Layer):
    """Elastic distortion (alpha pixels, Gaussian sigma) of (B, H, W, C) images in training."""

    def __init__(self, alpha=34.0, sigma=4.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if alpha < 0 or sigma <= 0:
            raise ValueError(f"alpha must be >= 0 and sigma > 0; got alpha={alpha}, sigma={sigma}")
        self.alpha, self.sigma = float(alpha), float(sigma)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training or self.alpha == 0:
            return images
        images = tf.convert_to_tensor(images)
        shape = tf.shape(images)
        noise = keras.random.uniform((shape[0], shape[1], shape[2], 2), -1.0, 1.0,
                                     seed=self.seed_generator)
        fields = self.alpha * smooth(noise, self.sigma)
        grid_rows, grid_columns = tf.meshgrid(tf.range(shape[1]), tf.range(shape[2]), indexing="ij")
        rows = tf.cast(grid_rows, tf.float32)[None] + fields[..., 0]
        columns = tf.cast(grid_columns, tf.float32)[None] + fields[..., 1]
        return tf.cast(resample(tf.cast(images, tf.float32), rows, columns), images.dtype)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "sigma": self.sigma}
