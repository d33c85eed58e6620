"""The MNIST-1D study of Understanding Deep Learning: `python -m reproductions.mnist1d`.

`rows.py` declares the study (its claim, the rows and their recipes), `runner.py` trains them on
the shared study runner (`reproductions/study.py`).
"""

from reproductions.mnist1d.rows import ROWS, Row
from reproductions.mnist1d.runner import STUDY, main

__all__ = ["ROWS", "Row", "STUDY", "main"]
