"""What a convolution is, structurally: a sparse weight-tied matrix, and what follows from that.

- A 1-D convolution is a fully connected layer whose matrix Ω is mostly zero and whose nonzero
  entries repeat along the diagonals (lecture note 004, UDL fig. 10.4): `conv1d_matrix`.
- The transposed convolution is the same matrix transposed (lecture note 004: "the transpose of
  the matrix for the downsampling mechanism"): `transposed_conv1d_matrix`; equivalently zeros
  inserted between the inputs, then a convolution (lecture note 000): `transposed_conv1d`.
- Two convolutions with nothing in between are one convolution (lecture note 002):
  `compose_kernels`.
- A stride-s convolution equals the stride-1 convolution followed by subsampling
  (lecture note 001): `sampling.subsample`. With "valid" or explicit padding, keep indices
  0, s, 2s, ...; with Keras' padding="same" the strided convolution may pad less on top/left
  (an even input, 3×3 kernel, stride 2: no zeros there), and then the kept indices are 1, 3, ...
- A 1×1 convolution is the same dense layer applied at every position (lecture notes 002, 004):
  `pointwise_dense`.
- Dilation spreads the same weights over a larger area (lecture note 004): `dilate_kernel`.
- Convolution is translation equivariant, max pooling partially invariant (lecture notes 000,
  001, 004): `translate`, `equivariance_error`, `max_pool_invariance`.

Reference: lecture note 004 ("Convolutional Layers", "Upsampling", "Changing the number of
channels"), lecture note 001 ("Down-sampling VS Strided Convolution", "Max Pooling").
"""

import numpy as np
import pandas as pd

from keras_cnn_course.lecture.arithmetic import same_padding
from keras_cnn_course.lecture.correlation import convolve
from keras_cnn_course.lecture.sampling import max_pool


def _padding(length, kernel_size, stride, padding):
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return same_padding(length, kernel_size, stride)
    if isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0:
        return padding, padding
    raise ValueError(f"`padding` must be 'valid', 'same' or an integer >= 0; received {padding!r}.")


def conv1d_matrix(kernel, length, stride=1, padding=0):
    """The matrix Ω with Ω @ x = the 1-D convolution (cross-correlation, as Conv1D) of x.

    Row i holds the kernel starting at column i·stride - padding_before; entries that fall on
    the zero padding are dropped. The same kernel appears on every row (weight tying).
    """
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 1:
        raise ValueError(f"`kernel` must be 1-D; received shape {kernel.shape}.")
    before, after = _padding(length, kernel.size, stride, padding)
    rows = (length + before + after - kernel.size) // stride + 1
    if rows < 1:
        raise ValueError(f"a kernel of size {kernel.size} does not fit a length-{length} input "
                         f"with padding {padding!r}.")
    matrix = np.zeros((rows, length))
    for i in range(rows):
        for m, weight in enumerate(kernel):
            column = i * stride - before + m
            if 0 <= column < length:
                matrix[i, column] = weight
    return matrix


def transposed_conv1d_matrix(kernel, output_length, stride=1, padding=0):
    """Ω^T for the convolution that maps `output_length` inputs down: it maps each input to
    `kernel.size` outputs, overlapping contributions summed (Conv1DTranspose)."""
    return conv1d_matrix(kernel, output_length, stride, padding).T


def transposed_conv1d(x, kernel, stride=1, padding=0):
    """Lecture note 000's mechanism: insert stride - 1 zeros between the inputs, then convolve.

    The "standard convolution" must be a full, true convolution (Conv1D with the flipped kernel
    and K - 1 zeros of padding); `padding` outputs are then dropped at each end. Output length
    s(H - 1) + K - 2p, equal to transposed_conv1d_matrix(kernel, that length, stride, p) @ x.
    """
    x = np.asarray(x, dtype=float)
    spread = np.zeros((len(x) - 1) * stride + 1)
    spread[::stride] = x
    full = convolve(spread, np.asarray(kernel, dtype=float), mode="full")
    return full[padding:len(full) - padding]


def compose_kernels(first, second):
    """The one kernel equal to two stacked convolutions without a nonlinearity in between:
    (x ⋆ a) ⋆ b = x ⋆ (a * b), a full convolution of the kernels (3×3 then 3×3 gives 5×5).
    Lecture note 002: each convolution is linear, so nonlinearities must separate them."""
    return convolve(first, second, mode="full")


def pointwise_dense(x, weights, bias=None):
    """A 1×1 convolution: y[..., o] = Σ_c x[..., c] W[c, o] + b[o] at every position, i.e. one
    dense layer (weights of shape (C_in, C_out)) shared by all positions."""
    y = np.einsum("...c,co->...o", np.asarray(x, dtype=float), np.asarray(weights, dtype=float))
    return y if bias is None else y + bias


def dilate_kernel(kernel, rate):
    """Intersperse rate - 1 zeros between kernel entries (atrous convolution): the span grows to
    rate·(K - 1) + 1 while the number of weights stays K·K."""
    kernel = np.asarray(kernel, dtype=float)
    if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
        raise ValueError(f"`rate` must be a positive integer; received rate={rate!r}.")
    spans = [rate * (k - 1) + 1 for k in kernel.shape[:2]]
    out = np.zeros((*spans, *kernel.shape[2:]))
    out[::rate, ::rate] = kernel
    return out


def translate(x, shift):
    """Move an (H, W[, C]) map by (rows, cols), filling with zeros (no wrap-around)."""
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    (dy, dx), (height, width) = shift, x.shape[:2]
    out[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
        x[max(-dy, 0):height - max(dy, 0), max(-dx, 0):width - max(dx, 0)]
    return out


def equivariance_error(operation, x, shift, margin):
    """Max |f(t(x)) - t(f(x))| for a translation t, away from the borders (`margin` pixels),
    where zero padding and the pixels shifted out break the equality."""
    difference = np.abs(operation(translate(x, shift)) - translate(operation(x), shift))
    height, width = difference.shape[:2]
    return float(difference[margin:height - margin, margin:width - margin].max())


def max_pool_invariance(feature_map, shifts=range(5), factor=2):
    """How much of a map survives a horizontal shift, before and after max pooling.

    For each shift, the fraction of values left unchanged in place (borders excluded), for the
    map itself and for its factor × factor max pooling. Lecture note 004: "If the input is
    shifted by one pixel, many of these maximum values remain the same."
    """
    feature_map = np.asarray(feature_map, dtype=float)
    border = max(shifts) + factor
    pooled = max_pool(feature_map, factor)
    rows = []
    for dx in shifts:
        moved = translate(feature_map, (0, dx))
        same_map = moved[:, border:-border] == feature_map[:, border:-border]
        inner = slice(border // factor + 1, -(border // factor + 1))
        same_pool = max_pool(moved, factor)[:, inner] == pooled[:, inner]
        rows.append({"shift": dx, "unchanged_map": same_map.mean(),
                     "unchanged_pooled": same_pool.mean()})
    return pd.DataFrame(rows)
