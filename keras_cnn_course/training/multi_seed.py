"""Several seeds of a small network trained at once: independent copies inside one compiled step.

A 2,050-parameter net spends most of a training step on overhead, not arithmetic
(`performance_notes.md`). Here K copies of a network live in one Keras model (`vectorise`: their
weights stacked, each layer one batched operation), each copy fed its own batch, and one
XLA-compiled step (`steps_per_execution` of them per call) trains all of them:

    copies = [Copy("cnn", lambda: get_model("mnist1d_cnn", classifier_activation=None), seed,
                   (x, y), (x_test, y_test)) for seed in range(5)]
    result = train_copies(copies, Recipe(learning_rate=0.01, batch_size=100, epochs=100,
                                         steps_per_epoch=1000, jit_compile=True,
                                         steps_per_execution=100))
    result.final  # per copy: train/test error (%) and loss after the last step

Copy k trains exactly as a separate run with its seed would (tests/test_multi_seed.py checks it):
- weights: copy k is built right after `keras.utils.set_random_seed(seed_k)`, as `fit` builds it;
- data: copy k sees the batches of `data_order(n, batch, seed_k)`, a pure function of the seed;
- loss: the SUM over copies of each copy's mean cross-entropy, so the gradient with respect to
  copy k's weights is exactly the gradient of copy k's own loss;
- optimizer: SGD (with or without momentum), Adam and RMSprop update every weight from its own
  gradient and state only, so the copies never mix. (A global-norm gradient clip would mix them.)
"""

import dataclasses
import datetime
import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import ops

INDEPENDENT_OPTIMIZERS = ("sgd", "adam", "rmsprop")


@dataclasses.dataclass(frozen=True)
class Copy:
    """One run among the copies: its network, seed, and its own training and test data."""

    name: str
    build: object  # () -> uncompiled keras.Model whose last layer outputs logits
    seed: int
    train: tuple  # (x, y) arrays
    test: tuple  # (x_test, y_test) arrays


def data_order(num_examples, batch_size, seed, shuffle=True):
    """The batches of example indices a run with `seed` trains on: an endless tf.data.Dataset.

    Pass e over the data is a fresh permutation that depends on (seed, e) only (a stateless
    shuffle), so the order never depends on what else runs in the process; the last batch of a
    pass is partial when `batch_size` does not divide `num_examples`. Without `shuffle` the
    batches cycle through the data in order (the loop of mnist1d's own benchmark).
    """
    return tf.data.Dataset.range(2**62).flat_map(
        lambda epoch: _batches(_order(num_examples, seed, epoch, shuffle), batch_size))


def _order(num_examples, seed, epoch, shuffle):
    indices = tf.range(num_examples, dtype=tf.int32)
    if not shuffle:
        return indices
    seed = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
    return tf.random.experimental.stateless_shuffle(indices, seed=seed)


