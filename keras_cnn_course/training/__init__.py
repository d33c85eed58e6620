"""The training engine: a recipe declared as data, one `fit` for every tf.distribute strategy.

    from keras_cnn_course.training import Recipe, fit
    result = fit(build_model, Recipe(optimizer="adam", learning_rate=1e-3, epochs=15),
                 train, validation, test, log_dir="runs/final")
    result.selected["test_accuracy"]  # at the best validation epoch, ties to the later one
"""

from keras_cnn_course.training.custom_loop import CustomLoop
from keras_cnn_course.training.determinism import seed_everything
from keras_cnn_course.training.fit import FitResult, as_dataset, fit, read_history
from keras_cnn_course.training.recipe import Recipe
from keras_cnn_course.training.selection import best_index, select_epoch, selected_metrics
from keras_cnn_course.training.strategy import (
    choose_strategy,
    configure_cpu_replicas,
    global_batch_size,
    scaled_learning_rate,
)

__all__ = [
    "CustomLoop", "FitResult", "Recipe", "as_dataset", "best_index", "choose_strategy",
    "configure_cpu_replicas", "fit", "global_batch_size", "read_history", "scaled_learning_rate",
    "seed_everything", "select_epoch", "selected_metrics",
]
