"""Convolution vs cross-correlation against scipy.signal and keras.layers.Conv2D."""

import keras
import numpy as np
import pytest
from scipy import signal

from keras_cnn_course.lecture.correlation import (MODES, convolve, correlate, identity_table,
                                                  rot180)

RNG = np.random.default_rng(0)
IMAGE = RNG.normal(size=(6, 7))
KERNELS = [RNG.normal(size=shape) for shape in [(3, 3), (2, 2), (2, 4), (1, 1), (6, 5)]]


@pytest.mark.parametrize("mode", MODES)
def test_against_scipy(mode):
    for kernel in KERNELS:
        np.testing.assert_allclose(correlate(IMAGE, kernel, mode),
                                   signal.correlate2d(IMAGE, kernel, mode), atol=1e-12)
        np.testing.assert_allclose(convolve(IMAGE, kernel, mode),
                                   signal.convolve2d(IMAGE, kernel, mode), atol=1e-12)
    np.testing.assert_allclose(convolve(IMAGE[0], KERNELS[2][0], mode),
                               np.convolve(IMAGE[0], KERNELS[2][0], mode), atol=1e-12)


def keras_conv2d(image, kernel, padding):
    layer = keras.layers.Conv2D(1, kernel.shape, padding=padding, use_bias=False)
    layer.build((None, *image.shape, 1))
    layer.set_weights([kernel[..., None, None]])
    return np.asarray(layer(image[None, ..., None].astype("float32")))[0, ..., 0]


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_keras_conv2d_is_cross_correlation(padding):
    for kernel in KERNELS[:4]:
        out = keras_conv2d(IMAGE, kernel, padding)
        np.testing.assert_allclose(out, correlate(IMAGE, kernel, padding), atol=1e-5)
        if kernel.size > 1:  # a true convolution is a different operation ...
            assert not np.allclose(out, convolve(IMAGE, kernel, padding), atol=1e-3)
    # ... that Conv2D computes once the kernel is flipped (odd kernels for "same")
    np.testing.assert_allclose(keras_conv2d(IMAGE, rot180(KERNELS[0]), padding),
                               convolve(IMAGE, KERNELS[0], padding), atol=1e-5)


def test_identity_table_says_where_the_identities_hold():
    odd, even = identity_table(IMAGE, KERNELS[0]), identity_table(IMAGE, KERNELS[2])
    for table in (odd, even):
        assert table.loc["full"].iloc[:3].max() < 1e-12  # all three identities, full mode
        assert table.loc["full", "A⋆B = B⋆A"] > 0.1  # correlation does not commute
        assert table.loc["valid", "A*B = A⋆rot180(B)"] < 1e-12
        assert table.loc[["valid", "same"], ["A⋆B = rot180(B)*A", "A*B = B*A"]].isna().all().all()
    assert odd.loc["same", "A*B = A⋆rot180(B)"] < 1e-12
    assert even.loc["same", "A*B = A⋆rot180(B)"] > 0.1  # even kernels: centres one pixel apart
    # the same verdicts from scipy's independent implementation
    for kernel, holds in ((KERNELS[0], True), (KERNELS[2], False)):
        assert np.allclose(signal.convolve2d(IMAGE, kernel, "same"),
                           signal.correlate2d(IMAGE, rot180(kernel), "same")) == holds
    np.testing.assert_allclose(signal.correlate2d(IMAGE, KERNELS[2], "full"),
                               signal.convolve2d(rot180(KERNELS[2]), IMAGE, "full"), atol=1e-12)


def test_correlation_swapped_is_rotated():
    a, b = IMAGE, KERNELS[2]
    np.testing.assert_allclose(correlate(b, a, "full"), rot180(correlate(a, b, "full")), atol=1e-12)
    np.testing.assert_allclose(signal.correlate2d(b, a, "full"),
                               rot180(signal.correlate2d(a, b, "full")), atol=1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="mode"):
        correlate(IMAGE, KERNELS[0], "circular")
    with pytest.raises(ValueError, match="fit inside"):
        convolve(KERNELS[0], IMAGE, "valid")
    with pytest.raises(ValueError, match="both"):
        correlate(IMAGE, KERNELS[0][0], "valid")