def _batches(tensors, batch_size):
    """Consecutive batches along axis 0 (the last one partial), sliced without per-example work."""
    tensors = tensors if isinstance(tensors, tuple) else (tensors,)
    n = tensors[0].shape[0]
    full = n // batch_size * batch_size
    batched = tf.data.Dataset.from_tensor_slices(tuple(
        tf.reshape(t[:full], (n // batch_size, batch_size, *t.shape[1:])) for t in tensors))
    if full < n:
        batched = batched.concatenate(tf.data.Dataset.from_tensors(tuple(t[full:] for t in tensors)))
    return batched.map(lambda *t: t[0]) if len(tensors) == 1 else batched


def copies_dataset(copies, batch_size, shuffle=True):
    """Endless (x (B, K, ...), y (B, K)) batches: copy k's own examples in `data_order` of its seed."""
    sizes = {len(copy.train[1]) for copy in copies}
    if len(sizes) != 1:
        raise ValueError(f"every copy needs the same number of training examples, got {sorted(sizes)}")
    n = sizes.pop()
    x = tf.constant(np.stack([copy.train[0] for copy in copies]), tf.float32)  # (K, N, ...)
    y = tf.constant(np.stack([copy.train[1] for copy in copies]), tf.int32)  # (K, N)
    seeds = [copy.seed for copy in copies]

    def one_pass(epoch):
        order = tf.stack([_order(n, seed, epoch, shuffle) for seed in seeds])  # (K, N)
        xs = tf.gather(x, order, batch_dims=1)
        ys = tf.gather(y, order, batch_dims=1)
        return _batches((_batch_first(xs), _batch_first(ys)), batch_size)

    options = tf.data.Options()
    options.autotune.enabled = False  # autotune stalls small CPUs for seconds (performance notes)
    return tf.data.Dataset.range(2**62).flat_map(one_pass).prefetch(2).with_options(options)


def _batch_first(tensor):
    return tf.experimental.numpy.moveaxis(tensor, 0, 1)


def build_copy(build, seed):
    """`build()` right after seeding, exactly as a separate run with this seed builds its model."""
    keras.utils.set_random_seed(seed)
    return build()


def vectorise(models, name="copies"):
    """One Keras model: input (B, K, ...) -> logits (B, K, classes); copy k computes models[k].

    Copies of the same architecture share every operation: their weights are stacked on a
    leading axis and each layer runs as one batched matrix product (a Conv1D as strided slices
    and a matrix product): on this CPU ~1.3-1.8x the steps/s of K separate sub-models side by side.
    Returns (model, write_back); `write_back()` copies the trained weights into `models`.
    A numerical check on a random batch guards against layers this cannot express.
    """
    for k, model in enumerate(models):
        activation = getattr(model.layers[-1], "activation", None)
        if getattr(activation, "__name__", "linear") != "linear":
            raise ValueError(f"copy {k} ({model.name}) ends in {activation.__name__}; build it with "
                             "classifier_activation=None so that it outputs logits")
    shapes = {tuple(model.input_shape[1:]) for model in models}
    if len(shapes) != 1:
        raise ValueError(f"every copy must take the same input shape, got {sorted(shapes)}")
    inputs = keras.Input((len(models), *shapes.pop()), name="copies_input")
    groups = {}
    for k, model in enumerate(models):
        groups.setdefault(_architecture(model), []).append(k)
    outputs, order, stacks = [], [], []
    for group, indices in enumerate(groups.values()):
        x = inputs if len(indices) == len(models) else ops.take(inputs, indices, axis=1)
        x = ops.moveaxis(x, 1, 0)  # (copies, B, ...)
        for layers in zip(*[models[k].layers for k in indices]):
            x = _vectorised(layers, stacks, f"group{group}_")(x)
        outputs.append(x)
        order += indices
    logits = outputs[0] if len(outputs) == 1 else ops.take(ops.concatenate(outputs, 0),
                                                           np.argsort(order), axis=0)
    model = keras.Model(inputs, ops.moveaxis(logits, 0, 1), name=name)
    _check_equal(model, models)
    return model, lambda: [stack.write_back() for stack in stacks]


def _architecture(model):
    return repr([(type(layer).__name__, {key: value for key, value in layer.get_config().items()
                                         if key != "name"}) for layer in model.layers])


def _vectorised(layers, stacks, prefix):
    """The operation that does the work of `layers` (one per copy) on (copies, B, ...) tensors."""
    layer = layers[0]
    if isinstance(layer, (keras.layers.Dense, keras.layers.Conv1D)):
        stacks.append(StackedLinear(layers, prefix + layer.name))
        return stacks[-1]
    if isinstance(layer, keras.layers.InputLayer):
        return lambda x: x
    if isinstance(layer, keras.layers.Reshape):
        return lambda x: ops.reshape(x, (x.shape[0], -1, *layer.target_shape))
    if isinstance(layer, keras.layers.Flatten):
        return lambda x: ops.reshape(x, (x.shape[0], -1, int(np.prod(x.shape[2:]))))
    if isinstance(layer, keras.layers.ZeroPadding1D):
        return lambda x: ops.pad(x, [(0, 0), (0, 0), tuple(layer.padding), (0, 0)])
    if isinstance(layer, (keras.layers.Activation, keras.layers.ReLU)):
        return layer  # elementwise: the same on stacked tensors
    raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) has no vectorised form; copies "
                     "support Dense, Conv1D ('valid', no dilation), Reshape, Flatten, ZeroPadding1D "
                     "and activations in a chain")


class StackedLinear(keras.layers.Layer):
    """K copies of one Dense or Conv1D layer, kernels stacked to (K, ...), on (K, B, ...) inputs."""

    def __init__(self, layers, name):
        super().__init__(name=name)
        first = layers[0]
        object.__setattr__(self, "sources", tuple(layers))  # the copies' layers, not sublayers
        self.conv = isinstance(first, keras.layers.Conv1D)
        if self.conv and (first.padding != "valid" or first.dilation_rate != (1,)
                          or first.groups != 1 or first.data_format != "channels_last"):
            raise ValueError(f"Conv1D {first.name!r}: copies support padding='valid' (add a "
                             "ZeroPadding1D), no dilation or groups, channels_last")
        self.size, self.stride = (first.kernel_size[0], first.strides[0]) if self.conv else (1, 1)
        self.activation = first.activation
        self.kernel = self._stacked("kernel", [layer.kernel for layer in layers])
        self.bias = self._stacked("bias", [layer.bias for layer in layers]) if first.use_bias else None
        self.built = True

    def _stacked(self, name, variables):
        value = np.stack([variable.numpy() for variable in variables])
        variable = self.add_weight(shape=value.shape, initializer="zeros", name=name)
        variable.assign(value)
        return variable

    def call(self, x):
        kernel = self.kernel
        if self.conv:
            n = (x.shape[2] - self.size) // self.stride + 1
            end = self.stride * (n - 1) + 1
            x = ops.concatenate([x[:, :, j:j + end:self.stride] for j in range(self.size)], -1)
            kernel = ops.reshape(kernel, (kernel.shape[0], -1, kernel.shape[-1]))
        flat = ops.reshape(x, (x.shape[0], -1, x.shape[-1]))  # (K, B * positions, features)
        y = ops.reshape(ops.matmul(flat, kernel), (x.shape[0], -1, *x.shape[2:-1], kernel.shape[-1]))
        if self.bias is not None:
            y = y + ops.reshape(self.bias, (self.bias.shape[0],) + (1,) * (y.ndim - 2) + (-1,))
        return self.activation(y)

    def write_back(self):
        for k, layer in enumerate(self.sources):
            layer.kernel.assign(self.kernel[k])
            if self.bias is not None:
                layer.bias.assign(self.bias[k])


def _check_equal(model, models, atol=1e-4):
    probe = np.random.default_rng(0).normal(size=(3, *model.input_shape[1:])).astype("float32")
    mine = ops.convert_to_numpy(model(probe))
    for k, copy in enumerate(models):
        theirs = ops.convert_to_numpy(copy(probe[:, k]))
        if not np.allclose(mine[:, k], theirs, rtol=1e-4, atol=atol):
            raise ValueError(f"the copies model does not reproduce copy {k} ({copy.name}): its "
                             "layers must form a plain chain of the supported layers")


def summed_crossentropy(y_true, logits):
    """Per example: the sum over copies of the cross-entropy; Keras then averages over the batch."""
    labels = ops.cast(y_true, "int32")
    return ops.sum(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True), -1)


class ErrorCurves(keras.callbacks.Callback):
    """Each copy's error (%) and mean loss on its full training and test sets, before training
    and after every epoch, scored in chunks by the compiled predict step."""

    def __init__(self, copies, chunk=1000):
        super().__init__()
        self.names, self.chunk, self.rows, self.seconds = [c.name for c in copies], chunk, [], 0.0
        self.splits = {split: (np.stack([getattr(c, split)[0] for c in copies], 1).astype("float32"),
                               np.stack([getattr(c, split)[1] for c in copies], 1))
                       for split in ("train", "test")}

    def on_train_begin(self, logs=None):
        self._score()

    def on_epoch_end(self, epoch, logs=None):
        self._score()

    def _score(self):
        start = time.perf_counter()
        step = int(self.model.optimizer.iterations.numpy())
        figures = {}
        for split, (x, y) in self.splits.items():
            logits = np.concatenate([self.model.predict_on_batch(x[i:i + self.chunk])
                                     for i in range(0, len(x), self.chunk)]).astype("float64")
            true = np.take_along_axis(logits, y[..., None], -1)[..., 0]
            peak = logits.max(-1)
            log_sum = peak + np.log(np.exp(logits - peak[..., None]).sum(-1))
            figures[f"{split}_error"] = 100 * (logits.argmax(-1) != y).mean(0)
            figures[f"{split}_loss"] = (log_sum - true).mean(0)
        for k, name in enumerate(self.names):
            self.rows.append({"step": step, "copy": k, "name": name,
                              **{metric: values[k] for metric, values in figures.items()}})
        self.seconds += time.perf_counter() - start


@dataclasses.dataclass
class CopiesResult:
    models: list  # the trained copies: ordinary Keras models, in the order of `copies`
    curves: pd.DataFrame  # step, copy, name, train_error, train_loss, test_error, test_loss
    final: pd.DataFrame  # the last row of `curves` for each copy
    steps: int
    wall_seconds: float  # everything: building, compiling, training, scoring
    train_seconds: float  # wall time minus scoring (compilation included)
    started: str  # UTC ISO time the copies began

    @property
    def steps_per_second(self):
        return self.steps / self.train_seconds


def train_copies(copies, recipe, *, verbose=0, callbacks=()):
    """Train every copy for `recipe.epochs * recipe.steps_per_epoch` steps at once; scores after
    every epoch. `recipe.seed` is not used: each copy has its own."""
    _check(copies, recipe)
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    if recipe.deterministic:
        tf.config.experimental.enable_op_determinism()
    models = [build_copy(copy.build, copy.seed) for copy in copies]
    model, write_back = vectorise(models)
    model.compile(recipe.build_optimizer(recipe.steps_per_epoch), summed_crossentropy,
                  jit_compile=recipe.jit_compile, steps_per_execution=recipe.steps_per_execution)
    curves = ErrorCurves(copies)
    model.fit(copies_dataset(copies, recipe.batch_size, recipe.shuffle), epochs=recipe.epochs,
              steps_per_epoch=recipe.steps_per_epoch, verbose=verbose, shuffle=False,
              callbacks=[curves, *callbacks])
    write_back()
    wall = time.perf_counter() - start
    frame = pd.DataFrame(curves.rows)
    return CopiesResult(models, frame, frame.groupby("copy").last().reset_index(),
                        recipe.epochs * recipe.steps_per_epoch, wall, wall - curves.seconds, started)


def _check(copies, recipe):
    if not copies:
        raise ValueError("copies is empty: give at least one Copy")
    if recipe.optimizer not in INDEPENDENT_OPTIMIZERS:
        raise ValueError(f"Recipe optimizer {recipe.optimizer!r} is not supported for copies; use "
                         f"one of {INDEPENDENT_OPTIMIZERS} (per-weight updates keep copies apart)")
    if recipe.steps_per_epoch is None:
        raise ValueError("Recipe.steps_per_epoch is required: the copies' data stream is endless "
                         "and every epoch ends with scoring the copies")
    unsupported = {"l2": recipe.l2, "label_smoothing": recipe.label_smoothing,
                   "mixed_precision": recipe.mixed_precision}
    unsupported = {name: value for name, value in unsupported.items() if value}
    if unsupported:
        raise ValueError(f"Recipe options {unsupported} are not supported by train_copies; "
                         "build them into the network instead")
