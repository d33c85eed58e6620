"""Sobel and Gabor filters (lecture note 001) against scipy.ndimage and the Fourier transform."""

import numpy as np
import pytest
from scipy import ndimage

from keras_cnn_course.lecture import filters


def test_sobel_matches_scipy_and_fixes_the_misprint():
    image = filters.sample_image(factor=8)
    responses = filters.sobel(image)
    np.testing.assert_allclose(responses["d/dx"], ndimage.sobel(image, axis=1, mode="constant"),
                               atol=1e-12)
    np.testing.assert_allclose(responses["d/dy"], ndimage.sobel(image, axis=0, mode="constant"),
                               atol=1e-12)
    np.testing.assert_array_equal(filters.SOBEL_Y, filters.SOBEL_X.T)
    # as printed, the second kernel answers a flat image with -8 times its brightness
    flat = np.full((5, 5), 0.5)
    assert np.all(filters.sobel(flat, "valid")["d/dy"] == 0)
    np.testing.assert_allclose(filters.sobel(flat, "valid")["as printed"], -4.0)
    ramp = np.tile(np.arange(5.0)[:, None], (1, 5))  # brighter downwards
    np.testing.assert_allclose(filters.sobel(ramp, "valid")["d/dy"], 8.0)
    np.testing.assert_allclose(filters.sobel(ramp, "valid")["d/dx"], 0.0)


@pytest.mark.parametrize("theta", [0.0, 0.4, np.pi / 2, 2.5])
def test_gabor_kernel_is_tuned_to_its_wavelength_and_orientation(theta):
    wavelength, size = 6.0, 61
    kernel = filters.gabor_kernel(wavelength, theta, size=size)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(kernel)))
    row, col = np.unravel_index(spectrum.argmax(), spectrum.shape)
    frequency = np.array([col - size // 2, -(row - size // 2)]) / size  # (fx, fy), y upwards
    np.testing.assert_allclose(frequency, np.array([np.cos(theta), np.sin(theta)]) / wavelength,
                               atol=1.0 / size)
    even = filters.gabor_kernel(wavelength, theta, size=size).real
    np.testing.assert_allclose(even, np.rot90(even, 2), atol=1e-12)  # φ = 0: even symmetric


def test_gabor_envelope_turns_with_theta_unlike_the_printed_formula():
    base, turned = (filters.gabor_kernel(5.0, t, gamma=0.5, size=31)
                    for t in (0.3, 0.3 + np.pi / 2))
    np.testing.assert_allclose(turned, np.rot90(base), atol=1e-12)
    printed = [filters.gabor_kernel(5.0, t, gamma=0.5, size=31, as_printed=True)
               for t in (0.3, 0.3 + np.pi / 2)]
    assert not np.allclose(printed[1], np.rot90(printed[0]), atol=1e-3)
    np.testing.assert_allclose(filters.gabor_kernel(5.0, 0.0, size=31, as_printed=True),
                               filters.gabor_kernel(5.0, 0.0, size=31))  # same at θ = 0


def test_gabor_responds_most_to_a_matching_grating():
    y, x = np.mgrid[0:64, 0:64]
    responses = {}
    for theta in (0.0, np.pi / 4, np.pi / 2):
        # rows point down, so y upwards is -row
        grating = np.cos(2 * np.pi * (x * np.cos(theta) - y * np.sin(theta)) / 6.0)
        kernel = filters.gabor_kernel(6.0, np.pi / 4)
        responses[theta] = np.abs(ndimage.correlate(grating, kernel.real)[20:44, 20:44]).mean()
    assert max(responses, key=responses.get) == np.pi / 4


def test_sample_image_is_a_real_grey_photo():
    image = filters.sample_image()
    assert image.shape == (150, 128) and 0 <= image.min() < 0.1 and image.max() > 0.9
    assert image.std() > 0.1


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="odd"):
        filters.gabor_kernel(4.0, 0.0, size=10)
    with pytest.raises(ValueError, match="wavelength"):
        filters.gabor_kernel(0.0, 0.0)
    with pytest.raises(ValueError, match="2-D"):
        filters.sobel(np.zeros((4, 4, 3)))
