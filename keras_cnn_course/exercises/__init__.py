"""Checks for the exercises of the notebooks in notebooks/, one module per notebook.

    from keras_cnn_course.exercises import lecture000 as check
    check.cross_correlation(my_correlate)   # "✓ ..." or ExerciseError saying what is wrong

Every check compares the answer with the package's own oracle (keras_cnn_course.lecture, the
model factories), on inputs the student did not choose, and never prints the solution.
"""

from keras_cnn_course.exercises.checker import ExerciseError, short_mode

__all__ = ["ExerciseError", "short_mode"]
