"""Real images for the transfer-learning study, offline, from Debian packages fetched with apt.

- Photo stamps of Tux Paint (`tuxpaint-stamps-default`, GPL-2): real photographs cut out on a
  transparent background, in labelled folders. We take six classes with at least 17 photos each,
  leave out the cartoon sub-folders and mirrored duplicates, and keep 224x224 crops on white.
- Fashion-MNIST (`dataset-fashion-mnist`, MIT/Expat, Zalando): 60,000 / 10,000 28x28 grey images;
  the decompressed IDX files are checked against their sha256.

`apt-get download` (bounded in time, see `keras_cnn_course.fetch`) and `dpkg-deb -x` need no root.
The arrays are cached as .npz (no pickle) and the unpacked package is then removed.
"""

import gzip
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from keras_cnn_course import fetch
from keras_cnn_course.transfer.weights import resolve_cache_dir, check_sha256

APT_TIMEOUT = 600  # seconds in all while the download grows; the stamps package is 161 MB
STAMPS_PACKAGE = "tuxpaint-stamps-default"
STAMPS_ROOT = "usr/share/tuxpaint/stamps"
PHOTO_CLASSES = {  # class -> folder under STAMPS_ROOT (photos in it and its sub-folders)
    "bird": "animals/birds", "mammal": "animals/mammals", "flower": "plants/flowers",
    "fruit": "food/fruit", "vegetable": "food/vegetables", "vehicle": "vehicles",
}
FASHION_PACKAGE = "dataset-fashion-mnist"
FASHION_ROOT = "usr/share/datasets/fashion-mnist"
FASHION_SHA256 = {  # of the decompressed IDX files
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


def apt_extract(package, cache_dir=None, timeout=APT_TIMEOUT):
    """The files of a Debian package, fetched with `apt-get download` and unpacked (no root).

    Offline, apt gives up within `fetch.FETCH_TIMEOUT` s; a download that goes on growing may
    take up to `timeout` s.
    """
    target = resolve_cache_dir(cache_dir) / "deb" / package
    if target.is_dir():
        return target
    fix = (f"Where the Debian archive is reachable run `apt-get download {package}`, copy the .deb "
           f"here and run `dpkg-deb -x FILE.deb {target}` (without dpkg: `ar x FILE.deb` and "
           f"`tar xf data.tar.xz -C {target}`).")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{package}.") as temporary:
        try:
            fetch.run_while_growing(["apt-get", "download", *fetch.apt_options(), package],
                                    temporary, timeout=timeout)
            (deb,) = Path(temporary).glob("*.deb")
            subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(temporary) / "root")],
                           check=True, timeout=timeout, capture_output=True)
        except FileNotFoundError as error:
            raise FileNotFoundError(f"{error.filename} is not installed. {fix}") from None
        except subprocess.TimeoutExpired as error:
            raise ConnectionError(f"apt-get could not fetch {package}: stopped after "
                                  f"{error.timeout} s ({fetch.FETCH_TIMEOUT} s without progress or "
                                  f"{timeout} s in all). {fix}") from None
        except subprocess.CalledProcessError as error:
            raise ConnectionError(f"fetching {package} failed ({_last_error(error.stderr)}). "
                                  f"{fix}") from None
        (Path(temporary) / "root").rename(target)  # complete, or not there at all
    return target


def _last_error(stderr):
    """The last "E:" line of apt's or dpkg's messages, else the last line."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E:")] or lines or ["no message"]
    return errors[-1]


def photo_paths(stamps_dir):
    """{class: sorted photo paths}: PNG photos, without cartoon folders and mirrored copies."""
    paths = {}
    for name, folder in PHOTO_CLASSES.items():
        found = sorted(p for p in (Path(stamps_dir) / folder).rglob("*.png")
                       if "cartoon" not in p.parts and "_mirror" not in p.stem)
        paths[name] = found
    return paths


def load_cutout(path, size):
    """A cut-out photo, whole: centred on a white square, then resized to size x size."""
    from PIL import Image

    from keras_cnn_course.transfer.imagenet import to_rgb

    with Image.open(path) as image:
        image = to_rgb(image)
    side = max(image.size)
    square = Image.new("RGB", (side, side), (255, 255, 255))
    square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return np.asarray(square.resize((size, size), Image.BILINEAR), dtype=np.uint8)


def load_photo_stamps(size=224, cache_dir=None):
    """Tux Paint's photo stamps: dict(x uint8 (N, size, size, 3), y int64, classes, names)."""
    cached = resolve_cache_dir(cache_dir) / f"photo_stamps_{size}.npz"
    if not cached.exists():
        package_dir = apt_extract(STAMPS_PACKAGE, cache_dir)
        stamps = package_dir / STAMPS_ROOT
        images, labels, names = [], [], []
        for label, (_, paths) in enumerate(photo_paths(stamps).items()):
            for path in paths:
                images.append(load_cutout(path, size))
                labels.append(label)
                names.append(str(path.relative_to(stamps)))
        _save_npz(cached, x=np.stack(images), y=np.array(labels), names=np.array(names),
                  classes=np.array(list(PHOTO_CLASSES)))
        shutil.rmtree(package_dir)
    with np.load(cached) as data:
        return {"x": data["x"], "y": data["y"].astype(np.int64),
                "classes": tuple(map(str, data["classes"])), "names": tuple(map(str, data["names"]))}


def _read_idx(data):
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_fashion_mnist(cache_dir=None):
    """Fashion-MNIST as ((x_train, y_train), (x_test, y_test)), uint8 28x28 and int64 labels."""
    cached = resolve_cache_dir(cache_dir) / "fashion_mnist.npz"
    if not cached.exists():
        package_dir = apt_extract(FASHION_PACKAGE, cache_dir)
        root = package_dir / FASHION_ROOT
        arrays = {}
        for name, expected in FASHION_SHA256.items():
            data = gzip.decompress((root / f"{name}.gz").read_bytes())
            check_sha256(data, expected, root / f"{name}.gz",
                         f"Delete {root} and run again to fetch {FASHION_PACKAGE} afresh.")
            arrays[name.split("-idx")[0].replace("-", "_")] = _read_idx(data)
        _save_npz(cached, **arrays)
        shutil.rmtree(package_dir)
    with np.load(cached) as data:
        return ((data["train_images"], data["train_labels"].astype(np.int64)),
                (data["t10k_images"], data["t10k_labels"].astype(np.int64)))


def _save_npz(path, **arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp.npz")
    np.savez_compressed(temporary, **arrays)
    temporary.replace(path)
