"""Convolution vs cross-correlation, and the identities that link them.

Lecture note 000 defines
    convolution        (I * K)(i, j) = sum_m sum_n K(m, n) I(i - m, j - n)
    cross-correlation  (I ⋆ K)(i, j) = sum_m sum_n K(m, n) I(i + m, j + n)
and states I * K = I ⋆ rot180(K), A ⋆ B = rot180(B) * A and that convolution commutes while
correlation does not. Deep-learning "convolution" layers (keras.layers.Conv2D, lecture note 004's
z_i = w1 x_{i-1} + w2 x_i + w3 x_{i+1}) compute the cross-correlation.

Finite arrays need a mode, as in scipy.signal: "full" (every overlap, size N + K - 1), "valid"
(kernel inside the image, N - K + 1) and "same" (size N, cropped from "full" as scipy and
Keras' padding="same" do). `identity_table` shows in which modes each identity holds.

Reference: lecture note 000 ("The Convolution Operation in CNNs", "Convolution and
Cross-Correlation Identities"); Goodfellow, Bengio & Courville, Deep Learning, section 9.1.
"""

import numpy as np
import pandas as pd

MODES = ("full", "valid", "same")


def rot180(kernel):
    """The kernel rotated by 180 degrees: K(-m, -n), i.e. flipped along every axis."""
    return np.flip(np.asarray(kernel), axis=tuple(range(np.ndim(kernel))))


def _check(image, kernel, mode):
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}; received mode={mode!r}.")
    if image.ndim != kernel.ndim or image.ndim not in (1, 2):
        raise ValueError(f"image and kernel must both be 1-D or both 2-D; received shapes "
                         f"{image.shape} and {kernel.shape}.")
    if mode == "valid" and any(k > n for n, k in zip(image.shape, kernel.shape)):
        raise ValueError(f"mode='valid' needs the kernel {kernel.shape} to fit inside the image "
                         f"{image.shape}; use mode='full' or 'same'.")
    return image, kernel


def _crop(full, image_shape, kernel_shape, mode, same_offset):
    if mode == "full":
        return full
    if mode == "valid":
        starts = [k - 1 for k in kernel_shape]
        sizes = [n - k + 1 for n, k in zip(image_shape, kernel_shape)]
    else:
        starts = [same_offset(k) for k in kernel_shape]
        sizes = image_shape
    return full[tuple(slice(s, s + n) for s, n in zip(starts, sizes))]


def correlate(image, kernel, mode="valid"):
    """Cross-correlation: slide the kernel over the image and take dot products (what Conv2D does).

    Computed from its definition: output (i, j) gathers K(m, n) · I(i + m, j + n) from the
    zero-padded image, one kernel entry at a time. "same" output i is centred on input i, with
    the kernel's centre at index K // 2 (as scipy.signal.correlate2d and Keras' "same").
    """
    image, kernel = _check(image, kernel, mode)
    padded = np.pad(image, [(k - 1, k - 1) for k in kernel.shape])
    full_shape = [n + k - 1 for n, k in zip(image.shape, kernel.shape)]
    full = np.zeros(full_shape)
    for index in np.ndindex(kernel.shape):
        full += kernel[index] * padded[tuple(slice(m, m + n) for m, n in zip(index, full_shape))]
    return _crop(full, image.shape, kernel.shape, mode, lambda k: k // 2)


def convolve(image, kernel, mode="valid"):
    """True convolution, from its definition: every kernel entry K(m, n) adds K(m, n) · I shifted
    by (m, n) to the output ("spread over the output", lecture note 000).

    "same" follows scipy.signal.convolve2d: the kernel's centre is at index (K - 1) // 2.
    """
    image, kernel = _check(image, kernel, mode)
    full = np.zeros([n + k - 1 for n, k in zip(image.shape, kernel.shape)])
    for index in np.ndindex(kernel.shape):
        full[tuple(slice(m, m + n) for m, n in zip(index, image.shape))] += kernel[index] * image
    return _crop(full, image.shape, kernel.shape, mode, lambda k: (k - 1) // 2)


def _difference(left, right):
    if left.shape != right.shape or left.size == 0:
        return np.nan
    return float(np.max(np.abs(left - right)))


def identity_table(a, b):
    """Max |left - right| of each identity of lecture note 000 in every mode (NaN: shapes differ).

    What it shows (and the tests check against scipy.signal):
    - I * K = I ⋆ rot180(K) holds in "full" and "valid" mode, and in "same" mode for odd kernel
      sizes only: for an even size the two operations centre the kernel one pixel apart.
    - A ⋆ B = rot180(B) * A holds in "full" mode. In "valid"/"same" mode the output is sized by
      the first argument (A on the left, rot180(B) on the right), so it holds there only when A
      and B have the same shape (and, for "same", odd sizes).
    - Convolution commutes (A * B = B * A) in "full" mode; correlation does not: in "full" mode
      B ⋆ A = rot180(A ⋆ B). (With equal shapes, "valid" mode is a single dot product, which
      commutes for both.)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rows = []
    for mode in MODES:
        def result(operation, x, y):
            try:
                return operation(x, y, mode)
            except ValueError:  # a "valid" kernel larger than its image
                return np.empty((0,))
        rows.append({
            "mode": mode,
            "A*B = A⋆rot180(B)": _difference(result(convolve, a, b),
                                              result(correlate, a, rot180(b))),
            "A⋆B = rot180(B)*A": _difference(result(correlate, a, b),
                                              result(convolve, rot180(b), a)),
            "A*B = B*A": _difference(result(convolve, a, b), result(convolve, b, a)),
            "A⋆B = B⋆A": _difference(result(correlate, a, b), result(correlate, b, a)),
        })
    return pd.DataFrame(rows).set_index("mode")
