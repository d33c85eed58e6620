"""The lecture's data sets, offline and verified: MNIST (Nielsen's split, expanded, augmented),
MNIST-1D, and MNIST through TensorFlow Datasets (`nielsen_mnist`).

    from keras_cnn_course import data
    splits = data.load_mnist()                  # uint8 arrays, 50k / 10k / 10k
    train = data.mnist_dataset("train", 128, shuffle_seed=0, augment=True)

Importing it registers the `nielsen_mnist` builder with TensorFlow Datasets.
"""

import difflib

from keras_cnn_course.data.augment import augmentation
from keras_cnn_course.data.cache import ChecksumError, cache_dir
from keras_cnn_course.data.expand import expand_mnist
from keras_cnn_course.data.mnist import MnistSplits, fetch_mnist, load_mnist
from keras_cnn_course.data.mnist1d import load_mnist1d
from keras_cnn_course.data.pipelines import arrays_dataset, gathered_batches, mnist_dataset
from keras_cnn_course.data.tfds_nielsen_mnist import NielsenMnist, prepare_tfds

LOADERS = {"mnist": load_mnist, "mnist1d": load_mnist1d}


def load(name, **kwargs):
    """Load a data set by name: "mnist" (Nielsen's split) or "mnist1d"."""
    if name not in LOADERS:
        close = difflib.get_close_matches(str(name), LOADERS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(LOADERS)}.{hint}")
    return LOADERS[name](**kwargs)

__all__ = [
    "ChecksumError", "LOADERS", "MnistSplits", "NielsenMnist", "arrays_dataset", "augmentation",
    "cache_dir", "expand_mnist", "fetch_mnist", "gathered_batches", "load", "load_mnist",
    "load_mnist1d", "mnist_dataset", "prepare_tfds",
]
