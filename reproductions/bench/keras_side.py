"""The Keras side of `make bench`: each case's network compiled once, `model.fit` timed by epochs.

The pieces are the training engine's: `Recipe` gives the optimizer, the loss and the dtype policy,
`as_dataset` the tf.data pipeline (autotune off); TF op determinism stays off, as in PyTorch.
Only `reproductions/bench.py` uses this module, in its Keras process.
"""

import platform
import time

import keras
import numpy as np

from keras_cnn_course.models import get_model
from keras_cnn_course.training import Recipe, as_dataset


def versions():
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__}


class KerasRunner:
    """Compiles each case's network once, then times `model.fit` over whole epochs."""

    def __init__(self, arrays):
        keras.utils.set_random_seed(0)
        self.arrays, self.built = arrays, {}

    def _build(self, case):
        recipe = Recipe(optimizer=case["optimizer"], learning_rate=case["learning_rate"],
                        batch_size=case["batch_size"], deterministic=False,
                        mixed_precision=None if case["precision"] == "float32" else "bfloat16",
                        jit_compile=case["jit_compile"],
                        steps_per_execution=case["steps_per_execution"])
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(recipe.dtype_policy)
        try:
            model = get_model(case["model"], classifier_activation=None)
            model.compile(recipe.build_optimizer(case["steps_per_epoch"]),
                          recipe.loss_function(10, from_logits=True),
                          metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
                          jit_compile=recipe.jit_compile,
                          steps_per_execution=recipe.steps_per_execution)
        finally:
            keras.config.set_dtype_policy(previous)
        dataset = as_dataset(self.arrays[case["data"]], case["batch_size"]).repeat()
        return model, dataset

    def parameters(self, model_name):
        return get_model(model_name).count_params()

    def measure(self, case, seconds):
        if case["name"] not in self.built:
            self.built[case["name"]] = self._build(case)
        model, dataset = self.built[case["name"]]
        durations = []

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                durations.append(time.perf_counter() - self.start)
                if sum(durations[1:]) >= seconds:  # the first epoch is the warm-up
                    self.model.stop_training = True

        model.fit(dataset, epochs=10**6, steps_per_epoch=case["steps_per_epoch"],
                  callbacks=[EpochTimer()], verbose=0)
        timed = durations[1:]
        images = case["batch_size"] * case["steps_per_epoch"] * len(timed)
        return {"images_per_second": images / sum(timed), "measured_seconds": sum(timed),
                "epochs": len(timed), "forward_flops": forward_flops(model)}


def forward_flops(model):
    """2 x multiply-adds of the conv and dense layers for one example (pooling, ReLU, biases and
    the loss are left out: they are a small fraction for these nets)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D)):
            positions = int(np.prod(layer.output.shape[1:-1]))
            total += 2 * positions * int(np.prod(layer.kernel.shape))
    return total
