"""The MNIST-1D study of Understanding Deep Learning: `python -m reproductions.mnist1d`.

`rows.py` declares the study (its claim, the rows and their recipes), `runner.py` trains them on
the shared study runner (`reproductions/study.py`).

Names load on first use: `python -m reproductions.mnist1d` starts light.
"""

from keras_cnn_course import lazy

EXPORTS = {"ROWS": "rows", "Row": "rows", "STUDY": "runner", "main": "runner"}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy.exports(__name__, EXPORTS)
