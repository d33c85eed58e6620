"""Backpropagation through a convolution layer and a max-pooling layer, written out.

One channel, stride 1, "valid" forward pass z = x (conv) w + b, and δ = ∂L/∂z. Two conventions:

- "correlation" (default): z = x ⋆ w + b, what keras.layers.Conv2D computes. Then
      δ^{l-1} = δ^l * w  (full convolution)  =  δ^l ⋆ rot180(w)  (full correlation),
      ∂L/∂w   = x ⋆ δ^l  (valid cross-correlation of the layer input with δ),
      ∂L/∂b   = Σ δ^l.
- "convolution": z = x * w + b, the forward pass lecture note 000 writes,
  z_{i,j} = Σ_m Σ_n w_{m,n} z^{l-1}_{i-m,j-n} + b. Then
      δ^{l-1} = δ^l * rot180(w) (full)  -- the lecture's formula, correct for its forward pass,
      ∂L/∂w   = rot180(x ⋆ δ^l)          -- the lecture's element-wise formula
                Σ_i Σ_j δ_{i,j} z^{l-1}_{i-m,j-n} is right, but it is the cross-correlation
                of z^{l-1} with δ^l evaluated at (-m, -n), i.e. rotated by 180 degrees; the
                lecture's words "the cross-correlation of z^{l-1} with δ^l" describe the
                "correlation" convention instead.
So the lecture's two statements belong to different conventions: with Keras' Conv2D the
input gradient needs no rotation of w, and with the lecture's own forward pass the weight
gradient needs one. The tests check both conventions against tf.GradientTape.

Reference: lecture note 000 ("Mathematical Derivation of a Convolutional Layer", "Pooling
Layers").
"""

import numpy as np

from keras_cnn_course.lecture.correlation import convolve, correlate, rot180
from keras_cnn_course.lecture.sampling import max_pool_with_switches, max_unpool

CONVENTIONS = ("correlation", "convolution")


def _convention(convention):
    if convention not in CONVENTIONS:
        raise ValueError(f"`convention` must be one of {CONVENTIONS}; "
                         f"received convention={convention!r}.")
    return convention


def conv_forward(inputs, kernel, bias=0.0, convention="correlation"):
    """z = x ⋆ w + b ("correlation", Keras) or z = x * w + b ("convolution", lecture note 000)."""
    operation = correlate if _convention(convention) == "correlation" else convolve
    return operation(inputs, kernel, mode="valid") + bias


def input_gradient(delta, kernel, convention="correlation"):
    """δ^{l-1} = ∂L/∂x: a full convolution of δ^l with w ("correlation") or with rot180(w)
    ("convolution", the lecture's δ^{l-1} = δ^l * rot180(w^l))."""
    if _convention(convention) == "convolution":
        kernel = rot180(kernel)
    return convolve(delta, kernel, mode="full")


def kernel_gradient(inputs, delta, convention="correlation"):
    """∂L/∂w: the valid cross-correlation x ⋆ δ ("correlation"), rotated by 180 degrees for the
    lecture's convolution forward pass."""
    gradient = correlate(inputs, delta, mode="valid")
    return gradient if _convention(convention) == "correlation" else rot180(gradient)


def bias_gradient(delta):
    """∂L/∂b = Σ_i Σ_j δ_{i,j}: the bias is added at every position."""
    return float(np.sum(delta))


def max_pool_gradient(inputs, upstream, factor=2):
    """∂L/∂x of non-overlapping max pooling: each upstream gradient goes only to the input that
    was the maximum of its block; the others get zero. It is max unpooling of the gradient."""
    _, switches = max_pool_with_switches(inputs, factor)
    return max_unpool(upstream, switches, factor)
