"""Receptive fields, measured: which input pixels can change one output unit.

The arithmetic (receptive field, jump and start of every layer of a Keras model) is
keras_cnn_course.models.summary.layer_table. Here the same question is answered by
differentiation: the receptive field of a unit is the support of the gradient of that unit
with respect to the input (lecture note 001: "units in the deeper layers can be indirectly
connected to all or most of the input image"; lecture note 002: "after two 3x3 convolutions,
the receptive field becomes 5x5. After three, it's 7x7").

A gradient can vanish inside the receptive field (a dead ReLU, a zero weight, a max-pool input
that was not the maximum), so the support is the union over several random inputs, and is a
lower bound on the arithmetic receptive field that equals it for generic weights.

Reference: lecture notes 001 ("Receptive Field"), 002 ("Receptive Field"), 004 ("Receptive
fields"); W. Luo et al., "Understanding the Effective Receptive Field in Deep CNNs", 2016.
"""

import numpy as np


def layer_table(model):
    """The layer-by-layer table (output shape, parameters, receptive field, jump, start)."""
    from keras_cnn_course.models.summary import layer_table as table

    return table(model)


def gradient_support(model, layer_name=None, unit=None, samples=4, seed=0):
    """Boolean mask over the input's spatial grid: True where the chosen output unit's gradient
    is nonzero for at least one of `samples` standard-normal inputs.

    `layer_name` picks an inner layer (default: the model's output); `unit` is the unit's
    spatial index in that layer's output (default: the centre); channels are summed.
    """
    import keras
    import tensorflow as tf

    target = model
    if layer_name is not None:
        target = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    shape = tuple(model.input_shape[1:])
    if None in shape:
        raise ValueError(f"the model's input shape {shape} must be fully defined; rebuild it "
                         f"with a fixed input_shape.")
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=(samples, *shape)), dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = target(x, training=False)
        grid = tuple(y.shape[1:-1])
        unit = tuple(n // 2 for n in grid) if unit is None else tuple(unit)
        if len(unit) != len(grid) or any(not 0 <= u < n for u, n in zip(unit, grid)):
            raise ValueError(f"`unit` {unit} is not a position of the output grid {grid}.")
        picked = tf.reduce_sum(y[(slice(None), *unit)])
    gradient = tape.gradient(picked, x).numpy()
    return np.abs(gradient).sum(axis=(0, gradient.ndim - 1)) > 0


def support_extent(mask):
    """(first, last) index of the True entries along each axis of a support mask."""
    extent = []
    for axis in range(mask.ndim):
        hits = np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
        if hits.size == 0:
            raise ValueError("the support is empty: the unit does not depend on the input.")
        extent.append((int(hits[0]), int(hits[-1])))
    return extent
