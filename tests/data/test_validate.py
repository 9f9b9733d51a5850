"""check_dataset_arrays: every problem raises DataError naming it."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.data import check_dataset_arrays
from numnet.errors import DataError


def test_valid_arrays_pass():
    check_dataset_arrays(np.zeros((3, 1, 2, 2), np.uint8), np.array([0, 1, 2]), num_classes=3)
    check_dataset_arrays(np.zeros((3, 4), np.float32))


@pytest.mark.parametrize(
    ("X", "y", "fragment"),
    [
        (np.array([[0.0, np.nan]]), None, "NaN"),
        (np.array([[0.0, np.inf]]), None, "Inf"),
        (np.zeros(3), None, "must have shape"),
        (np.zeros((1, 1, 1, 1, 1)), None, "must have shape"),
        (np.zeros((0, 3)), None, "no samples"),
        (np.array([["a"]]), None, "must hold numbers"),
        ([[1.0]], None, "NumPy array"),
        (np.zeros((3, 2)), np.array([0.0, 1.0, 2.0]), "must be integers"),
        (np.zeros((3, 2)), np.array([0, 1]), "3 samples but y has 2"),
        (np.zeros((2, 2)), np.array([[0, 1]]), "shape \\(N,\\)"),
        (np.zeros((2, 2)), np.array([0, -1]), "must be >= 0"),
        (np.zeros((2, 2)), np.array([0, 3]), "label 3 is out of range for 3 classes"),
    ],
)
def test_bad_arrays(X, y, fragment):
    with pytest.raises(DataError, match=fragment):
        check_dataset_arrays(X, y, num_classes=3)
