"""Standardizer: statistics per mode, float32 output, JSON round trip, shape validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from numnet.data import Standardizer
from numnet.errors import DataError


def _images(n=20, c=3, h=4, w=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, c, h, w), dtype=np.uint8)


def test_feature_mode_zero_mean_unit_std():
    X = _images()
    out = Standardizer("feature").fit_transform(X)
    assert out.dtype == np.float32 and out.shape == X.shape
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)


def test_channel_mode_matches_manual_computation():
    X = _images()
    out = Standardizer("channel").fit_transform(X)
    scaled = X / 255.0
    mean = scaled.mean(axis=(0, 2, 3), keepdims=True)
    std = scaled.std(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (scaled - mean) / std, rtol=1e-5, atol=1e-5)


def test_channel_mode_on_flattened_input_with_image_shape():
    X = _images()
    flat = X.reshape(len(X), -1)
    expected = Standardizer("channel").fit_transform(X).reshape(len(X), -1)
    got = Standardizer("channel", image_shape=(3, 4, 5)).fit_transform(flat)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    with pytest.raises(DataError, match="image_shape"):
        Standardizer("channel").fit(flat)
    with pytest.raises(DataError, match="does not match 60 features"):
        Standardizer("channel", image_shape=(1, 4, 5)).fit(flat)


def test_global_and_none_modes():
    X = _images()
    out = Standardizer("global").fit_transform(X)
    assert abs(float(out.mean())) < 1e-5 and abs(float(out.std()) - 1) < 1e-4
    np.testing.assert_allclose(Standardizer("none").fit_transform(X), X / 255.0, rtol=1e-6)
    np.testing.assert_allclose(Standardizer("none", scale=1.0).fit_transform(X), X, rtol=1e-6)


def test_constant_pixels_do_not_divide_by_zero():
    X = _images().astype(np.float64)
    X[:, 0, 0, 0] = 7.0
    standardizer = Standardizer("feature", std_floor=0.05).fit(X)
    assert float(standardizer.std[0, 0, 0]) == pytest.approx(0.05)
    test = X[:2].copy()
    test[:, 0, 0, 0] = 8.0
    out = standardizer.transform(test)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[:, 0, 0, 0], (1 / 255) / 0.05, rtol=1e-5)


@pytest.mark.parametrize("mode", ["feature", "channel", "global", "none"])
def test_json_round_trip(mode):
    X = _images()
    fitted = Standardizer(mode).fit(X)
    restored = Standardizer.from_dict(json.loads(json.dumps(fitted.to_dict())))
    test = _images(seed=1)
    np.testing.assert_array_equal(restored.transform(test), fitted.transform(test))


def test_shape_mismatch_and_unfitted():
    with pytest.raises(DataError, match="before fit"):
        Standardizer().transform(_images())
    standardizer = Standardizer().fit(_images())
    with pytest.raises(DataError, match=r"samples of shape \(3, 4, 4\).*fitted on \(3, 4, 5\)"):
        standardizer.transform(_images(w=4))


def test_bad_constructor_args_and_records():
    with pytest.raises(ValueError, match="mode must be one of"):
        Standardizer("pixel")
    with pytest.raises(ValueError, match="scale"):
        Standardizer(scale=0)
    record = Standardizer("channel").fit(_images()).to_dict()
    with pytest.raises(DataError, match="invalid Standardizer record"):
        Standardizer.from_dict({k: v for k, v in record.items() if k != "mean"})
    with pytest.raises(DataError, match="invalid Standardizer record"):
        Standardizer.from_dict({**record, "std": [0.0, 1.0, 1.0]})
    with pytest.raises(DataError, match="invalid Standardizer record"):
        Standardizer.from_dict({**record, "sample_shape": [2, 4, 5]})


def test_fit_rejects_nan():
    X = _images().astype(np.float32)
    X[0, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        Standardizer().fit(X)
