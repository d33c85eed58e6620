"""Every network of a CNN lecture as a Keras 3 model, with its documented results reproduced."""

__version__ = "0.1.0"
