"""Nielsen's chapter-6 networks, one factory per experiment of his `src/conv.py`.

Reference: M. Nielsen, Neural Networks and Deep Learning, ch. 6 (src/conv.py, src/network3.py).

All take 28x28x1 images: conv 5x5 'valid' (stride 1) + max-pool 2x2, fully connected layers, and
a 10-way softmax layer. The factories build the architecture; the book's recipe is in the options:

- `activation`: sigmoid in the early experiments, ReLU from `dbl_conv_relu` on.
- `l2`: Keras kernel-regulariser strength on conv, FC and softmax weights (not biases), as
  network3.py adds 0.5*lmbda*sum(w**2)/num_training_batches to the mean cost: use
  `book_l2(lmbda, num_train)`, e.g. l2=book_l2(0.1, 50_000) = 1e-5, book_l2(0.1, 250_000) = 2e-6.
  Default None: no penalty (the book's rows 3-5 use lmbda = 0.1).
- `book_init`: his initialisation, weights ~ N(0, sqrt(1/n_out)) (a conv layer's n_out is
  filters*25/4: the pooled fan-out), biases ~ N(0, 1), the softmax layer all zeros.
  Default: Keras' initialisers (Glorot uniform weights, zero biases).
- `dropout`: rates on the inputs of FC1, FC2, ..., and the softmax layer (network3's p_dropout).
  Keras' dropout rescales at training time, network3 at test time: the same model in expectation.
  The layers are `ByteDropout`: Keras' Dropout with a cheaper random mask (byte_dropout.py).

network3.py applies the activation after pooling; for a per-channel bias and a monotonic activation
that equals pooling after the activation, which is what the Keras layers below do.
"""

import keras
from keras import layers

from keras_cnn_course.models import _checks
from keras_cnn_course.models.byte_dropout import ByteDropout
from keras_cnn_course.models.heads import global_pooling, output_dtype
from keras_cnn_course.models.vocabulary import factory, load_weights, model_input

FILTERS = (20, 40)  # conv1, conv2: 20 and 40 feature maps of 5x5


