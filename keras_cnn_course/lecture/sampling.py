"""Down- and up-sampling on a small grid, as in lecture note 004's 4×4 example.

Arrays are (H, W) or (H, W, C); every channel is treated on its own. Downsampling by a factor
of s needs H and W divisible by s. The Keras layers these mirror: MaxPooling2D,
AveragePooling2D, UpSampling2D("nearest" / "bilinear"), and the package's
keras_cnn_course.models.layers MaxPoolingWithArgmax2D, MaxUnpooling2D and BedOfNails2D.

Reference: lecture note 004 ("Downsampling", "Upsampling"; Prince, Understanding Deep Learning,
figs 10.11-10.12), lecture note 000 ("Upsampling methods"), lecture note 001 ("Unpooling
Layers: switch variables record the locations of maxima").
"""

import numpy as np

# Lecture note 004's figures use a 4×4 grid; the values there are colours, so these are ours
# (all distinct, so every 2×2 block has a single maximum).
EXAMPLE_4X4 = np.array([[1, 7, 4, 2],
                        [5, 3, 0, 6],
                        [9, 12, 15, 11],
                        [13, 8, 10, 14]], dtype=float)


def _blocks(x, factor):
    """View x as (H/s, s, W/s, s, ...) blocks."""
    x = np.asarray(x, dtype=float)
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"`factor` must be a positive integer; received factor={factor!r}.")
    if x.ndim not in (2, 3) or x.shape[0] % factor or x.shape[1] % factor:
        raise ValueError(f"expected an (H, W) or (H, W, C) array with H and W divisible by "
                         f"{factor}; received shape {x.shape}.")
    height, width = x.shape[:2]
    return x.reshape(height // factor, factor, width // factor, factor, *x.shape[2:])


def subsample(x, factor=2):
    """Keep every factor-th value: what a stride-s convolution does to its stride-1 output."""
    return _blocks(x, factor)[:, 0, :, 0]


def max_pool(x, factor=2):
    """Each output is the maximum of its factor × factor block."""
    return _blocks(x, factor).max(axis=(1, 3))


def mean_pool(x, factor=2):
    """Each output is the mean of its factor × factor block."""
    return _blocks(x, factor).mean(axis=(1, 3))


def max_pool_with_switches(x, factor=2):
    """Max pooling that also returns the switches: a boolean mask, True where each maximum was
    (the first one in row-major order when a block has ties)."""
    blocks = _blocks(x, factor)
    moved = np.moveaxis(blocks, 1, 2)  # (H/s, W/s, s, s, ...)
    flat = moved.reshape(*moved.shape[:2], factor * factor, *moved.shape[4:])
    winners = flat.argmax(axis=2)
    mask = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(mask, np.expand_dims(winners, 2), True, axis=2)
    mask = np.moveaxis(mask.reshape(moved.shape), 2, 1).reshape(np.shape(x))
    return flat.max(axis=2), mask


def max_unpool(pooled, switches, factor=2):
    """Put each pooled value back where its maximum came from; zeros elsewhere.

    This is also the gradient of max pooling: the upstream gradient goes to the arg-max only
    (lecture note 000), see keras_cnn_course.lecture.backprop.max_pool_gradient.
    """
    spread = nearest_upsample(pooled, factor)
    if spread.shape != np.shape(switches):
        raise ValueError(f"`switches` of shape {np.shape(switches)} do not match pooled values "
                         f"of shape {np.shape(pooled)} upsampled by {factor}.")
    return np.where(switches, spread, 0.0)


def nearest_upsample(x, factor=2):
    """Duplicate each value into a factor × factor block (lecture note 004, fig. a)."""
    x = np.asarray(x, dtype=float)
    return np.repeat(np.repeat(x, factor, axis=0), factor, axis=1)


def bed_of_nails(x, factor=2):
    """Each value at the top-left of its factor × factor block, zeros elsewhere: a transposed
    convolution with stride `factor` whose kernel is 1 at the top-left and 0 elsewhere."""
    x = np.asarray(x, dtype=float)
    out = np.zeros((x.shape[0] * factor, x.shape[1] * factor, *x.shape[2:]))
    out[::factor, ::factor] = x
    return out


def _interpolation_weights(size, factor, align_corners):
    """(size·factor, size) matrix that linearly interpolates a length-`size` signal."""
    out = np.arange(size * factor)
    if align_corners:
        source = out * (size - 1) / max(size * factor - 1, 1)
    else:  # half-pixel centres, as keras.layers.UpSampling2D and tf.image.resize
        source = np.clip((out + 0.5) / factor - 0.5, 0, size - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, size - 1)
    weights = np.zeros((size * factor, size))
    np.add.at(weights, (out, low), 1 - (source - low))
    np.add.at(weights, (out, high), source - low)
    return weights


def bilinear_upsample(x, factor=2, align_corners=False):
    """Bilinear interpolation between the input values (lecture note 004, fig. c).

    The lecture's figure does not say where the input samples sit on the output grid. By
    default they sit at pixel centres (Keras UpSampling2D(interpolation="bilinear")); with
    align_corners=True the corner values are kept exactly instead.
    """
    x = np.asarray(x, dtype=float)
    rows = _interpolation_weights(x.shape[0], factor, align_corners)
    cols = _interpolation_weights(x.shape[1], factor, align_corners)
    return np.einsum("ih,jw,hw...->ij...", rows, cols, x)
