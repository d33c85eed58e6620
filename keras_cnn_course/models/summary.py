"""Layer-by-layer table of a conv net: output shape, parameters and receptive field.

Receptive-field arithmetic per spatial axis (Dumoulin & Visin, "A guide to convolution arithmetic
for deep learning", 2016; Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019). A layer with kernel k (dilated: d*(k-1)+1), stride s and left padding p,
on an input whose units see r input pixels, `jump` j pixels apart, the first centred at `start` c:

    r' = r + (k - 1) * j        j' = j * s        c' = c + ((k - 1) / 2 - p) * j

Two stacked 3x3 convolutions see 5x5 pixels, three see 7x7 (lecture note 001). Upsampling by s
divides the jump (j' = j / s), placing outputs at sub-pixel centres. After upsampling the field
depends on the position, so the table's receptive field is exact instead: the largest span of
input pixels any unit depends on, traced unit by unit (the formula's r where it cannot be traced:
unknown input sizes). Flatten and global pooling see the whole map; after them jump and start are
undefined (NaN). Pixel coordinates: input pixel i is centred at i.
"""

import math

import keras
import numpy as np
import pandas as pd

from keras_cnn_course.models.layers import BedOfNails2D, MaxUnpooling2D

COLUMNS = ["name", "class", "output shape", "parameters", "receptive field", "jump", "start"]
TRANSPOSED = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose,
              keras.layers.Conv3DTranspose)
UPSAMPLING = (keras.layers.UpSampling1D, keras.layers.UpSampling2D, keras.layers.UpSampling3D,
              BedOfNails2D, MaxUnpooling2D)
PADDING = (keras.layers.ZeroPadding1D, keras.layers.ZeroPadding2D, keras.layers.ZeroPadding3D)
CROPPING = (keras.layers.Cropping1D, keras.layers.Cropping2D, keras.layers.Cropping3D)
NAN = float("nan")


