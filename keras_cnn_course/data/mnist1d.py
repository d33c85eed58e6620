"""MNIST-1D: 4,000 train / 1,000 test sequences of length 40, generated locally and cached.

`mnist1d.data.make_dataset(get_dataset_args())` reseeds numpy's and random's global generators;
this wrapper restores both, so callers' random streams are untouched. The cache is a plain .npz.

Reference: Greydanus & Kobak, "Scaling down deep learning with MNIST-1D" (ICML 2024);
Prince, Understanding Deep Learning, section 10.2.7.
"""

import random
import zipfile

import numpy as np

from keras_cnn_course.data.cache import atomic_path, cache_dir as _cache_dir

KEYS = ("x", "y", "x_test", "y_test")


def load_mnist1d(*, seed=42, num_samples=5000, shuffle_seq=False, cache_dir=None):
    """The MNIST-1D arrays x (N, 40) float64, y (N,) int64, x_test, y_test, for these arguments."""
    if num_samples < 10 or num_samples % 10:
        raise ValueError(f"num_samples must be a positive multiple of 10; got {num_samples}")
    name = f"mnist1d_seed{seed}_n{num_samples}{'_shuffled' if shuffle_seq else ''}.npz"
    path = _cache_dir(cache_dir) / name
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as npz:
                return {key: npz[key] for key in KEYS}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
            raise ValueError(f"corrupt MNIST-1D cache {path} ({error}); delete it and rerun.")
    arrays = make_mnist1d(seed=seed, num_samples=num_samples, shuffle_seq=shuffle_seq)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as file:
            np.savez(file, **arrays)
    return arrays


def make_mnist1d(*, seed=42, num_samples=5000, shuffle_seq=False):
    """Generate the data set with mnist1d, leaving the global random generators as they were."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed, args.num_samples, args.shuffle_seq = seed, num_samples, shuffle_seq
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        dataset = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return {key: np.asarray(dataset[key]) for key in KEYS}
