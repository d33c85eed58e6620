"""ImageNet inputs and outputs for EfficientNet-Lite0: load a photo, preprocess, decode classes.

Preprocessing as the Lite checkpoints were trained: RGB, shorter side resized to 256, centre crop
224x224, then (x - 127) / 128. The 1,000 class names ship with the package
(`imagenet_classes.txt`), so `decode_predictions` works offline, unlike Keras' own, which
downloads its class index.
"""

import functools
from importlib import resources
from pathlib import Path

import numpy as np

IMAGE_SIZE = 224
RESIZE_TO = 256
MEAN, STD = 127.0, 128.0


def preprocess_input(x):
    """Scale RGB pixels in [0, 255] to about [-1, 1]: (x - 127) / 128, as float32."""
    if isinstance(x, np.ndarray) or not hasattr(x, "dtype"):
        x = np.asarray(x, dtype="float32")
    else:
        import keras

        x = keras.ops.cast(x, "float32")
    return (x - MEAN) / STD


def to_rgb(image):
    """RGB image; transparent parts (e.g. photo cut-outs) are put on a white background."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def resize_and_center_crop(image, size=IMAGE_SIZE, resize_to=RESIZE_TO):
    """Resize the shorter side to `resize_to` (bilinear), then cut the central `size` square.

    `image` is a PIL image or a uint8 array (H, W, 3); returns uint8 (size, size, 3).
    """
    from PIL import Image

    if size > resize_to:
        raise ValueError(f"`size` ({size}) must not exceed `resize_to` ({resize_to})")
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.asarray(image, dtype=np.uint8))
    image = to_rgb(image)
    width, height = image.size
    scale = resize_to / min(width, height)
    new_size = (max(resize_to, int(width * scale)), max(resize_to, int(height * scale)))
    image = image.resize(new_size, Image.BILINEAR)
    left = int(round((new_size[0] - size) / 2.0))
    top = int(round((new_size[1] - size) / 2.0))
    return np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)


def load_image(path, size=IMAGE_SIZE, resize_to=RESIZE_TO):
    """Read an image file as uint8 (size, size, 3), ready for `preprocess_input`."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        with Image.open(path) as image:
            image.load()
            return resize_and_center_crop(image, size, resize_to)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path}: cannot be decoded as an image ({error}); give a JPEG, PNG, "
                         "GIF, BMP, TIFF or WebP file") from None


@functools.cache
def imagenet_classes():
    """The 1,000 ImageNet classes in index order, as (WordNet id, synonyms) pairs."""
    text = resources.files(__package__).joinpath("imagenet_classes.txt").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return tuple((wnid, synonyms) for wnid, synonyms in rows)


def decode_predictions(preds, top=5):
    """Top classes per image, as `keras.applications` returns them: (wnid, name, score).

    `preds` is (batch, 1000) probabilities or logits; `name` is the first WordNet synonym.
    """
    preds = np.asarray(preds)
    classes = imagenet_classes()
    if preds.ndim != 2 or preds.shape[1] != len(classes):
        raise ValueError("`decode_predictions` expects a batch of predictions of shape "
                         f"(samples, {len(classes)}). Received: shape={preds.shape}")
    order = np.argsort(-preds, axis=1, kind="stable")[:, :top]
    return [[(classes[i][0], classes[i][1].split(", ")[0], float(row[i])) for i in indices]
            for row, indices in zip(preds, order)]
