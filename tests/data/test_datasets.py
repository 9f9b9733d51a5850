"""Named datasets and dataset paths (tiny files written into tmp_path)."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.data import FASHION_MNIST_CLASSES, load_dataset, write_idx
from numnet.data import datasets as datasets_module
from numnet.errors import DataError
from tests.data.csv_files import tiny_train, write_csv


def _write_idx_set(directory, n_train=7, n_test=3, side=5, gz=True, dotted=False):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        sep = "." if dotted else "-"
        suffix = ".gz" if gz else ""
        write_idx(directory / f"{split}-images{sep}idx3-ubyte{suffix}", images)
        write_idx(directory / f"{split}-labels{sep}idx1-ubyte{suffix}", labels)
        arrays[split] = (images, labels)
    return arrays


@pytest.fixture
def no_system_data(monkeypatch, tmp_path):
    empty = tmp_path / "system"
    empty.mkdir()
    monkeypatch.setattr(datasets_module, "SYSTEM_DATA_DIRS", (empty,))
    monkeypatch.delenv("NUMNET_DATA", raising=False)
    return empty


def test_digits_shapes_and_split():
    data = load_dataset("digits")
    assert data.X_train.shape == (1438, 1, 8, 8) and data.X_test.shape == (359, 1, 8, 8)
    assert data.X_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert data.X_train.max() == 255 and data.image_shape == (1, 8, 8)
    assert data.class_names == [str(d) for d in range(10)] and data.num_classes == 10
    again = load_dataset("digits")
    np.testing.assert_array_equal(again.y_test, data.y_test)  # fixed split


def test_embedded_digits_equal_sklearns_copy():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = sklearn_datasets.load_digits()
    data = load_dataset("digits")
    images = np.concatenate([data.X_train, data.X_test])[:, 0]
    labels = np.concatenate([data.y_train, data.y_test])
    expected = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    # Same multiset of (image, label) pairs: compare after sorting by a stable key.
    key = lambda imgs, lbls: np.lexsort(np.column_stack([imgs.reshape(len(imgs), -1), lbls]).T)
    got, want = key(images, labels), key(expected, bunch.target)
    np.testing.assert_array_equal(images[got], expected[want])
    np.testing.assert_array_equal(labels[got], bunch.target[want])


def test_digits_need_no_sklearn(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert load_dataset("digits").X_train.shape == (1438, 1, 8, 8)


def test_fashion_mnist_from_data_dir(tmp_path, no_system_data):
    arrays = _write_idx_set(tmp_path / "fm")
    data = load_dataset("Fashion_MNIST", data_dir=tmp_path / "fm")
    assert data.name == "fashion-mnist" and data.class_names == list(FASHION_MNIST_CLASSES)
    assert data.X_train.shape == (7, 1, 5, 5) and data.image_shape == (1, 5, 5)
    np.testing.assert_array_equal(data.X_train[:, 0], arrays["train"][0])
    np.testing.assert_array_equal(data.y_test, arrays["t10k"][1])


def test_fashion_mnist_from_env_subdir(tmp_path, monkeypatch, no_system_data):
    _write_idx_set(tmp_path / "env" / "fashion-mnist", gz=False, dotted=True)
    monkeypatch.setenv("NUMNET_DATA", str(tmp_path / "env"))
    assert load_dataset("fashion-mnist").X_test.shape == (3, 1, 5, 5)


def test_mnist_from_system_dir(tmp_path, no_system_data):
    _write_idx_set(no_system_data / "mnist")
    data = load_dataset("mnist")
    assert data.class_names[3] == "3" and data.X_train.shape == (7, 1, 5, 5)


def test_fashion_mnist_missing_says_where_and_how(tmp_path, monkeypatch, no_system_data):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("NUMNET_DATA", str(empty))
    with pytest.raises(DataError) as info:
        load_dataset("fashion-mnist")
    message = str(info.value)
    assert str(empty) in message and str(no_system_data / "fashion-mnist") in message
    assert "apt-get install dataset-fashion-mnist" in message and "--data-dir" in message
    assert "\n" not in message
    with pytest.raises(DataError, match=f"looked in {empty}"):
        load_dataset("fashion-mnist", data_dir=empty)


def test_incomplete_idx_directory_not_used(tmp_path, no_system_data):
    _write_idx_set(tmp_path / "fm")
    (tmp_path / "fm" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="not found"):
        load_dataset("fashion-mnist", data_dir=tmp_path / "fm")
    with pytest.raises(DataError, match="no dataset found"):
        load_dataset(tmp_path / "fm")


def test_idx_directory_path(tmp_path):
    _write_idx_set(tmp_path / "my-fashion-data")
    data = load_dataset(str(tmp_path / "my-fashion-data"))
    assert data.class_names == list(FASHION_MNIST_CLASSES)
    _write_idx_set(tmp_path / "other")
    data = load_dataset(tmp_path / "other")
    assert data.name == "other" and data.class_names == [str(k) for k in range(10)]


def test_kaggle_train_csv_file(tmp_path):
    X, y = tiny_train(n=6, side=3)
    data = load_dataset(write_csv(tmp_path / "train.csv", X, y))
    assert data.X_train.shape == (6, 1, 3, 3) and data.X_test is None and data.y_test is None
    np.testing.assert_array_equal(data.X_train.reshape(6, 9), X)
    assert data.image_shape == (1, 3, 3) and data.num_classes == 10


def test_kaggle_directory_with_test_csv(tmp_path):
    X, y = tiny_train(n=6, side=3)
    write_csv(tmp_path / "train.csv", X, y)
    write_csv(tmp_path / "test.csv", X[:4])
    data = load_dataset(tmp_path)
    assert data.X_test.shape == (4, 1, 3, 3) and data.y_test is None
    np.testing.assert_array_equal(data.X_test.reshape(4, 9), X[:4])


def test_kaggle_test_csv_with_other_size(tmp_path):
    X, y = tiny_train(n=6, side=3)
    write_csv(tmp_path / "train.csv", X, y)
    write_csv(tmp_path / "test.csv", tiny_train(n=2, side=2)[0])
    with pytest.raises(DataError, match="4 pixel columns"):
        load_dataset(tmp_path)


def test_kaggle_test_csv_given_as_dataset(tmp_path):
    path = write_csv(tmp_path / "test.csv", tiny_train()[0])
    with pytest.raises(DataError, match="test CSV"):
        load_dataset(path)


def test_unknown_name(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'cifar'.*digits"):
        load_dataset("cifar")


@pytest.mark.integration
def test_installed_fashion_mnist():
    try:
        data = load_dataset("fashion-mnist")
    except DataError:
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    assert data.X_train.shape == (60000, 1, 28, 28) and data.X_test.shape == (10000, 1, 28, 28)
    assert np.bincount(data.y_train).tolist() == [6000] * 10