def book_l2(lmbda, num_train, batch_size=10):
    """Keras l2 strength equal to network3.py's 0.5*lmbda*sum(w**2)/num_training_batches."""
    if lmbda < 0:
        raise ValueError(f"`lmbda` must be >= 0; received lmbda={lmbda!r}.")
    _checks.positive_int("num_train", num_train)
    _checks.positive_int("batch_size", batch_size)
    if num_train < batch_size:
        raise ValueError(f"`num_train` must be at least one batch ({batch_size}); "
                         f"received num_train={num_train!r}.")
    return 0.5 * lmbda / (num_train // batch_size)


def _init(book_init, fan_out, zero=False):
    """(kernel, bias) initialisers: Keras defaults, or network3.py's."""
    if not book_init:
        return "glorot_uniform", "zeros"
    if zero:
        return "zeros", "zeros"
    return (keras.initializers.RandomNormal(stddev=(1.0 / fan_out) ** 0.5),
            keras.initializers.RandomNormal(stddev=1.0))


def build(conv_filters, fc_units, include_top=True, weights=None, input_tensor=None,
          input_shape=None, pooling=None, classes=10, classifier_activation="softmax",
          name="nielsen", *, activation="sigmoid", l2=None, book_init=False, dropout=None,
          network=None):
    """A network3.py `Network`: conv-pool layers, FC layers, then the softmax layer.

    `dropout` holds one rate per FC layer and one for the softmax layer (or a single rate for all).
    `weights`: None or the path of a weights file saved from the same network (`network`, the
    registered name, is what its errors call it).
    """
    input_shape = _checks.input_shape(input_shape, ndim=3, default=(28, 28, 1),
                                      input_tensor=input_tensor)
    conv_filters = _checks.positive_ints("conv_filters", conv_filters) if conv_filters else ()
    fc_units = _checks.positive_ints("fc_units", fc_units) if fc_units else ()
    _checks.classifier(include_top=include_top, pooling=pooling, classes=classes)
    layers_in = len(fc_units) + 1  # FC layers and the softmax layer
    rates = dropout if isinstance(dropout, (list, tuple)) else [dropout or 0.0] * layers_in
    if len(rates) != layers_in:
        raise ValueError(f"`dropout` needs {layers_in} rates (FC layers and softmax); "
                         f"received dropout={dropout!r}.")
    rates = [_checks.rate("dropout", r or 0.0) for r in rates]
    if l2 is not None and (isinstance(l2, bool) or not isinstance(l2, (int, float)) or l2 < 0):
        raise ValueError(f"`l2` must be a number >= 0 or None; received l2={l2!r}.")
    regularizer = keras.regularizers.L2(l2) if l2 else None
    _checks.spatial_walk(input_shape, [
        step for i in range(len(conv_filters))
        for step in ((f"conv{i + 1}", 5, 1, "valid"), (f"pool{i + 1}", 2, 2, "valid"))])

    inputs, x = model_input(input_tensor, input_shape)
    for i, filters in enumerate(conv_filters, start=1):
        kernel_init, bias_init = _init(book_init, filters * 25 / 4)
        x = layers.Conv2D(filters, 5, activation=activation, kernel_regularizer=regularizer,
                          kernel_initializer=kernel_init, bias_initializer=bias_init,
                          name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    if not include_top:
        model = keras.Model(inputs, global_pooling(x, pooling), name=name)
        return load_weights(model, weights, network or name)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(fc_units, start=1):
        if rates[i - 1]:
            x = ByteDropout(rates[i - 1], name=f"dropout_fc{i}")(x)
        kernel_init, bias_init = _init(book_init, units)
        x = layers.Dense(units, activation=activation, kernel_regularizer=regularizer,
                         kernel_initializer=kernel_init, bias_initializer=bias_init,
                         name=f"fc{i}")(x)
    if rates[-1]:
        x = ByteDropout(rates[-1], name="dropout_predictions")(x)
    kernel_init, bias_init = _init(book_init, classes, zero=True)
    x = layers.Dense(classes, activation=classifier_activation, kernel_regularizer=regularizer,
                     kernel_initializer=kernel_init, bias_initializer=bias_init,
                     dtype=output_dtype(), name="predictions")(x)
    return load_weights(keras.Model(inputs, x, name=name), weights, network or name)


def experiment(conv_filters, fc_units, *, name, activation, dropout=None, doc):
    """The factory of one experiment of the book, registered as `name`: conv-pool layers of
    `conv_filters` maps, FC layers of `fc_units`, the book's `activation` and `dropout` as
    defaults, and keras.applications' arguments (classes=10, 28x28x1 inputs)."""
    registered, book_activation, book_dropout = name, activation, dropout

    def network(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=10, classifier_activation="softmax", name=registered, *,
                activation=book_activation, l2=None, book_init=False, dropout=book_dropout):
        return build(conv_filters, fc_units, include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name, activation=activation,
                     l2=l2, book_init=book_init, dropout=dropout, network=registered)

    network.__name__ = network.__qualname__ = registered
    network.__doc__ = doc
    return factory(network)


nielsen_shallow = experiment((), (100,), name="nielsen_shallow", activation="sigmoid", doc="""
    FC 784-100-10, sigmoid: 79,510 parameters, 97.80% in the book.

    Reference: Nielsen, NNDL ch. 6, src/conv.py shallow().
    """)
nielsen_basic_conv = experiment(FILTERS[:1], (100,), name="nielsen_basic_conv",
                                activation="sigmoid", doc="""
    Conv(20, 5x5) + max-pool 2 -> FC 100 -> 10, sigmoid: 289,630 parameters, 98.78%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py basic_conv().
    """)
nielsen_omit_fc = experiment(FILTERS[:1], (), name="nielsen_omit_fc", activation="sigmoid",
                             doc="""
    Conv(20, 5x5) + max-pool 2 straight into the softmax layer (the exercise): 29,330 parameters.

    Reference: Nielsen, NNDL ch. 6, src/conv.py omit_FC().
    """)
nielsen_dbl_conv = experiment(FILTERS, (100,), name="nielsen_dbl_conv", activation="sigmoid",
                              doc="""
    Two conv-pool layers (20, 40 maps) -> FC 100 -> 10, sigmoid: 85,670 parameters, 99.06%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py dbl_conv().
    """)
nielsen_dbl_conv_relu = experiment(FILTERS, (100,), name="nielsen_dbl_conv_relu",
                                   activation="relu", doc="""
    As dbl_conv with ReLU everywhere (book: l2=book_l2(0.1, 50_000), eta 0.03): 99.23%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py dbl_conv_relu().
    """)
# dbl_conv_relu with FC n, trained on the expanded data (book: l2=book_l2(0.1, 250_000)).
nielsen_expanded_data_100 = experiment(FILTERS, (100,), name="nielsen_expanded_data_100",
                                       activation="relu", doc="""
    dbl_conv_relu with FC 100, trained on the expanded data: 85,670 parameters, 99.37%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py expanded_data(100).
    """)
nielsen_expanded_data_300 = experiment(FILTERS, (300,), name="nielsen_expanded_data_300",
                                       activation="relu", doc="""
    dbl_conv_relu with FC 300, trained on the expanded data: 215,870 parameters, 99.46%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py expanded_data(300).
    """)
nielsen_expanded_data_1000 = experiment(FILTERS, (1000,), name="nielsen_expanded_data_1000",
                                        activation="relu", doc="""
    dbl_conv_relu with FC 1000, trained on the expanded data: 671,570 parameters, 99.43%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py expanded_data(1000).
    """)
# As expanded_data with two FC layers of n units (book: l2=book_l2(0.1, 250_000)).
nielsen_expanded_data_double_fc_100 = experiment(
    FILTERS, (100, 100), name="nielsen_expanded_data_double_fc_100", activation="relu", doc="""
    As expanded_data with two FC layers of 100 units: 95,770 parameters, 99.43%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py expanded_data_double_fc(100).
    """)
nielsen_expanded_data_double_fc_300 = experiment(
    FILTERS, (300, 300), name="nielsen_expanded_data_double_fc_300", activation="relu", doc="""
    As expanded_data with two FC layers of 300 units: 306,170 parameters, 99.48%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py expanded_data_double_fc(300).
    """)
nielsen_expanded_data_double_fc_1000 = experiment(
    FILTERS, (1000, 1000), name="nielsen_expanded_data_double_fc_1000", activation="relu",
    doc="""
    As expanded_data with two FC layers of 1000 units: 1,672,570 parameters, 99.47%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py expanded_data_double_fc(1000).
    """)
nielsen_double_fc_dropout = experiment(
    FILTERS, (1000, 1000), name="nielsen_double_fc_dropout", activation="relu",
    dropout=(0.5, 0.5, 0.5), doc="""
    Two FC 1000 layers, dropout 0.5 on the inputs of FC1, FC2 and softmax: 1,672,570, 99.60%.

    Reference: Nielsen, NNDL ch. 6, src/conv.py double_fc_dropout(0.5, 0.5, 0.5, 5).
    """)
