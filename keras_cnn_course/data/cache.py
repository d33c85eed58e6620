"""Where downloaded and derived data live, and how they are written and checked.

The cache directory is, in order of precedence: the `cache_dir` argument, the environment
variable `KCC_CACHE_DIR`, or `~/.cache/keras_cnn_course` (`$XDG_CACHE_HOME` respected).
"""

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from keras_cnn_course.fetch import sha256_file  # noqa: F401  (re-exported for data/)

CACHE_ENV = "KCC_CACHE_DIR"


class ChecksumError(ValueError):
    """A file or array whose sha256 is not the one expected; it is never used."""


def cache_dir(cache_dir=None):
    """The cache directory (created if needed)."""
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or (
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "keras_cnn_course"
        )
    path = Path(cache_dir).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def check_sha256(actual, expected, what, fix):
    if actual != expected:
        raise ChecksumError(
            f"{what}: sha256 {actual} does not match the expected {expected}; it was not used. {fix}"
        )


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; it becomes `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's private 0600 would otherwise stick
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
