"""Nielsen's chapter-6 MNIST progression: `python -m reproductions.nielsen_mnist`.

`rows.py` declares the study (its claim, the rows and their recipes), `runner.py` trains them on
the shared study runner (`reproductions/study.py`).
"""

from reproductions.nielsen_mnist.rows import ENSEMBLE, ROWS, Row
from reproductions.nielsen_mnist.runner import STUDY, main

__all__ = ["ENSEMBLE", "ROWS", "Row", "STUDY", "main"]
