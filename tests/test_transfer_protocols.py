"""The documented transfer recipes (`--protocol tf_tutorial / keras_guide / keras_example`): end to
end on stand-ins (TFDS mock data, weights=None, tiny images and epochs), and how they fail offline."""

import dataclasses
import time

import keras
import numpy as np
import pandas as pd
import pytest

from keras_cnn_course import models
from reproductions.transfer import online, runner, sources

PROTOCOLS = ("tf_tutorial", "keras_guide", "keras_example")
# the smallest inputs each backbone takes (Xception: 71)
TINY_SIZE = {"tf_tutorial": 32, "keras_guide": 71, "keras_example": 32}


def tiny(source, unfreeze=None):
    """The source's recipe on stand-ins: no ImageNet weights, tiny images, 1 epoch a stage;
    `unfreeze`: {n: m} replaces a stage's layer count n by m (for a stand-in backbone)."""
    stages = {key: dataclasses.replace(stage, unfreeze=(unfreeze or {}).get(
        stage.unfreeze, stage.unfreeze), recipe=dataclasses.replace(
            stage.recipe, epochs=1, batch_size=4)) for key, stage in source.stages.items()}
    return dataclasses.replace(
        source, weights=None, image_size=TINY_SIZE[source.protocol], batch_size=4, stages=stages,
        limit=8, classes=min(source.classes, 3),
        test_batches_of_validation=2 if source.test_batches_of_validation else 0)


@pytest.fixture
def mock_tfds():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        yield


def stand_in_backbone(include_top=False, weights=None, input_shape=None, input_tensor=None,
                      classes=1000):
    """A 9-layer stand-in for a keras.applications network (convolutions and BatchNorm), for
    speed: the real ones take minutes to trace on a 2-core CPU (see the slow test below)."""
    inputs = input_tensor if input_tensor is not None else keras.Input(input_shape)
    x = inputs
    for filters in (4, 8):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    if include_top:
        x = keras.layers.GlobalAveragePooling2D()(x)
        x = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, x)


def run_protocol(protocol, source, tmp_path, monkeypatch):
    """`python -m reproductions.transfer --protocol PROTOCOL` on TFDS mock data, as if online."""
    if source.classes > 2:  # mock labels range over all 120 breeds: keep 3
        monkeypatch.setattr(online, "load_splits", _three_classes(online.load_splits))
    monkeypatch.setitem(sources.SOURCES, protocol, source)
    monkeypatch.setattr(online, "reachable", lambda host, timeout=None: True)
    results = tmp_path / "results"
    assert runner.main(["--protocol", protocol, "--results-dir", str(results),
                        "--data-dir", str(tmp_path / "tfds")]) == 0
    return results


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_protocol_runs_end_to_end_on_stand_ins(protocol, tmp_path, monkeypatch, mock_tfds,
                                                    restore_op_determinism):
    monkeypatch.setattr(models, "get_model", lambda name, **kwargs: stand_in_backbone(**kwargs))
    source = tiny(sources.SOURCES[protocol], unfreeze={100: 3, -20: -6})
    results = run_protocol(protocol, source, tmp_path, monkeypatch)
    runs = pd.read_csv(results / "transfer.csv")
    assert list(runs["key"]) == list(source.stages) and set(runs["protocol"]) == {protocol}
    assert runs["validation_accuracy"].between(0, 100).all() and (runs["epochs"] == 1).all()
    assert ("test_accuracy" in runs) == (protocol != "keras_example")
    history = pd.read_csv(results / "histories" / "transfer" / f"{protocol}-{protocol}-seed0.csv")
    assert list(dict.fromkeys(history["condition"])) == list(source.stages)
    page = (results / "transfer.md").read_text()
    assert f"| {source.keys[0]} |" in page and "needs download" in page  # the others: not run


@pytest.mark.slow
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_protocol_runs_with_its_real_backbone(protocol, tmp_path, monkeypatch, mock_tfds,
                                                   restore_op_determinism):
    source = tiny(sources.SOURCES[protocol])  # keras.applications, weights=None: minutes
    results = run_protocol(protocol, source, tmp_path, monkeypatch)
    assert list(pd.read_csv(results / "transfer.csv")["key"]) == list(source.stages)


