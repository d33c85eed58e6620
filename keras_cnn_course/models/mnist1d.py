"""Networks for MNIST-1D (length-40 signals, 10 classes): the lecture's CNN-versus-FC comparison.

Reference: S. Prince, Understanding Deep Learning (2023), section 10.2.7 and ch. 8;
S. Greydanus & D. Kobak, "Scaling down deep learning with MNIST-1D" (github.com/greydanus/mnist1d).

Every factory takes signals of shape (40,) as `mnist1d` returns them (or (40, 1)), and ends in a
Dense layer named `predictions`; pass `classifier_activation=None` for logits (what a
`from_logits=True` cross-entropy wants). ReLU is used throughout, as in both sources.
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import output_dtype


def _signal_input(input_shape, *, channels):
    """Input of shape (L,) or (L, 1); reshaped to what the first layer wants."""
    shape = _checks.input_shape(input_shape, ndim=(1, 2), default=(40,))
    inputs = keras.Input(shape=shape, name="input_layer")
    if channels and len(shape) == 1:
        return inputs, layers.Reshape((shape[0], 1), name="reshape")(inputs), (shape[0], 1)
    if not channels and len(shape) == 2:
        return inputs, layers.Flatten(name="flatten_input")(inputs), shape
    return inputs, inputs, shape


def _top(inputs, x, *, include_top, pooling, num_classes, classifier_activation, name, flatten):
    _checks.classifier(include_top=include_top, pooling=pooling, num_classes=num_classes)
    if include_top:
        if flatten:
            x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, dtype=output_dtype(),
                         name="predictions")(x)
    elif pooling and flatten:
        x = {"avg": layers.GlobalAveragePooling1D, "max": layers.GlobalMaxPooling1D}[pooling](
            name=f"{pooling}_pool")(x)
    return keras.Model(inputs, x, name=name)


def _mlp(hidden, *, input_shape, name, **head):
    hidden = _checks.positive_ints("hidden", hidden)
    inputs, x, _ = _signal_input(input_shape, channels=False)
    for i, units in enumerate(hidden, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{i}")(x)
    return _top(inputs, x, name=name, flatten=False, **head)


def mnist1d_fc(*, input_shape=None, hidden=(285, 135, 60), num_classes=10, include_top=True,
               pooling=None, classifier_activation="softmax", name="mnist1d_fc"):
    """Fully connected net 40-285-135-60-10 (the CNN's layer widths 19*15, 9*15, 4*15): 59,065.

    The first printing of the book says 150,185 parameters; the erratum corrects it to 59,065.
    Reference: Prince, Understanding Deep Learning, section 10.2.7, fig. 10.8.
    """
    return _mlp(hidden, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                pooling=pooling, classifier_activation=classifier_activation, name=name)


def mnist1d_mlp(*, input_shape=None, hidden=(100, 100), num_classes=10, include_top=True,
                pooling=None, classifier_activation="softmax", name="mnist1d_mlp"):
    """The chapter-8 baseline MLP 40-100-100-10: 15,210 parameters.

    Reference: Prince, Understanding Deep Learning, ch. 8 (MNIST-1D experiments).
    """
    return _mlp(hidden, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                pooling=pooling, classifier_activation=classifier_activation, name=name)


def _cnn(convs, *, input_shape, name, **head):
    """`convs`: (filters, kernel, stride, explicit zero padding) per Conv1D, ReLU after each."""
    inputs, x, shape = _signal_input(input_shape, channels=True)
    _checks.spatial_walk(shape, [(f"conv{i}", k, s, p) for i, (_, k, s, p) in enumerate(convs, 1)],
                         quote=inputs.shape[1:])
    for i, (filters, kernel, stride, pad) in enumerate(convs, start=1):
        _checks.positive_int("filters", filters)
        if pad:
            x = layers.ZeroPadding1D(pad, name=f"pad{i}")(x)
        x = layers.Conv1D(filters, kernel, strides=stride, activation="relu", name=f"conv{i}")(x)
    return _top(inputs, x, name=name, flatten=True, **head)


def mnist1d_cnn(*, input_shape=None, filters=15, num_classes=10, include_top=True, pooling=None,
                classifier_activation="softmax", name="mnist1d_cnn"):
    """Three Conv1D(15, 3, stride 2, 'valid') + ReLU: 40 -> 19 -> 9 -> 4, 60 -> 10: 2,050.

    Reference: Prince, Understanding Deep Learning, section 10.2.7, figs 10.7-10.8.
    """
    return _cnn([(filters, 3, 2, 0)] * 3, input_shape=input_shape, num_classes=num_classes,
                include_top=include_top, pooling=pooling,
                classifier_activation=classifier_activation, name=name)


def mnist1d_benchmark_cnn(*, input_shape=None, filters=25, num_classes=10, include_top=True,
                          pooling=None, classifier_activation="softmax",
                          name="mnist1d_benchmark_cnn"):
    """mnist1d's benchmark CNN: Conv1d(1,25,k5,s2,p1), Conv1d(25,25,k3,s2,p1) x2, Linear: 5,210.

    PyTorch's padding=1 is an explicit ZeroPadding1D(1) before each 'valid' Conv1D (40 -> 19 ->
    10 -> 5). PyTorch flattens channels-first, Keras channels-last: the same model up to a
    permutation of the Linear layer's inputs.
    Reference: Greydanus & Kobak, mnist1d (github.com/greydanus/mnist1d), models.ConvBase.
    """
    return _cnn([(filters, 5, 2, 1), (filters, 3, 2, 1), (filters, 3, 2, 1)],
                input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                pooling=pooling, classifier_activation=classifier_activation, name=name)
