"""Batch, layer and instance normalisation of an (N, H, W, C) tensor, by the axes they average.

Lecture note 002: "Layer normalization computes statistics across the feature dimension,
while instance normalization computes statistics across the spatial dimensions. Batch
Normalization only averages across the batch dimension and spatial dimensions."

    batch     mean/variance over (N, H, W), one per channel      keras.layers.BatchNormalization
    layer     over (H, W, C), one per example                     LayerNormalization(axis=(1, 2, 3))
    instance  over (H, W), one per example and channel            GroupNormalization(groups=C)

"Feature dimension" for an image means all of (H, W, C), as in Ba et al. (2016); Keras'
LayerNormalization() with its default axis=-1 averages over C alone, at every position, which
is a different operation. Variances are the biased (divide-by-n) ones, as in Keras.

At test time batch normalisation uses running averages instead of the batch's statistics.
Lecture note 002 says running averages "of all means and standard deviations"; Keras keeps an
exponential moving average of the mean and of the variance (not of the standard deviation),
`moving = momentum · moving + (1 - momentum) · batch_statistic`, momentum 0.99.

Reference: lecture note 002 ("Batch Normalization", "Layer Normalization and Instance
Normalization"); Ioffe & Szegedy 2015; Ba, Kiros & Hinton 2016; Ulyanov et al. 2016.
"""

import numpy as np

AXES = {"batch": (0, 1, 2), "layer": (1, 2, 3), "instance": (1, 2)}


def normalize(x, kind, gamma=1.0, beta=0.0, epsilon=1e-3):
    """(x - mean) / sqrt(var + epsilon) · gamma + beta, statistics over `AXES[kind]`."""
    x = np.asarray(x, dtype=float)
    if kind not in AXES:
        raise ValueError(f"`kind` must be one of {tuple(AXES)}; received kind={kind!r}.")
    if x.ndim != 4:
        raise ValueError(f"expected an (N, H, W, C) tensor; received shape {x.shape}.")
    mean = x.mean(axis=AXES[kind], keepdims=True)
    variance = x.var(axis=AXES[kind], keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def batch_norm_inference(x, moving_mean, moving_variance, gamma=1.0, beta=0.0, epsilon=1e-3):
    """Batch normalisation at test time: the stored statistics, no dependence on the batch."""
    x = np.asarray(x, dtype=float)
    return (x - moving_mean) / np.sqrt(moving_variance + epsilon) * gamma + beta


def update_moving_statistics(moving_mean, moving_variance, x, momentum=0.99):
    """One training step's update of batch normalisation's running mean and variance."""
    x = np.asarray(x, dtype=float)
    mean, variance = x.mean(axis=AXES["batch"]), x.var(axis=AXES["batch"])
    return (momentum * moving_mean + (1 - momentum) * mean,
            momentum * moving_variance + (1 - momentum) * variance)