def _three_classes(load_splits):
    def three(source, data_dir=None):
        return [None if split is None else split.map(lambda x, y: (x, y % 3))
                for split in load_splits(source, data_dir)]

    return three


def test_inputs_are_resized_and_preprocessed_as_each_source_says(mock_tfds, monkeypatch):
    monkeypatch.setattr(models, "get_model", lambda name, **kwargs: stand_in_backbone(**kwargs))
    for protocol in PROTOCOLS:
        source = tiny(sources.SOURCES[protocol])
        train, validation, test = online.load_splits(source)
        images, _ = next(iter(train.batch(4)))
        assert images.shape[1:] == (source.image_size, source.image_size, 3)
        assert images.dtype == "float32" and 0 <= float(np.min(images)) <= float(np.max(images)) <= 255
        assert (test is None) == (protocol == "keras_example")
    # tf_tutorial and keras_guide scale [0, 255] to [-1, 1] in the model; keras_example does not
    model = online.frozen_model(tiny(sources.SOURCES["tf_tutorial"]))
    rescaling = next(layer for layer in model.layers if isinstance(layer, keras.layers.Rescaling))
    np.testing.assert_allclose(rescaling(np.array([0.0, 127.5, 255.0])), [-1, 0, 1])
    example = online.frozen_model(tiny(sources.SOURCES["keras_example"]))
    assert example.layers[1] is example.base.layers[1]  # the raw pixels: EfficientNet normalises


def test_which_layers_train():
    model = online.frozen_model(tiny(sources.SOURCES["tf_tutorial"]))  # MobileNetV2
    assert not model.base.trainable and len(model.trainable_weights) == 2  # Dense(1)
    online.unfreeze(model, 100)
    assert not any(layer.trainable for layer in model.base.layers[:100])
    assert all(layer.trainable != isinstance(layer, keras.layers.BatchNormalization)
               for layer in model.base.layers[100:])

    example = online.frozen_model(tiny(sources.SOURCES["keras_example"]))  # EfficientNetB0
    online.unfreeze(example, -20)
    base = {id(layer) for layer in example.base.layers}
    for layer in example.layers[-20:]:  # the base's last layers: all but BatchNorm train
        if id(layer) in base and layer.weights:
            assert layer.trainable != isinstance(layer, keras.layers.BatchNormalization)
    assert not any(layer.trainable for layer in example.layers[:-20] if layer.weights)


