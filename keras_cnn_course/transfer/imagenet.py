"""ImageNet inputs and outputs for EfficientNet-Lite0: load a photo, preprocess, decode classes.

Preprocessing as the Lite checkpoints were trained: RGB, shorter side resized to 256, centre crop
224x224, then (x - 127) / 128. The 1,000 class names ship with the package
(`imagenet_classes.txt`), so `decode_predictions` works offline, unlike Keras' own, which
downloads its class index.
"""

import functools
import re
import warnings
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
    """RGB image of any Pillow mode; transparent parts (e.g. photo cut-outs) are put on white.

    16-bit greyscale ("I;16*", and "I", as 16-bit PNGs open in older Pillow) is scaled from
    0..65535 to 0..255. Float images ("F") have no standard range and are refused (ValueError),
    as are integer images outside 16 bits.
    """
    from PIL import Image

    if image.mode == "F":
        raise ValueError("has 32-bit float pixels (mode F), which have no standard range; save "
                         "it with 8 or 16 bits per channel")
    if image.mode == "I" or image.mode.startswith("I;16"):
        image = _sixteen_bit_to_8(image)
    try:
        if image.has_transparency_data:
            white = Image.new("RGBA", image.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
        return image.convert("RGB")
    except ValueError as error:
        raise ValueError(f"has pixels of mode {image.mode}, which cannot be made RGB ({error}); "
                         "save it as 8-bit RGB or greyscale") from None


def _sixteen_bit_to_8(image):
    """A 16-bit greyscale image as 8-bit "L" (rounded), or "LA" if one grey is transparent."""
    from PIL import Image

    values = np.asarray(image).astype(np.int64)
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    if low < 0 or high > 65535:
        raise ValueError(f"has integer pixels from {low} to {high}, outside 16 bits; save it "
                         "with 8 or 16 bits per channel")
    grey = Image.fromarray(((values * 255 + 32767) // 65535).astype(np.uint8), "L")
    if "transparency" not in image.info:
        return grey
    alpha = np.where(values == image.info["transparency"], 0, 255).astype(np.uint8)
    return Image.merge("LA", (grey, Image.fromarray(alpha, "L")))


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
    """Read an image file as uint8 (size, size, 3), ready for `preprocess_input`.

    Images over Pillow's decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`) are refused
    before they are decoded; every refusal is a one-line ValueError naming the file.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked here
            with Image.open(path) as image:
                pixels = image.width * image.height
                if Image.MAX_IMAGE_PIXELS is not None and pixels > Image.MAX_IMAGE_PIXELS:
                    raise ValueError(_too_many_pixels(path, pixels))
                try:
                    image.load()
                    rgb = to_rgb(image)
                except ValueError as error:
                    raise ValueError(f"{path}: {error}") from None
    except Image.DecompressionBombError as error:  # over twice the limit: refused at open
        found = re.search(r"\((\d+) pixels\)", str(error))
        raise ValueError(_too_many_pixels(path, int(found[1]) if found else None)) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path}: cannot be decoded as an image ({error}); give a JPEG, PNG, "
                         "GIF, BMP, TIFF or WebP file") from None
    return resize_and_center_crop(rgb, size, resize_to)


def _too_many_pixels(path, pixels):
    from PIL import Image

    count = f"{pixels:,} pixels is" if pixels is not None else "its size is"
    return (f"{path}: {count} over Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} pixels "
            "(PIL.Image.MAX_IMAGE_PIXELS, against decompression bombs); refused unread. Shrink "
            "the image first.")


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
