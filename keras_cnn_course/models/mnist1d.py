"""Networks for MNIST-1D (length-40 signals, 10 classes): the lecture's CNN-versus-FC comparison.

Reference: S. Prince, Understanding Deep Learning (2023), section 10.2.7 and ch. 8;
S. Greydanus & D. Kobak, "Scaling down deep learning with MNIST-1D" (github.com/greydanus/mnist1d).

Every factory takes signals of shape (40,) as `mnist1d` returns them (or (40, 1)), and ends in a
Dense layer named `predictions`; pass `classifier_activation=None` for logits (what a
`from_logits=True` cross-entropy wants). ReLU is used throughout, as in both sources.
They take keras.applications' arguments (`models.vocabulary`) on signals; the fully connected
nets have no `pooling`.
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.heads import output_dtype
from keras_cnn_course.models.vocabulary import factory, load_weights, model_input


def _signal_input(input_tensor, input_shape, *, channels):
    """Input of shape (L,) or (L, 1); reshaped to what the first layer wants."""
    shape = _checks.input_shape(input_shape, ndim=(1, 2), default=(40,), input_tensor=input_tensor)
    inputs, x = model_input(input_tensor, shape)
    if channels and len(shape) == 1:
        return inputs, layers.Reshape((shape[0], 1), name="reshape")(x), (shape[0], 1)
    if not channels and len(shape) == 2:
        return inputs, layers.Flatten(name="flatten_input")(x), shape
    return inputs, x, shape


def _top(inputs, x, *, network, include_top, weights, pooling=None, classes,
         classifier_activation, name, flatten):
    if include_top:
        if flatten:
            x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(classes, activation=classifier_activation, dtype=output_dtype(),
                         name="predictions")(x)
    elif pooling and flatten:
        x = {"avg": layers.GlobalAveragePooling1D, "max": layers.GlobalMaxPooling1D}[pooling](
            name=f"{pooling}_pool")(x)
    return load_weights(keras.Model(inputs, x, name=name), weights, network)


def _mlp(hidden, *, input_tensor, input_shape, include_top, classes, **top):
    hidden = _checks.positive_ints("hidden", hidden)
    _checks.classifier(include_top=include_top, pooling=None, classes=classes)
    inputs, x, _ = _signal_input(input_tensor, input_shape, channels=False)
    for i, units in enumerate(hidden, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{i}")(x)
    return _top(inputs, x, flatten=False, include_top=include_top, classes=classes, **top)


@factory
def mnist1d_fc(include_top=True, weights=None, input_tensor=None, input_shape=None, classes=10,
               classifier_activation="softmax", name="mnist1d_fc", *, hidden=(285, 135, 60)):
    """Fully connected net 40-285-135-60-10 (the CNN's layer widths 19*15, 9*15, 4*15): 59,065.

    The first printing of the book says 150,185 parameters; the erratum corrects it to 59,065.
    keras.applications' arguments without `pooling` (a vector has nothing to pool);
    include_top=False ends at the last hidden layer.
    Reference: Prince, Understanding Deep Learning, section 10.2.7, fig. 10.8.
    """
    return _mlp(hidden, network="mnist1d_fc", include_top=include_top, weights=weights,
                input_tensor=input_tensor, input_shape=input_shape, classes=classes,
                classifier_activation=classifier_activation, name=name)


@factory
def mnist1d_mlp(include_top=True, weights=None, input_tensor=None, input_shape=None, classes=10,
                classifier_activation="softmax", name="mnist1d_mlp", *, hidden=(100, 100)):
    """The chapter-8 baseline MLP 40-100-100-10: 15,210 parameters.

    keras.applications' arguments without `pooling` (a vector has nothing to pool).
    Reference: Prince, Understanding Deep Learning, ch. 8 (MNIST-1D experiments).
    """
    return _mlp(hidden, network="mnist1d_mlp", include_top=include_top, weights=weights,
                input_tensor=input_tensor, input_shape=input_shape, classes=classes,
                classifier_activation=classifier_activation, name=name)


def _cnn(convs, *, input_tensor, input_shape, include_top, pooling, classes, **top):
    """`convs`: (filters, kernel, stride, explicit zero padding) per Conv1D, ReLU after each."""
    _checks.classifier(include_top=include_top, pooling=pooling, classes=classes)
    inputs, x, shape = _signal_input(input_tensor, input_shape, channels=True)
    _checks.spatial_walk(shape, [(f"conv{i}", k, s, p) for i, (_, k, s, p) in enumerate(convs, 1)],
                         quote=_checks.input_shape(input_shape, ndim=(1, 2), default=(40,),
                                                   input_tensor=input_tensor))
    for i, (filters, kernel, stride, pad) in enumerate(convs, start=1):
        _checks.positive_int("filters", filters)
        if pad:
            x = layers.ZeroPadding1D(pad, name=f"pad{i}")(x)
        x = layers.Conv1D(filters, kernel, strides=stride, activation="relu", name=f"conv{i}")(x)
    return _top(inputs, x, flatten=True, include_top=include_top, pooling=pooling,
                classes=classes, **top)


@factory
def mnist1d_cnn(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=10, classifier_activation="softmax", name="mnist1d_cnn", *,
                filters=15):
    """Three Conv1D(15, 3, stride 2, 'valid') + ReLU: 40 -> 19 -> 9 -> 4, 60 -> 10: 2,050.

    keras.applications' arguments on signals: `pooling` ("avg", "max") pools over time.
    Reference: Prince, Understanding Deep Learning, section 10.2.7, figs 10.7-10.8.
    """
    return _cnn([(filters, 3, 2, 0)] * 3, network="mnist1d_cnn", include_top=include_top,
                weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                pooling=pooling, classes=classes, classifier_activation=classifier_activation,
                name=name)


@factory
def mnist1d_benchmark_cnn(include_top=True, weights=None, input_tensor=None, input_shape=None,
                          pooling=None, classes=10, classifier_activation="softmax",
                          name="mnist1d_benchmark_cnn", *, filters=25):
    """mnist1d's benchmark CNN: Conv1d(1,25,k5,s2,p1), Conv1d(25,25,k3,s2,p1) x2, Linear: 5,210.

    PyTorch's padding=1 is an explicit ZeroPadding1D(1) before each 'valid' Conv1D (40 -> 19 ->
    10 -> 5). PyTorch flattens channels-first, Keras channels-last: the same model up to a
    permutation of the Linear layer's inputs. `pooling` ("avg", "max") pools over time.
    Reference: Greydanus & Kobak, mnist1d (github.com/greydanus/mnist1d), models.ConvBase.
    """
    return _cnn([(filters, 5, 2, 1), (filters, 3, 2, 1), (filters, 3, 2, 1)],
                network="mnist1d_benchmark_cnn", include_top=include_top, weights=weights,
                input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                classes=classes, classifier_activation=classifier_activation, name=name)
