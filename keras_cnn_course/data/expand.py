"""Nielsen's expanded training set: every image plus four copies shifted by one pixel.

Exactly as his `src/expand_mnist.py`: np.roll by one pixel down, up, right and left, with the
row or column that wrapped around set to zero; 5 × 50,000 = 250,000 images, shuffled once.

Reference: Nielsen, Neural Networks and Deep Learning, ch. 6; src/expand_mnist.py.
"""

import numpy as np

# (shift, axis, zeroed index) in expand_mnist.py's order: down, up, right, left.
SHIFTS = ((1, 0, 0), (-1, 0, 27), (1, 1, 0), (-1, 1, 27))


def shift_image(images, shift, axis, zeroed):
    """Roll a batch of (N, 28, 28) images by `shift` along image `axis`; zero the wrapped line."""
    shifted = np.roll(images, shift, axis=axis + 1)
    if axis == 0:
        shifted[:, zeroed, :] = 0
    else:
        shifted[:, :, zeroed] = 0
    return shifted


def expand_mnist(x, y, seed=0):
    """Return (x, y) with each image followed by its four shifts, then shuffled once with `seed`."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 3 or len(x) != len(y):
        raise ValueError(f"x must be (N, H, W) images matching y's length; got {x.shape} and {y.shape}")
    copies = [x] + [shift_image(x, *shift) for shift in SHIFTS]
    # Interleave: image i is followed by its four shifts, as expand_mnist.py appends them.
    expanded_x = np.stack(copies, axis=1).reshape(-1, *x.shape[1:])
    expanded_y = np.repeat(y, len(copies))
    order = np.random.default_rng(seed).permutation(len(expanded_y))
    return expanded_x[order], expanded_y[order]
