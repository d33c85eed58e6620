"""ImageNet helpers: preprocessing, photo loading, offline class names, `kcc classify` errors."""

import numpy as np
import pytest
from PIL import Image

from keras_cnn_course import cli
from keras_cnn_course.transfer import imagenet


def test_preprocess_input_maps_pixels_as_the_checkpoint_expects():
    x = imagenet.preprocess_input(np.array([0, 127, 255], dtype=np.uint8))
    np.testing.assert_allclose(x, [-127 / 128, 0.0, 1.0])
    assert x.dtype == np.float32


def test_resize_shorter_side_then_centre_crop():
    image = np.zeros((300, 600, 3), np.uint8)
    image[:, 300 - 20:300 + 20] = 255  # a white stripe in the middle
    crop = imagenet.resize_and_center_crop(image)
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    # 600x300 -> 512x256; the stripe (40 px -> ~34 px) stays centred in the crop.
    columns = np.flatnonzero(crop[112, :, 0] > 127)
    assert abs(columns.mean() - 111.5) < 1 and 30 <= len(columns) <= 36
    assert crop[0, 0, 0] == 0


def test_transparent_cutout_is_put_on_white(tmp_path):
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[16:48, 16:48] = (255, 0, 0, 255)  # an opaque red square, transparent elsewhere
    Image.fromarray(rgba, "RGBA").save(tmp_path / "stamp.png")
    image = imagenet.load_image(tmp_path / "stamp.png")
    assert tuple(image[0, 0]) == (255, 255, 255) and tuple(image[112, 112]) == (255, 0, 0)


def test_class_names_ship_with_the_package():
    classes = imagenet.imagenet_classes()
    wnids = [wnid for wnid, _ in classes]
    assert len(classes) == 1000 and wnids == sorted(set(wnids))  # standard order = sorted ids
    assert classes[0] == ("n01440764", "tench, Tinca tinca")
    assert classes[967][1] == "espresso"


def test_decode_predictions_matches_keras_layout():
    preds = np.zeros((2, 1000), np.float32)
    preds[0, [967, 504, 3]] = [0.7, 0.2, 0.1]
    preds[1, 0] = 1.0
    top = imagenet.decode_predictions(preds, top=3)
    assert top[0] == [("n07920052", "espresso", pytest.approx(0.7)),
                      ("n03063599", "coffee mug", pytest.approx(0.2)),
                      ("n01491361", "tiger shark", pytest.approx(0.1))]
    assert top[1][0][1] == "tench"
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\).*\(3, 10\)"):
        imagenet.decode_predictions(np.zeros((3, 10)))


def test_undecodable_image_is_named(tmp_path, capsys):
    bad = tmp_path / "holiday.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(ValueError, match="holiday.jpg: cannot be decoded"):
        imagenet.load_image(bad)
    assert cli.main(["classify", str(bad)]) == 2
    assert "holiday.jpg: cannot be decoded" in capsys.readouterr().err


def test_missing_image_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.png"):
        imagenet.load_image(tmp_path / "nothere.png")


# --- Every kind of image file: the right pixels, or a one-line refusal -------------------------

def centre(path):
    """The RGB value at the centre of the loaded 224x224 crop."""
    return tuple(int(v) for v in imagenet.load_image(path)[112, 112])


@pytest.mark.parametrize("value, expected", [(65535, 255), (32896, 128), (257, 1), (0, 0)])
def test_16_bit_greyscale_is_scaled_to_8_bits(tmp_path, value, expected):
    Image.fromarray(np.full((40, 40), value, np.uint16)).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode == "I;16"
    assert centre(tmp_path / "g16.png") == (expected,) * 3
    Image.fromarray(np.full((40, 40), value, np.int32)).save(tmp_path / "i32.tif")
    assert Image.open(tmp_path / "i32.tif").mode == "I"  # how older Pillow opens 16-bit PNGs
    assert centre(tmp_path / "i32.tif") == (expected,) * 3


def test_16_bit_greyscale_with_a_transparent_grey_is_put_on_white(tmp_path):
    grey = np.full((64, 64), 32896, np.uint16)
    grey[:, :32] = 0  # the transparent grey on the left
    Image.fromarray(grey).save(tmp_path / "g16t.png", transparency=0)
    image = imagenet.load_image(tmp_path / "g16t.png")
    assert tuple(image[112, 5]) == (255, 255, 255) and tuple(image[112, 220]) == (128, 128, 128)


def test_palette_with_a_transparent_index_is_put_on_white(tmp_path):
    indices = np.zeros((64, 64), np.uint8)
    indices[:, 32:] = 1
    palette = Image.fromarray(indices, "L").convert("P")
    palette.putpalette([200, 0, 0, 0, 200, 0])
    palette.save(tmp_path / "p.png", transparency=1)
    image = imagenet.load_image(tmp_path / "p.png")
    assert tuple(image[112, 5]) == (200, 0, 0) and tuple(image[112, 220]) == (255, 255, 255)


@pytest.mark.parametrize("mode, pixel, expected", [
    ("LA", (100, 255), (100, 100, 100)),
    ("LA", (100, 0), (255, 255, 255)),
    ("RGBA", (10, 20, 30, 0), (255, 255, 255)),
    ("RGBA", (10, 20, 30, 255), (10, 20, 30)),
    ("1", 0, (0, 0, 0)),
    ("1", 1, (255, 255, 255)),
    ("L", 128, (128, 128, 128)),
])
def test_alpha_and_bilevel_images(tmp_path, mode, pixel, expected):
    Image.new(mode, (40, 30), pixel).save(tmp_path / "image.png")
    assert centre(tmp_path / "image.png") == expected


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (40, 40), (0, 255, 255, 0)).save(tmp_path / "red.jpg", quality=100)
    assert Image.open(tmp_path / "red.jpg").mode == "CMYK"
    red, green, blue = centre(tmp_path / "red.jpg")
    assert red > 250 and green < 5 and blue < 5


def refused(argv, capsys):
    code = cli.main(["classify", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1  # one line, no traceback
    return err


def test_float_and_32_bit_images_are_refused_in_one_line(tmp_path, capsys, offline_pip):
    Image.fromarray(np.full((40, 40), 0.5, np.float32)).save(tmp_path / "float.tif")
    Image.fromarray(np.full((40, 40), 70_000, np.int32)).save(tmp_path / "deep.tif")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert refused([str(tmp_path / "float.tif"), *cache], capsys) == (
        f"kcc classify: {tmp_path / 'float.tif'}: has 32-bit float pixels (mode F), which have "
        "no standard range; save it with 8 or 16 bits per channel\n")
    assert refused([str(tmp_path / "deep.tif"), *cache], capsys) == (
        f"kcc classify: {tmp_path / 'deep.tif'}: has integer pixels from 70000 to 70000, "
        "outside 16 bits; save it with 8 or 16 bits per channel\n")


@pytest.mark.parametrize("side", [11, 20])  # over the limit (Pillow warns), over twice (it raises)
def test_image_over_pillows_pixel_limit_is_refused_in_one_line(tmp_path, capsys, monkeypatch,
                                                               offline_pip, side):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    Image.new("RGB", (side, side)).save(tmp_path / "big.png")
    assert refused([str(tmp_path / "big.png"), "--cache-dir", str(tmp_path / "cache")],
                   capsys) == (
        f"kcc classify: {tmp_path / 'big.png'}: {side * side} pixels is over Pillow's limit of "
        "100 pixels (PIL.Image.MAX_IMAGE_PIXELS, against decompression bombs); refused unread. "
        "Shrink the image first.\n")
