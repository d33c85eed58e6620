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
