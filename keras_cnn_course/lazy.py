"""Package attributes that import their module on first use: `import package` stays light."""

import importlib
import sys


def exports(package, names):
    """`(__getattr__, __dir__)` for `package`, exporting each of `names` ({name: submodule})."""

    def __getattr__(name):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        setattr(sys.modules[package], name, value)  # the value, not a submodule of that name
        return value

    def __dir__():
        return sorted(names)

    return __getattr__, __dir__
