"""Convolution arithmetic: output sizes and parameter counts.

Reference: lecture note 001 ("Parameters Settings", "Power of Small Filters"), lecture note 002
("Spatial Dimensions", "Padding", "Stride"), lecture note 003 (AlexNet conv1 vs a dense layer),
lecture note 000 (transposed convolution); V. Dumoulin & F. Visin, "A guide to convolution
arithmetic for deep learning", arXiv:1603.07285.
"""

import math


def _count(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; received {name}={value!r}.")
    return value


def effective_kernel_size(kernel_size, dilation=1):
    """A kernel of F weights dilated by d spans d(F - 1) + 1 inputs (lecture note 004)."""
    return _count("dilation", dilation) * (_count("kernel_size", kernel_size) - 1) + 1


def same_padding(size, kernel_size, stride=1, dilation=1):
    """The zeros Keras/TensorFlow add for padding="same": (before, after), the odd one after."""
    out = math.ceil(_count("size", size) / _count("stride", stride))
    total = max((out - 1) * stride + effective_kernel_size(kernel_size, dilation) - size, 0)
    return total // 2, total - total // 2


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Output width of a convolution: floor((W - F + 2P) / S) + 1 (lecture note 001).

    `padding` is P, zeros added on each side, or Keras' "valid" (P = 0) or "same" (output
    ceil(W / S), padded as `same_padding` says). A dilated kernel counts as its span
    F = d(F - 1) + 1. The lecture's formula assumes S divides W - F + 2P; when it does not, the
    last partial window is dropped (the floor), as Keras and PyTorch do.
    Lecture note 002 prints "W K + 1", "W K + 1 + 2P" and "P = (K 1) / 2": the minus signs were
    lost; read W - K + 1, W - K + 1 + 2P and P = (K - 1) / 2.
    """
    _count("size", size)
    _count("stride", stride)
    span = effective_kernel_size(kernel_size, dilation)
    if padding == "same":
        return math.ceil(size / stride)
    if padding == "valid":
        padding = 0
    if isinstance(padding, str):
        raise ValueError(f"`padding` must be 'valid', 'same' or an integer; received {padding!r}.")
    _count("padding", padding, minimum=0)
    if size + 2 * padding < span:
        raise ValueError(f"a kernel spanning {span} does not fit an input of size {size} with "
                         f"padding {padding}; pad more or use a smaller kernel.")
    return (size - span + 2 * padding) // stride + 1


def pool_output_size(size, pool_size=2, strides=None, padding="valid"):
    """Output width of max/average pooling; `strides` defaults to `pool_size`, as in Keras."""
    strides = pool_size if strides is None else strides
    return conv_output_size(size, pool_size, strides, padding)


def transposed_conv_output_size(size, kernel_size, stride=1, padding=0, output_padding=None,
                                dilation=1):
    """Output height of a transposed convolution: s(H - 1) + k - 2p + output_padding.

    Lecture note 000 gives s(H_in - 1) + k - 2p. The extra output_padding (< stride) picks one
    of the `stride` input sizes that a stride-s convolution maps to the same H; without it the
    formula gives the smallest. String padding follows keras.layers.Conv2DTranspose: with
    output_padding=None, "valid" gives s·H + max(k - s, 0) and "same" gives s·H; with it, p = 0
    or p = k // 2. For "same", an even kernel and output_padding=0 that size is one short of
    what a "same" convolution maps back to H (TensorFlow's kernel rejects it): ValueError.
    """
    _count("size", size)
    _count("stride", stride)
    span = effective_kernel_size(kernel_size, dilation)
    if output_padding is not None and not 0 <= _count("output_padding", output_padding, 0) < stride:
        raise ValueError(f"`output_padding` must be smaller than the stride {stride}; "
                         f"received output_padding={output_padding!r}.")
    if padding in ("valid", "same") and output_padding is None:
        return size * stride + (max(span - stride, 0) if padding == "valid" else 0)
    if padding == "same" and span % 2 == 0 and output_padding == 0 and stride > 1:
        raise ValueError(f"padding='same' with an even kernel ({span}) needs output_padding >= 1 "
                         f"(or None) for the output to map back to {size} inputs.")
    pad = {"valid": 0, "same": span // 2}.get(padding, padding)
    if isinstance(pad, str):
        raise ValueError(f"`padding` must be 'valid', 'same' or an integer; received {padding!r}.")
    _count("padding", pad, minimum=0)
    return stride * (size - 1) + span - 2 * pad + (output_padding or 0)


def conv_params(kernel_size, in_channels, filters, use_bias=True):
    """Weights and biases of a convolution: C_i · C_o · K · K + C_o (lecture note 004).

    An int kernel_size means K × K; a tuple gives every spatial size, e.g. (3,) for Conv1D.
    """
    sizes = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    weights = math.prod(_count("kernel_size", k) for k in sizes)
    weights *= _count("in_channels", in_channels) * _count("filters", filters)
    return weights + (filters if use_bias else 0)


def dense_params(inputs, units, use_bias=True):
    """Weights and biases of a fully connected layer: inputs · units + units."""
    return _count("inputs", inputs) * _count("units", units) + (units if use_bias else 0)


def alexnet_conv1_vs_dense():
    """AlexNet's first layer, 227×227×3 -> 55×55×96 (96 filters 11×11, stride 4), as a
    convolution and as the fully connected layer with the same input and output sizes.

    Lecture note 003 says "approximately 44 billion" for the dense layer; the exact count is
    154,587 × 290,400 + 290,400 = 44,892,355,200, about 44.9 billion. (The AlexNet paper states
    224×224 inputs, for which (224 - 11)/4 + 1 is not an integer; 227 makes the arithmetic work.)
    """
    side = conv_output_size(227, 11, stride=4)
    inputs, outputs = 227 * 227 * 3, side * side * 96
    return {"output_shape": (side, side, 96), "conv_params": conv_params(11, 3, 96),
            "dense_inputs": inputs, "dense_outputs": outputs,
            "dense_params": dense_params(inputs, outputs)}


def small_filter_weights(channels):
    """Weights of three stacked 3×3 convolutions vs one 7×7, C channels in and out (no biases).

    Both see a 7×7 region (lecture note 001, "Power of Small Filters"): 27C² vs 49C².
    """
    stacked = 3 * conv_params(3, channels, channels, use_bias=False)
    return {"three_3x3": stacked, "one_7x7": conv_params(7, channels, channels, use_bias=False)}