def _axes(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _left(value, n):
    """Left/top amounts of a ZeroPadding or Cropping argument, one per axis."""
    if isinstance(value, int):
        return (value,) * n
    if n == 1 and all(isinstance(v, int) for v in value):
        return (value[0],)
    return tuple(v if isinstance(v, int) else v[0] for v in value)


def _kind(layer, inputs):
    """How a layer moves pixels: merge, transposed, upsample, window, pad, crop, flat or same."""
    if isinstance(layer, keras.Model):  # its inner layers would count as one pass-through
        raise ValueError(f"layer {layer.name!r} is a nested model: its receptive field is not "
                         f"traced through; summarise {layer.name!r} on its own, or build the "
                         "model from its layers directly")
    if len(inputs) > 1 and not isinstance(layer, MaxUnpooling2D):
        return "merge"
    for kind, classes in (("transposed", TRANSPOSED), ("upsample", UPSAMPLING), ("pad", PADDING),
                          ("crop", CROPPING), ("flat", keras.layers.Flatten)):
        if isinstance(layer, classes):
            return kind
    if type(layer).__name__.startswith("Global"):
        return "flat"
    if hasattr(layer, "pool_size") or (hasattr(layer, "kernel_size") and hasattr(layer, "strides")):
        return "window"
    return "same"


def _window(layer, n, sizes):
    """Per axis (dilated kernel span, stride, dilation, left padding) of a conv or pooling."""
    kernel = _axes(getattr(layer, "kernel_size", None) or layer.pool_size, n)
    strides = _axes(layer.strides or kernel, n)
    dilation = _axes(getattr(layer, "dilation_rate", 1), n)
    result = []
    for k, s, d, size in zip(kernel, strides, dilation, sizes):
        span = d * (k - 1) + 1
        if layer.padding == "valid":
            pad = 0
        elif layer.padding == "causal":
            pad = span - 1
        elif size is None:
            pad = (span - 1) // 2
        else:  # 'same' as TensorFlow pads: the odd pixel goes to the bottom/right
            pad = max((math.ceil(size / s) - 1) * s + span - size, 0) // 2
        result.append((span, s, d, pad))
    return result


def _upsampling(layer, n):
    """Per axis (kernel, factor, left padding) of an upsampling or transposed convolution."""
    if isinstance(layer, TRANSPOSED):
        kernel, factors = _axes(layer.kernel_size, n), _axes(layer.strides, n)
        same = layer.padding == "same"
        return [(k, s, max(k - s, 0) // 2 if same else 0) for k, s in zip(kernel, factors)]
    return [(1, s, 0) for s in _axes(layer.size, n)]


def _grid(kind, layer, sizes, rf, jump, start):
    """The formulas: (rf, jump, start) of the output from the input's."""
    n = len(rf)
    if kind == "window":
        params = _window(layer, n, sizes)
        return (tuple(r + (k - 1) * j for r, j, (k, _, _, _) in zip(rf, jump, params)),
                tuple(j * s for j, (_, s, _, _) in zip(jump, params)),
                tuple(c + ((k - 1) / 2 - p) * j for c, j, (k, _, _, p) in zip(start, jump, params)))
    if kind in ("transposed", "upsample"):
        params = _upsampling(layer, n)
        return (tuple(r + (math.ceil(k / s) - 1) * j for r, j, (k, s, _) in zip(rf, jump, params)),
                tuple(j / s for j, (_, s, _) in zip(jump, params)),
                tuple(c + (p - (k - 1) / 2) * j / s if k > 1 else c - (s - 1) / 2 * j / s
                      for c, j, (k, s, p) in zip(start, jump, params)))
    if kind in ("pad", "crop"):
        sign = -1 if kind == "pad" else 1
        amounts = _left(layer.padding if kind == "pad" else layer.cropping, n)
        return rf, jump, tuple(c + sign * p * j for c, p, j in zip(start, amounts, jump))
    if kind == "flat":
        if any(size is None for size in sizes):
            return (NAN,) * n, (NAN,) * n, (NAN,) * n
        return (tuple(r + (m - 1) * j for r, m, j in zip(rf, sizes, jump)), (NAN,) * n, (NAN,) * n)
    return rf, jump, start


def _gather(lo, hi, index):
    """Span of the input units `index` (one row per output unit); out-of-range ones are padding."""
    valid = (index >= 0) & (index < len(lo))
    safe = np.clip(index, 0, len(lo) - 1)
    return (np.where(valid, lo[safe], np.inf).min(axis=1),
            np.where(valid, hi[safe], -np.inf).max(axis=1))


def _trace(kind, layer, sizes, out_sizes, spans):
    """Exact spans: for every unit along each axis, the first and last input pixel it depends on."""
    n, result = len(spans), []
    for axis, (lo, hi) in enumerate(spans):
        units = np.arange(out_sizes[axis] if kind != "flat" else 1)
        if kind == "window":
            k, s, d, pad = _window(layer, n, sizes)[axis]
            result.append(_gather(lo, hi, units[:, None] * s - pad + np.arange(0, k, d)[None, :]))
        elif kind == "transposed":  # input unit o reaches outputs o*s - pad + t, t < k
            k, s, pad = _upsampling(layer, n)[axis]
            index = units[:, None] + pad - np.arange(k)[None, :]
            result.append(_gather(lo, hi, np.where(index % s == 0, index // s, -1)))
        elif kind == "upsample":
            s = _upsampling(layer, n)[axis][1]
            if isinstance(layer, BedOfNails2D):  # only the top-left of each block holds a value
                index = np.where(units % s == 0, units // s, -1)[:, None]
            elif getattr(layer, "interpolation", "nearest") == "bilinear":
                first = np.floor((units + 0.5) / s - 0.5).astype(int)
                index = np.clip(np.stack([first, first + 1], axis=1), 0, len(lo) - 1)
            else:  # nearest, and max unpooling (the switch picks a place inside the block)
                index = (units // s)[:, None]
            result.append(_gather(lo, hi, index))
        elif kind in ("pad", "crop"):
            amount = _left(layer.padding if kind == "pad" else layer.cropping, n)[axis]
            shift = amount if kind == "crop" else -amount
            result.append(_gather(lo, hi, (units + shift)[:, None]))
        elif kind == "flat":
            result.append((lo.min(keepdims=True), hi.max(keepdims=True)))
        else:
            result.append((lo, hi))
    return result


def _start(tensor):
    """Formula geometry and traced spans of an input: each unit sees itself."""
    sizes = tuple(tensor.shape[1:-1])
    if not sizes:
        return None, None
    spans = None if None in sizes else [(np.arange(m, dtype=float),) * 2 for m in sizes]
    return ((1,) * len(sizes), (1,) * len(sizes), (0.0,) * len(sizes)), spans


def _propagate(layer, inputs, outputs, states):
    """(formula geometry, traced spans) of a layer's output from its inputs'."""
    known = [state for state in states if state[0] is not None]
    if not known:
        return None, None
    kind, (geometry, spans) = _kind(layer, inputs), known[0]
    if math.isnan(geometry[1][0]):  # flattened already: later layers see what it saw
        return geometry, spans
    if kind == "merge":
        geometry = max((g for g, _ in known), key=lambda g: g[0])
        if all(s is not None for _, s in known):
            spans = [(np.minimum.reduce([s[a][0] for _, s in known]),
                      np.maximum.reduce([s[a][1] for _, s in known])) for a in range(len(spans))]
        return geometry, spans
    sizes, out_sizes = tuple(inputs[0].shape[1:-1]), tuple(outputs[0].shape[1:-1])
    geometry = _grid(kind, layer, sizes, *geometry)
    if spans is not None and (kind == "flat" or None not in out_sizes):
        spans = _trace(kind, layer, sizes, out_sizes, spans)
    return geometry, spans


def _show(values):
    """One number when all spatial axes agree, else a tuple; ints where exact."""
    values = tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in values)
    return values[0] if len(set(map(str, values))) == 1 else values


def layer_table(model):
    """A pandas.DataFrame with one row per layer of `model` (Sequential or functional).

    Columns: name, class, output shape, parameters, receptive field (input pixels one unit sees,
    per axis), jump (input pixels between neighbouring units), start (input coordinate of the
    first unit's centre). Layers without a spatial input (an MLP) get NaN.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a keras.Model; received {type(model).__name__}.")
    if not model.built or not model.layers:
        raise ValueError(f"model '{model.name}' is not built; give it an input shape first.")
    states, rows = {}, []
    for layer in model.layers:
        node = layer._inbound_nodes[0] if layer._inbound_nodes else None
        inputs = list(node.input_tensors) if node else []
        outputs = list(node.output_tensors) if node else [layer.output]
        state = _start(outputs[0])
        if inputs:
            result = _propagate(layer, inputs, outputs,
                                [states.get(id(t)) or _start(t) for t in inputs])
            if result[0] is not None and (len(result[0][0]) == len(outputs[0].shape) - 2
                                          or len(outputs[0].shape) == 2):
                state = result
        for tensor in outputs:
            states[id(tensor)] = state
        geometry, spans = state
        if geometry is None:
            rf = jump = start = NAN
        else:
            rf = _show(tuple(float(np.max(hi - lo + 1)) for lo, hi in spans)
                       if spans is not None else geometry[0])
            jump, start = _show(geometry[1]), _show(geometry[2])
        rows.append([layer.name, type(layer).__name__, _shape(outputs), layer.count_params(),
                     rf, jump, start])
    table = pd.DataFrame(rows, columns=COLUMNS, dtype=object)  # keeps ints beside NaN
    return table.astype({"parameters": "int64"})


def _shape(tensors):
    shapes = [tuple(t.shape) for t in tensors]
    return shapes[0] if len(shapes) == 1 else shapes
