"""Augmentation: shapes, determinism with a seeded Generator, and what a shift/flip does."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.data import Augmenter, random_hflip, random_shift


def _batch(n=16, c=2, h=6, w=7):
    return np.random.default_rng(0).integers(1, 256, size=(n, c, h, w), dtype=np.uint8)


def _reference_shift(image, dy, dx):
    """Loop version: out[y, x] = image[y - dy, x - dx] where that is inside, else 0."""
    out = np.zeros_like(image)
    _, h, w = image.shape
    for y in range(h):
        for x in range(w):
            if 0 <= y - dy < h and 0 <= x - dx < w:
                out[:, y, x] = image[:, y - dy, x - dx]
    return out


def test_random_shift_matches_loop_reference():
    X = _batch()
    out = random_shift(X, 2, np.random.default_rng(5))
    shifts = np.random.default_rng(5).integers(-2, 3, size=(2, len(X)))
    assert out.shape == X.shape and out.dtype == X.dtype
    for i in range(len(X)):
        np.testing.assert_array_equal(out[i], _reference_shift(X[i], shifts[0, i], shifts[1, i]))
    assert len({(a, b) for a, b in shifts.T.tolist()}) > 1  # shifts differ between images


def test_shift_larger_than_image_gives_zeros():
    X = _batch(n=40, h=2, w=2)
    out = random_shift(X, 3, np.random.default_rng(0))
    shifts = np.random.default_rng(0).integers(-3, 4, size=(2, 40))
    gone = (np.abs(shifts) >= 2).any(axis=0)
    assert gone.any() and not out[gone].any()


def test_random_shift_deterministic_and_does_not_modify_input():
    X = _batch()
    copy = X.copy()
    a = random_shift(X, 2, np.random.default_rng(3))
    b = random_shift(X, 2, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, copy)
    np.testing.assert_array_equal(random_shift(X, 0, np.random.default_rng(0)), X)


def test_random_hflip():
    X = _batch()
    out = random_hflip(X, np.random.default_rng(2), p=0.5)
    flipped = np.random.default_rng(2).random(len(X)) < 0.5
    assert 0 < flipped.sum() < len(X)
    np.testing.assert_array_equal(out[flipped], X[flipped][..., ::-1])
    np.testing.assert_array_equal(out[~flipped], X[~flipped])
    np.testing.assert_array_equal(random_hflip(X, np.random.default_rng(0), p=1.0), X[..., ::-1])
    np.testing.assert_array_equal(random_hflip(X, np.random.default_rng(0), p=0.0), X)


def test_augmenter_4d_and_flat():
    X = _batch().astype(np.float32)
    augment = Augmenter(shift=1, hflip=True, image_shape=(2, 6, 7))
    out = augment(X, np.random.default_rng(9))
    assert out.shape == X.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, augment(X, np.random.default_rng(9)))
    flat = augment(X.reshape(16, -1), np.random.default_rng(9))
    np.testing.assert_array_equal(flat, out.reshape(16, -1))
    assert augment.get_config() == {"shift": 1, "hflip": True, "fill": 0.0}
    assert not Augmenter(shift=0).enabled


def test_shift_fills_with_the_blank_image_value():
    # standardised images: black is (0 - mean) / std, not 0; shifted-in pixels must be that value
    X = np.full((40, 2, 5, 6), 7.0)
    blank = np.array([-0.8, -1.5]).reshape(2, 1, 1)
    out = random_shift(X, 2, np.random.default_rng(3), fill=blank)
    assert set(np.unique(out[:, 0])) <= {7.0, -0.8} and set(np.unique(out[:, 1])) <= {7.0, -1.5}
    moved = np.any(out != 7.0, axis=(1, 2, 3))
    assert 0 < moved.sum() < len(X)  # some images were shifted, some were not
    # the fill is per pixel too: a flat (C*H*W,) blank image given to the Augmenter
    per_pixel = np.arange(60, dtype=np.float64).reshape(2, 5, 6)
    augment = Augmenter(shift=1, image_shape=(2, 5, 6), fill=per_pixel.reshape(-1))
    out = augment(X.reshape(40, -1), np.random.default_rng(4)).reshape(X.shape)
    filled = out != 7.0
    assert filled.any()
    np.testing.assert_array_equal(out[filled], np.broadcast_to(per_pixel, X.shape)[filled])
    assert augment.get_config()["fill"] == "per-pixel"


def test_bad_fill():
    X = np.zeros((2, 2, 4, 4))
    with pytest.raises(ValueError, match="does not broadcast"):
        random_shift(X, 1, np.random.default_rng(0), fill=np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        random_shift(X, 1, np.random.default_rng(0), fill=np.nan)
    with pytest.raises(ValueError, match="one per pixel"):
        Augmenter(shift=1, image_shape=(2, 4, 4), fill=np.zeros(5))


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        random_shift(np.zeros((2, 3, 3)), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(_batch(), -1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="probability"):
        random_hflip(_batch(), np.random.default_rng(0), p=1.5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        Augmenter()(np.zeros((2, 9)), np.random.default_rng(0))
