"""Where the package runs from: a clone of the project, or an installed copy.

A clone has `reproductions/` (the studies, which run only there) and `results/` (the package's
reference results, which a clone rewrites). An installed package carries the reference CSVs as
`keras_cnn_course/reference/` and its own metadata: version and repository URL (setup.cfg).
"""

import os
from importlib import metadata
from pathlib import Path

ROOT_ENV = "KCC_ROOT"
DISTRIBUTION = "keras_cnn_course"


def is_clone(root):
    """True when `root` is a clone of the project (it has reproductions/ and results/)."""
    return (Path(root) / "reproductions").is_dir() and (Path(root) / "results").is_dir()


def clone_root(root=None):
    """The clone the package runs from: `root`, else $KCC_ROOT (either must be a clone), else the
    directory above the package when it is one; None for an installed package."""
    given = root or os.environ.get(ROOT_ENV)
    if given and not is_clone(given):
        raise FileNotFoundError(
            f"{ROOT_ENV}={given} (or root=...) is no clone of the project: it lacks reproductions/ "
            f"or results/; point it at a clone, or unset {ROOT_ENV}")
    candidate = Path(given) if given else Path(__file__).resolve().parents[1]
    return candidate if is_clone(candidate) else None


def repo_root(root=None):
    """The project clone (see clone_root); FileNotFoundError saying how to get one."""
    found = clone_root(root)
    if found is None:
        raise FileNotFoundError(f"this needs a clone of the project: {clone_hint()}")
    return found


def version():
    """The installed distribution's version (the package's own when it is not installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from keras_cnn_course import __version__

        return __version__


def repository_url():
    """The project's repository (setup.cfg `url`), from the installed metadata."""
    try:
        return metadata.metadata(DISTRIBUTION)["Home-page"]
    except metadata.PackageNotFoundError:
        return None


def clone_hint():
    """One line: how to get a clone (git clone URL && cd keras_cnn_course && make install)."""
    url = repository_url() or "the project's repository"
    return (f"git clone {url} && cd keras_cnn_course && make install "
            f"(or set {ROOT_ENV}=/path/to/a/clone)")