def test_batchnorm_of_the_base_stays_in_inference_mode_once_unfrozen(monkeypatch):
    monkeypatch.setattr(models, "get_model", lambda name, **kwargs: stand_in_backbone(**kwargs))
    for protocol in ("tf_tutorial", "keras_guide"):
        source = tiny(sources.SOURCES[protocol])
        model = online.unfreeze(online.frozen_model(source), "all")
        batchnorm = next(layer for layer in model.base.layers
                         if isinstance(layer, keras.layers.BatchNormalization))
        shape = (4, source.image_size, source.image_size, 3)
        x = np.random.default_rng(0).uniform(0, 255, shape).astype("float32")
        model.compile("adam", "binary_crossentropy")
        model.train_on_batch(x, np.array([0, 1, 0, 1]))
        # in training mode one step would move them by 1% of the batch statistics
        np.testing.assert_array_equal(batchnorm.moving_variance.numpy(), 1.0)
        np.testing.assert_array_equal(batchnorm.moving_mean.numpy(), 0.0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_offline_each_protocol_stops_in_one_line_and_writes_nothing(protocol, tmp_path,
                                                                    monkeypatch, capsys):
    monkeypatch.setattr(online, "reachable", lambda host, timeout=None: False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    results = tmp_path / "results"
    start = time.monotonic()
    assert runner.main(["--protocol", protocol, "--results-dir", str(results),
                        "--data-dir", str(tmp_path / "tfds")]) == 2
    assert time.monotonic() - start < 30
    error = capsys.readouterr().err.strip()
    source = sources.SOURCES[protocol]
    assert "\n" not in error and f"tfds build {source.dataset} --data_dir DIR" in error
    assert source.weights_file in error and "--weights PATH" in error
    assert not results.exists() and not (tmp_path / "tfds").exists()


def test_the_real_offline_check_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    start = time.monotonic()
    missing = online.missing_downloads(sources.SOURCES["keras_guide"], str(tmp_path / "tfds"))
    assert time.monotonic() - start < 30 and len(missing) in (0, 2)  # 0 where there is internet


def test_a_partial_tfds_directory_is_refused(tmp_path):
    import json

    version = tmp_path / "cats_vs_dogs" / "4.0.1"
    version.mkdir(parents=True)
    shard = "cats_vs_dogs-train.tfrecord-{:05d}-of-00002"
    (version / shard.format(0)).write_bytes(b"records")
    with pytest.raises(ValueError, match=r"4.0.1 is a partial TFDS download \(no dataset_info"):
        online.dataset_ready("cats_vs_dogs", str(tmp_path))
    info = {"name": "cats_vs_dogs", "splits": [{"name": "train", "shardLengths": ["10", "10"]}]}
    (version / "dataset_info.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match=r"incomplete: 1 of 2 shard files missing or empty "
                       r"\(cats_vs_dogs-train.tfrecord-00001-of-00002\).*tfds build cats_vs_dogs"):
        online.dataset_ready("cats_vs_dogs", str(tmp_path))
    (version / shard.format(1)).write_bytes(b"records")
    assert online.dataset_ready("cats_vs_dogs", str(tmp_path))
    assert not online.dataset_ready("cats_vs_dogs", str(tmp_path / "empty"))


def test_an_unknown_protocol_lists_the_known_ones(capsys):
    with pytest.raises(SystemExit):
        runner.main(["--protocol", "tf_tutoral"])
    error = capsys.readouterr().err
    assert "tf_tutoral" in error and all(name in error for name in ("offline", *PROTOCOLS))


def test_quick_is_the_offline_protocols_only(capsys):
    assert runner.main(["--quick", "--protocol", "keras_guide"]) == 2
    assert "--quick is the offline protocol's smoke test" in capsys.readouterr().err


def test_a_paired_gain_is_judged_by_its_95_percent_interval():
    from scipy import stats

    from keras_cnn_course.results.comparison import interval_status, t_interval

    low, high = t_interval([1.0, 2.0, 6.0])
    expected = stats.t.interval(0.95, 2, loc=3.0, scale=stats.sem([1.0, 2.0, 6.0]))
    np.testing.assert_allclose((low, high), expected)
    assert interval_status((0.5, 3.0), 0, "higher") == "above"
    assert interval_status((-0.8, 1.6), 0, "higher") == "not shown"  # +0.4 ± 0.49, n = 3
    assert interval_status((-3.0, -0.1), 0, "higher") == "miss"
    assert interval_status(None, 0, "higher") == "not shown"  # one run: no interval


def test_compare_passes_the_reference_and_fails_on_a_real_miss(results_copy, capsys):
    from keras_cnn_course import cli
    from keras_cnn_course.results import comparison

    reference = comparison.compare("transfer")
    assert set(reference.loc[reference["key"].str.startswith(PROTOCOLS), "status"]) == {
        comparison.NEEDS_DOWNLOAD}
    assert not comparison.failing(reference)
    assert cli.main(["compare", "transfer"]) == 0
    runs = pd.read_csv(results_copy / "transfer.csv")
    gain = runs["key"] == "photos_frozen_gain"
    runs.loc[gain, "accuracy_gain"] = -runs.loc[gain, "accuracy_gain"]  # scratch wins every fold
    runs.to_csv(results_copy / "transfer.csv", index=False)
    mine = comparison.compare("transfer", results_copy)
    assert mine.set_index("key").loc["photos_frozen_gain", "status"] == "miss"
    assert cli.main(["compare", "transfer", "--results-dir", str(results_copy)]) == 1
    capsys.readouterr()
