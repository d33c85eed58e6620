"""Keras vs PyTorch training speed on this machine: `python -m reproductions.bench` (`run.py`).

`keras_side.py` and `torch_side.py` time one framework each in its own process, `load.py` measures
the other work on the machine, `report.py` writes results/bench.{csv,md}; `recipe_defaults.py`
measures the Recipe defaults (mixed precision) on this CPU.
"""
