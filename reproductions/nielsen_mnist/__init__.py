"""Nielsen's chapter-6 MNIST progression: `python -m reproductions.nielsen_mnist`.

`rows.py` declares the study (its claim, the rows and their recipes), `runner.py` trains them on
the shared study runner (`reproductions/study.py`).

Names load on first use: `python -m reproductions.nielsen_mnist` starts light.
"""

from keras_cnn_course import lazy

EXPORTS = {"ENSEMBLE": "rows", "ROWS": "rows", "Row": "rows", "STUDY": "runner", "main": "runner"}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy.exports(__name__, EXPORTS)
