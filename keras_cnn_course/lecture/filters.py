"""Classic hand-made filters: Sobel and Gabor (lecture note 001), and a real photo to apply them to.

Sobel. Lecture note 001 prints the two kernels as
    -1 0 1        -1 -2 -1
    -2 0 2         0  0  0
    -1 0 1        -1 -2 -1   <- misprint: the last row repeats the first.
The second kernel must end in +1 +2 +1 (it is the first one transposed). As printed it sums to
-8, so it responds to flat regions (-8 × the brightness) instead of to horizontal edges.
Kernels here are cross-correlation kernels (what Conv2D applies): SOBEL_X is positive where the
image gets brighter to the right, SOBEL_Y where it gets brighter downwards.

Gabor. Lecture note 001 (after Goodfellow et al. 2016) prints
    g = exp(-(x'² + γ² y²) / (2σ²)) · exp(i(2π x'/λ + φ)),
    x' = x cos θ + y sin θ,  y' = -x sin θ + y cos θ,
defining y' but using y in the envelope: a misprint for γ² y'². As printed, the envelope does
not turn with θ (for γ ≠ 1); `gabor_kernel(..., as_printed=True)` builds that version so the
difference can be seen. Coordinates: x to the right, y upwards, origin at the kernel centre.

Reference: lecture note 001 ("Sobel filters", "Gabor filters"); Goodfellow, Bengio & Courville,
Deep Learning, section 9.10.
"""

import math

import numpy as np

from keras_cnn_course.lecture.correlation import correlate

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
SOBEL_Y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float)
SOBEL_Y_AS_PRINTED = np.array([[-1, -2, -1], [0, 0, 0], [-1, -2, -1]], dtype=float)


def sobel(image, mode="same"):
    """Sobel responses of a 2-D image: d/dx, d/dy, the lecture's 0.5·d/dx + 0.5·d/dy, the
    gradient magnitude, and the misprinted kernel's response. `mode` as in `correlate`
    ("same": zero padding, same size; "valid": no padding, no border effects)."""
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"`image` must be a 2-D grey-level array; received shape {image.shape}.")
    dx, dy = correlate(image, SOBEL_X, mode), correlate(image, SOBEL_Y, mode)
    return {"d/dx": dx, "d/dy": dy, "0.5 d/dx + 0.5 d/dy": 0.5 * dx + 0.5 * dy,
            "magnitude": np.hypot(dx, dy),
            "as printed": correlate(image, SOBEL_Y_AS_PRINTED, mode)}


def gabor_kernel(wavelength, theta, phase=0.0, sigma=None, gamma=0.5, size=None,
                 as_printed=False):
    """The complex Gabor kernel of lecture note 001 on a size × size grid (size odd).

    wavelength λ in pixels, orientation θ in radians (the carrier varies along (cos θ, sin θ),
    so the stripes run perpendicular to it), phase φ, envelope width σ (default 0.56 λ, a
    one-octave bandwidth) and aspect ratio γ. Take `.real` for the even (φ = 0) filter.
    """
    if wavelength <= 0:
        raise ValueError(f"`wavelength` must be positive; received wavelength={wavelength!r}.")
    sigma = 0.56 * wavelength if sigma is None else sigma
    if sigma <= 0 or gamma <= 0:
        raise ValueError(f"`sigma` and `gamma` must be positive; received {sigma!r}, {gamma!r}.")
    if size is None:
        size = 2 * math.ceil(3 * sigma / min(gamma, 1.0)) + 1
    if size % 2 == 0:
        raise ValueError(f"`size` must be odd so the kernel has a centre; received size={size!r}.")
    half = size // 2
    y, x = np.mgrid[half:-half - 1:-1, -half:half + 1].astype(float)
    x_rot = x * np.cos(theta) + y * np.sin(theta)
    y_rot = -x * np.sin(theta) + y * np.cos(theta)
    envelope = np.exp(-(x_rot**2 + gamma**2 * (y if as_printed else y_rot) ** 2) / (2 * sigma**2))
    return envelope * np.exp(1j * (2 * np.pi * x_rot / wavelength + phase))


def gabor_bank(wavelength, orientations=4, **kwargs):
    """Real (even) Gabor kernels at `orientations` equally spaced angles in [0, π)."""
    return {theta: gabor_kernel(wavelength, theta, **kwargs).real
            for theta in np.arange(orientations) * np.pi / orientations}


def sample_image(factor=4):
    """A real grey-level photo shipped with matplotlib (Grace Hopper, 600×512), in [0, 1],
    shrunk by averaging factor × factor blocks."""
    import matplotlib.cbook
    import matplotlib.image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        rgb = matplotlib.image.imread(handle, format="jpg").astype(float) / 255.0
    grey = rgb[..., :3] @ np.array([0.299, 0.587, 0.114])
    height, width = (s - s % factor for s in grey.shape)
    blocks = grey[:height, :width].reshape(height // factor, factor, width // factor, factor)
    return blocks.mean(axis=(1, 3))
