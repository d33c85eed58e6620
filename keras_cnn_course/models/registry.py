"""The one registry of networks: what each factory builds, known without building it.

Every entry names the module of its factory, its kind (an image classifier, a 1-D signal
classifier, a segmentation network), its default input shape, its parameter count at the default
arguments (tests/test_models.py builds each one and checks it) and the published weights it can
load. `reference(name)` reads the `Reference:` line of the factory's docstring from the module's
source, so listing the networks imports neither Keras nor TensorFlow.
"""

import ast
import dataclasses
import difflib
import fnmatch
import importlib.util
from pathlib import Path

KINDS = ("classifier", "signal classifier", "segmentation")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One network: `get_model(name)` calls `keras_cnn_course.models.<module>.<name>`."""

    name: str
    module: str
    kind: str
    input_shape: tuple
    params: int
    weights: tuple = ()  # published weights it loads: ("imagenet",) or none
    preprocess: str = ""  # "module:function" mapping RGB in [0, 255] to what those weights expect

    @property
    def reference(self):
        """The `Reference:` line of the factory's docstring."""
        return reference(self.name)


def _entries(module, kind, input_shape, counts, **extra):
    return {name: Entry(name, module, kind, input_shape, params, **extra)
            for name, params in counts.items()}


IMAGENET = ("imagenet",)
ENTRIES = {  # in the order of the lecture
    **_entries("nielsen", "classifier", (28, 28, 1), {  # Nielsen, chapter 6
        "nielsen_shallow": 79_510, "nielsen_basic_conv": 289_630, "nielsen_omit_fc": 29_330,
        "nielsen_dbl_conv": 85_670, "nielsen_dbl_conv_relu": 85_670,
        "nielsen_expanded_data_100": 85_670, "nielsen_expanded_data_300": 215_870,
        "nielsen_expanded_data_1000": 671_570, "nielsen_expanded_data_double_fc_100": 95_770,
        "nielsen_expanded_data_double_fc_300": 306_170,
        "nielsen_expanded_data_double_fc_1000": 1_672_570,
        "nielsen_double_fc_dropout": 1_672_570}),
    **_entries("mnist1d", "signal classifier", (40,), {
        "mnist1d_cnn": 2_050, "mnist1d_fc": 59_065, "mnist1d_mlp": 15_210,
        "mnist1d_benchmark_cnn": 5_210}),
    **_entries("lenet", "classifier", (32, 32, 1), {"lenet5": 61_706}),
    **_entries("alexnet", "classifier", (227, 227, 3), {
        "alexnet": 62_378_344, "alexnet_grouped": 60_965_224}),
    **_entries("vgg", "classifier", (224, 224, 3), {
        "vgg11": 132_863_336, "vgg13": 133_047_848}),
    **_entries("vgg", "classifier", (224, 224, 3), {"vgg16": 138_357_544}, weights=IMAGENET,
               preprocess="keras.applications.vgg16:preprocess_input"),
    **_entries("vgg", "classifier", (224, 224, 3), {"vgg19": 143_667_240}, weights=IMAGENET,
               preprocess="keras.applications.vgg19:preprocess_input"),
    **_entries("efficientnet_lite", "classifier", (224, 224, 3), {
        "efficientnet_lite0": 4_694_024}, weights=IMAGENET,
        preprocess="keras_cnn_course.transfer.imagenet:preprocess_input"),
    **_entries("unet", "segmentation", (572, 572, 1), {"unet": 31_030_658}),
    **_entries("unet", "segmentation", (256, 256, 1), {"unet_same": 31_030_658}),
    **_entries("fcn", "segmentation", (224, 224, 3), {"fcn": 389_205}),
    # keras.applications networks, the transfer study's backbones
    **_entries("applications", "classifier", (224, 224, 3), {
        "mobilenet_v2": 3_538_984}, weights=IMAGENET,
        preprocess="keras.applications.mobilenet_v2:preprocess_input"),
    **_entries("applications", "classifier", (224, 224, 3), {
        "efficientnet_b0": 5_330_571}, weights=IMAGENET,
        preprocess="keras.applications.efficientnet:preprocess_input"),
    **_entries("applications", "classifier", (224, 224, 3), {
        "resnet50": 25_636_712}, weights=IMAGENET,
        preprocess="keras.applications.resnet50:preprocess_input"),
    **_entries("applications", "classifier", (299, 299, 3), {
        "xception": 22_910_480}, weights=IMAGENET,
        preprocess="keras.applications.xception:preprocess_input"),
}
MODULE_PACKAGE = "keras_cnn_course.models"


def close_matches(name, names, what="model"):
    """`name` is unknown: a sentence suggesting the nearest of `names`."""
    matches = difflib.get_close_matches(str(name), list(names), n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(matches)}?" if matches else ""
    return f"unknown {what} {name!r}.{hint} Known {what}s: {', '.join(sorted(names))}."


def entry(name):
    """The entry of `name`; ValueError with the closest names if there is none."""
    if name not in ENTRIES:
        raise ValueError(close_matches(name, ENTRIES))
    return ENTRIES[name]


def list_models(pattern=None, *, weights=None):
    """Names of the registered networks, in the lecture's order.

    `pattern` is a shell-style pattern (`vgg*`, `*net*`); a plain word matches anywhere in the
    name. `weights="imagenet"` keeps the networks that load those published weights.
    """
    if weights is not None and weights not in IMAGENET:
        raise ValueError(f"`weights` must be None or 'imagenet' (the only published weights "
                         f"here); received weights={weights!r}.")
    if pattern is not None and not isinstance(pattern, str):
        raise ValueError("`pattern` must be a string such as 'vgg*'; "
                         f"received pattern={pattern!r}.")
    if pattern and not any(char in pattern for char in "*?["):
        pattern = f"*{pattern}*"
    return [name for name, item in ENTRIES.items()
            if (not pattern or fnmatch.fnmatchcase(name, pattern))
            and (weights is None or weights in item.weights)]


def source_path(name):
    """The file that defines `name`'s factory (found without importing it)."""
    return Path(importlib.util.find_spec(f"{MODULE_PACKAGE}.{entry(name).module}").origin)


def docstring(name):
    """The docstring of `name`'s factory, read from its module's source."""
    tree = ast.parse(source_path(name).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_docstring(node) or ""
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)):
            for keyword in node.value.keywords:  # name = experiment(..., doc="""...""")
                if keyword.arg == "doc" and isinstance(keyword.value, ast.Constant):
                    return keyword.value.value
    return ""


def reference(name):
    """The `Reference:` line of a model's docstring (where the network comes from)."""
    lines = [line.strip() for line in docstring(name).splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("Reference:")), None)
    if start is None:
        return ""
    text = [lines[start][len("Reference:"):].strip()]
    for line in lines[start + 1:]:  # a reference may wrap onto the following lines
        if not line or line.endswith(":"):
            break
        text.append(line)
    return " ".join(text)
