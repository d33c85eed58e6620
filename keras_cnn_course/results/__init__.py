"""Documented figures vs our runs: the data, the run log, and the generated tables.

    from keras_cnn_course import results
    if ("mnist_row0_shallow", 0, "fast") not in results.completed("nielsen_mnist"):
        result = fit(...)
        results.append_fit("nielsen_mnist", "mnist_row0_shallow", 0, "fast", result)
    results.write_tables(["nielsen_mnist"], readme=results.project_readme())  # and README.md

Modules load on first use, so `kcc --help` stays fast.
"""

import importlib

_EXPORTS = {
    "documented_for": "documented", "load_documented": "documented", "repo_root": "documented",
    "results_dir": "documented",
    "append_fit": "runs", "append_run": "runs", "completed": "runs", "environment": "runs",
    "fit_metrics": "runs", "load_runs": "runs", "results_path": "runs", "write_atomic": "runs",
    "compare": "comparison", "failing": "comparison", "is_reference": "comparison",
    "status": "comparison",
    "project_readme": "pages", "study_markdown": "pages", "write_tables": "pages",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def __dir__():
    return __all__
