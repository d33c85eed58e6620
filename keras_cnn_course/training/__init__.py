"""The training engine: a recipe declared as data, one `fit` for every tf.distribute strategy.

    from keras_cnn_course.training import Recipe, fit
    result = fit(build_model, Recipe(optimizer="adam", learning_rate=1e-3, epochs=15),
                 train, validation, test, log_dir="runs/final")
    result.selected["test_accuracy"]  # at the best validation epoch, ties to the later one

Modules load on first use: declaring a Recipe does not start TensorFlow.
"""

from keras_cnn_course import lazy

_EXPORTS = {
    "CustomLoop": "custom_loop", "seed_everything": "determinism", "FitResult": "fit",
    "as_dataset": "fit", "fit": "fit", "read_history": "fit", "Recipe": "recipe",
    "best_index": "selection", "select_epoch": "selection", "selected_metrics": "selection",
    "choose_strategy": "strategy", "configure_cpu_replicas": "strategy",
    "global_batch_size": "strategy", "scaled_learning_rate": "strategy",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy.exports(__name__, _EXPORTS)
