"""Transfer learning from ImageNet on real images, offline: `python -m reproductions.transfer`.

`conditions.py` declares the study (its claim, the training sets and the conditions' recipes),
`runner.py` trains them on the shared study runner (`reproductions/study.py`), `report.py` draws
its figures. `sources.py` declares the documented recipes (`--protocol tf_tutorial`,
`keras_guide`, `keras_example`: they download their data and weights), `online.py` runs them.

Names load on first use: `python -m reproductions.transfer` starts light.
"""

from keras_cnn_course import lazy

EXPORTS = {"CONDITIONS": "conditions", "ROWS": "conditions", "STUDY": "runner", "main": "runner"}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy.exports(__name__, EXPORTS)
