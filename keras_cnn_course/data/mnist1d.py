"""MNIST-1D: 4,000 train / 1,000 test sequences of length 40, generated locally and cached.

`mnist1d.data.make_dataset(get_dataset_args())` reseeds numpy's and random's global generators;
this wrapper restores both, so callers' random streams are untouched. The cache is a plain .npz
holding the arrays and their sha256 (`sha256`, one per key); every load checks the arrays'
dtypes, shapes and hashes, and a cache that fails is refused, never used.

Reference: Greydanus & Kobak, "Scaling down deep learning with MNIST-1D" (ICML 2024);
Prince, Understanding Deep Learning, section 10.2.7.
"""

import random
import zipfile

import numpy as np

from keras_cnn_course.data.cache import (
    ChecksumError, atomic_path, cache_dir as _cache_dir, sha256_bytes,
)

KEYS = ("x", "y", "x_test", "y_test")
SEQUENCE_LENGTH = 40
TRAIN_SPLIT = 0.8  # mnist1d's default
KNOWN_SHA256 = {  # (seed, num_samples, shuffle_seq) -> sha256 of each array's .tobytes()
    (42, 5000, False): {
        "x": "89a7b3e18f98b44cc3a3e938b917d4b08c41fe363cc719fb43c795c5ddf260cb",
        "y": "d97dc7aecec8ad6b5d8f143ba3e9c4bd7e25c420d7dfc2eb990591cfc0ed3e15",
        "x_test": "66fbca3b44b0a79875da480640fcf4b9e66e87293148162b230bb191ef6553f9",
        "y_test": "8de99be3ff9dab15ae0dc072c3d6ced7cf6b33d365888ce4a386fc944489452c",
    },
    (42, 5000, True): {
        "x": "6b4cf3855662d5157a7d5555da60cfe67cefd822b39f56fbe392bc3881b1be50",
        "y": "d97dc7aecec8ad6b5d8f143ba3e9c4bd7e25c420d7dfc2eb990591cfc0ed3e15",
        "x_test": "5f7730145a2c321278f84efce1d59e6aef68ed9bc8ffa008ffd9ef56d47d5957",
        "y_test": "8de99be3ff9dab15ae0dc072c3d6ced7cf6b33d365888ce4a386fc944489452c",
    },
}


def load_mnist1d(*, seed=42, num_samples=5000, shuffle_seq=False, cache_dir=None):
    """The MNIST-1D arrays x (N, 40) float64, y (N,) int64, x_test, y_test, for these arguments."""
    if num_samples < 10 or num_samples % 10:
        raise ValueError(f"num_samples must be a positive multiple of 10; got {num_samples}")
    name = f"mnist1d_seed{seed}_n{num_samples}{'_shuffled' if shuffle_seq else ''}.npz"
    path = _cache_dir(cache_dir) / name
    args = dict(seed=seed, num_samples=num_samples, shuffle_seq=shuffle_seq)
    if path.exists():
        return read_verified(path, **args)
    arrays = make_mnist1d(**args)
    hashes = [sha256_of(arrays[key]) for key in KEYS]
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as file:
            np.savez(file, **arrays, sha256=np.array(hashes))
    return arrays


def sha256_of(array):
    return sha256_bytes(np.ascontiguousarray(array).tobytes())


def expected_shapes(num_samples):
    """{key: (dtype, shape)} of the arrays `make_mnist1d(num_samples=...)` returns."""
    train = int(num_samples * TRAIN_SPLIT)
    test = num_samples - train
    return {"x": (np.float64, (train, SEQUENCE_LENGTH)), "y": (np.int64, (train,)),
            "x_test": (np.float64, (test, SEQUENCE_LENGTH)), "y_test": (np.int64, (test,))}


def read_verified(path, *, seed, num_samples, shuffle_seq):
    """The cached arrays, if their dtypes, shapes and sha256 are right; else ChecksumError.

    The hashes are those stored in the file, else the known ones for these arguments; a file
    with neither is compared with the arrays generated afresh.
    """
    fix = "delete it and rerun (it is regenerated in a few seconds)"
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in KEYS}
            stored = dict(zip(KEYS, npz["sha256"].tolist())) if "sha256" in npz.files else None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise ChecksumError(f"corrupt MNIST-1D cache {path} ({error}); {fix}.") from None
    for key, (dtype, shape) in expected_shapes(num_samples).items():
        array = arrays[key]
        if array.dtype != dtype or array.shape != shape:
            raise ChecksumError(f"corrupt MNIST-1D cache {path}: {key} is {array.dtype} "
                                f"{array.shape}, expected {np.dtype(dtype)} {shape}; {fix}.")
    expected = stored or KNOWN_SHA256.get((seed, num_samples, shuffle_seq))
    if expected is None:
        fresh = make_mnist1d(seed=seed, num_samples=num_samples, shuffle_seq=shuffle_seq)
        expected = {key: sha256_of(fresh[key]) for key in KEYS}
    for key in KEYS:
        actual = sha256_of(arrays[key])
        if actual != expected.get(key):
            raise ChecksumError(f"corrupt MNIST-1D cache {path}: {key} has sha256 {actual}, "
                                f"expected {expected.get(key)}; {fix}.")
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
    arrays = {key: np.asarray(dataset[key]) for key in KEYS}
    arrays["y"], arrays["y_test"] = arrays["y"].astype(np.int64), arrays["y_test"].astype(np.int64)
    return arrays
