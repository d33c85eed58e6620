"""Transfer learning from ImageNet on real images, offline: `python -m reproductions.transfer`.

`conditions.py` declares the study (its claim, the training sets and the conditions' recipes),
`runner.py` trains them on the shared study runner (`reproductions/study.py`), `report.py` draws
its figures. `sources.py` declares the documented recipes (`--protocol tf_tutorial`,
`keras_guide`, `keras_example`: they download their data and weights), `online.py` runs them.
"""

from reproductions.transfer.conditions import CONDITIONS, ROWS
from reproductions.transfer.runner import STUDY, main

__all__ = ["CONDITIONS", "ROWS", "STUDY", "main"]
