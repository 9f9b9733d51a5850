"""Deterministic train/validation split."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.data import train_val_split
from numnet.errors import DataError


def _data(n=50):
    X = np.arange(n * 3).reshape(n, 3)
    return X, np.arange(n)


def test_split_sizes_partition_and_alignment():
    X, y = _data()
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.2, seed=1)
    assert len(y_tr) == 40 and len(y_val) == 10
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(50))
    np.testing.assert_array_equal(X_tr[:, 0], 3 * y_tr)  # rows stay paired with labels
    np.testing.assert_array_equal(X_val[:, 0], 3 * y_val)


def test_split_is_deterministic_and_seed_dependent():
    X, y = _data()
    first = train_val_split(X, y, 0.3, seed=7)
    second = train_val_split(X, y, 0.3, seed=7)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = train_val_split(X, y, 0.3, seed=8)
    assert not np.array_equal(first[3], other[3])


def test_zero_fraction_gives_empty_validation():
    X, y = _data(10)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.0, seed=0)
    assert X_tr.shape == (10, 3) and X_val.shape == (0, 3) and y_val.shape == (0,)


def test_tiny_fraction_still_gives_one_sample():
    X, y = _data(10)
    assert len(train_val_split(X, y, 0.01, seed=0)[3]) == 1


@pytest.mark.parametrize(
    ("fraction", "n", "fragment"),
    [
        (1.0, 10, "in \\[0, 1\\)"),
        (-0.1, 10, "in \\[0, 1\\)"),
        (0.5, 1, "leaves no training data"),
        (0.96, 10, "leaves no training data"),
    ],
)
def test_bad_fractions(fraction, n, fragment):
    X, y = _data(n)
    with pytest.raises(DataError, match=fragment):
        train_val_split(X, y, fraction, seed=0)


def test_length_mismatch():
    with pytest.raises(DataError, match="must match"):
        train_val_split(np.zeros((4, 2)), np.zeros(3, dtype=np.int64), 0.25, seed=0)
