"""``numnet.load`` returns a Predictor: raw data in, the stored preprocessing applied inside."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

import numnet
from numnet.data import Standardizer, input_range, range_mismatch, write_probabilities
from numnet.errors import DataError, InputRangeWarning, ModelFileError
from numnet.models import ConvNet, FullyConnectedNet
from numnet.predictor import Predictor, model_file, softmax_rows


@pytest.fixture
def raw():
    """Raw "pixels" 0-255 of 12 images 1x4x4, as a file holds them."""
    return np.random.default_rng(0).integers(0, 256, size=(12, 16)).astype(np.uint8)


def saved(tmp_path, model, raw, mode="feature"):
    standardizer = Standardizer(mode=mode, image_shape=(1, 4, 4)).fit(raw.reshape(-1, 1, 4, 4))
    metadata = {
        "preprocessing": standardizer.to_dict(),
        "class_names": ["a", "b", "c"],
        "input_range": input_range(raw),
    }
    path = tmp_path / "model.npz"
    numnet.save(path, model, metadata)
    return path, standardizer


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_predict_applies_the_stored_preprocessing(tmp_path, raw, kind):
    if kind == "mlp":
        model = FullyConnectedNet([8], input_dim=16, num_classes=3, seed=1)
        path, standardizer = saved(tmp_path, model, raw)
    else:
        model = ConvNet((1, 4, 4), [2], hidden_dims=[], num_classes=3, seed=1)
        path, standardizer = saved(tmp_path, model, raw, mode="channel")
    predictor = numnet.load(path)
    assert isinstance(predictor, Predictor) and predictor.preprocess
    inputs = standardizer.transform(raw.reshape(-1, 1, 4, 4))
    expected = model.predict(inputs)
    np.testing.assert_array_equal(predictor.predict(raw), expected)  # flat rows
    np.testing.assert_array_equal(predictor.predict(raw.reshape(-1, 1, 4, 4)), expected)  # images
    np.testing.assert_array_equal(predictor.predict(inputs, preprocess=False), expected)
    assert not np.allclose(model.scores(raw), predictor.scores(raw))  # skipping it would differ
    np.testing.assert_allclose(predictor.scores(raw, batch_size=5), model.scores(inputs), rtol=1e-6)
    off = numnet.load(path, preprocess=False)
    np.testing.assert_array_equal(off.predict(inputs), expected)
    predictor.preprocess = False
    np.testing.assert_array_equal(predictor.predict(inputs), expected)


def test_predict_proba_rows_sum_to_one_and_match_predict(tmp_path, raw):
    model = FullyConnectedNet([8], input_dim=16, num_classes=3, seed=2)
    path, _ = saved(tmp_path, model, raw)
    predictor = numnet.load(path)
    proba = predictor.predict_proba(raw, batch_size=4)
    assert proba.shape == (12, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(proba.argmax(axis=1), predictor.predict(raw))
    assert predictor.class_names == ["a", "b", "c"]
    assert predictor.predict_proba(raw[:0]).shape == (0, 3)


def test_softmax_is_stable_for_large_scores():
    proba = softmax_rows(np.array([[1000.0, 0.0, -1000.0], [3e38, 3e38, 0.0]], np.float32))
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba, [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-12)


def test_wrong_input_size_is_one_line_error(tmp_path, raw):
    path, _ = saved(tmp_path, FullyConnectedNet([4], input_dim=16, num_classes=3), raw)
    predictor = numnet.load(path)
    with pytest.raises(DataError, match=r"size 15 \(15 values\).*expects 1x4x4 \(16 values\)"):
        predictor.predict(np.zeros((2, 15)))
    with pytest.raises(DataError, match=r"X\[None\]") as info:
        predictor.predict(raw[0])  # one sample without its batch axis
    assert "\n" not in str(info.value)


def test_range_mismatch_warns_and_raw_data_does_not(tmp_path, raw):
    path, _ = saved(tmp_path, FullyConnectedNet([4], input_dim=16, num_classes=3), raw)
    predictor = numnet.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predictor.predict(raw)  # the training range: no warning
        predictor.predict(np.zeros_like(raw))  # blank images are not "rescaled"
        inputs = predictor.inputs(raw)
        predictor.predict(inputs, preprocess=False)  # already transformed: nothing to compare
    with pytest.warns(InputRangeWarning, match=r"from 0 to 1 .* from 0 to 255") as record:
        predictor.predict(raw / 255.0)
    assert record[0].filename == __file__  # points at the caller's line, not numnet's


@pytest.mark.parametrize(
    ("values", "flagged"),
    [
        ([0, 255], False),
        ([10, 200], False),
        ([0, 0], False),
        ([0, 1.0], True),  # rescaled to 0-1
        ([-0.4, 2.8], True),  # standardised
        ([0, 300], True),  # beyond the training range
        ([0, 65535], True),  # 16-bit
    ],
)
def test_range_mismatch_rules(values, flagged):
    expected = input_range(np.array([0.0, 255.0, 40.0]))
    message = range_mismatch(expected, np.array(values, dtype=float))
    assert (message is not None) == flagged
    assert range_mismatch({}, np.array(values)) is None  # no record: nothing to say


def test_delegates_everything_else_to_the_model(tmp_path, raw):
    model = FullyConnectedNet([5], input_dim=16, num_classes=3, seed=3)
    path, standardizer = saved(tmp_path, model, raw)
    predictor = numnet.load(path)
    assert predictor.get_config() == model.get_config()
    assert list(predictor.params) == list(model.params)
    assert predictor.num_classes == 3
    X = standardizer.transform(raw.reshape(-1, 1, 4, 4)).reshape(12, 16)
    np.testing.assert_allclose(predictor.loss(X), model.loss(X), rtol=1e-6)
    predictor.some_flag = 7
    assert predictor.model.some_flag == 7
    assert predictor.model.metadata == predictor.metadata
    numnet.save(tmp_path / "again.npz", predictor)  # the classifier, with its metadata
    again = numnet.load(tmp_path / "again.npz")
    assert again.metadata == predictor.metadata
    np.testing.assert_array_equal(again.predict(raw), predictor.predict(raw))
    assert "Predictor(FullyConnectedNet" in repr(predictor)


def test_model_file_resolves_run_directories(tmp_path, raw):
    path, _ = saved(tmp_path, FullyConnectedNet([4], input_dim=16, num_classes=3), raw)
    assert model_file(tmp_path) == path
    assert model_file(path) == path
    assert numnet.load(tmp_path).metadata["class_names"] == ["a", "b", "c"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelFileError, match="without model.npz"):
        numnet.load(empty)
    with pytest.raises(ModelFileError, match="missing.npz does not exist"):
        numnet.load(tmp_path / "missing.npz")


def test_write_probabilities_header_and_quoting(tmp_path):
    out = tmp_path / "p.csv"
    write_probabilities(out, np.array([[0.25, 0.75]]), ["T-shirt/top", 'a,"b"'])
    with open(out, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["ImageId", "T-shirt/top", 'a,"b"'], ["1", "0.25", "0.75"]]
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        write_probabilities(out, np.zeros((1, 3)), ["a", "b"])
