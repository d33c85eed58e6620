"""The training engine: a recipe declared as data, one `fit` for every tf.distribute strategy.

    from keras_cnn_course.training import Recipe, fit
    result = fit(build_model, Recipe(optimizer="adam", learning_rate=1e-3, epochs=15),
                 train, validation, test, log_dir="runs/final")
    result.selected["test_accuracy"]  # at the best validation epoch, ties to the later one

Modules load on first use: declaring a Recipe does not start TensorFlow.
"""

import importlib

_EXPORTS = {
    "CustomLoop": "custom_loop", "seed_everything": "determinism", "FitResult": "fit",
    "as_dataset": "fit", "fit": "fit", "read_history": "fit", "Recipe": "recipe",
    "best_index": "selection", "select_epoch": "selection", "selected_metrics": "selection",
    "choose_strategy": "strategy", "configure_cpu_replicas": "strategy",
    "global_batch_size": "strategy", "scaled_learning_rate": "strategy",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value  # `fit` the function, not the submodule of that name
    return value


def __dir__():
    return __all__
