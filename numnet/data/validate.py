"""Checks on the arrays a user hands to numnet (training data, labels)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numnet.errors import DataError


def check_dataset_arrays(
    X: Any,
    y: Any = None,
    num_classes: int | None = None,
    allowed_ndim: Sequence[int] = (2, 3, 4),
) -> None:
    """Raise DataError unless ``X`` (and ``y``) form a usable dataset.

    Parameters
    ----------
    X : ndarray, shape (N, D), (N, H, W) or (N, C, H, W)
        Numeric inputs: integers, or floats with no NaN or Inf.
    y : ndarray of int, shape (N,), optional
        Labels; must be integers in ``[0, num_classes)`` (``>= 0`` when num_classes is None).
    num_classes : int, optional
    allowed_ndim : sequence of int
        Accepted values of ``X.ndim``.
    """
    if not isinstance(X, np.ndarray):
        raise DataError(f"X must be a NumPy array, got {type(X).__name__}; use np.asarray(X)")
    if X.ndim not in allowed_ndim:
        layouts = {2: "(N, D)", 3: "(N, H, W)", 4: "(N, C, H, W)"}
        wanted = " or ".join(layouts.get(n, f"{n}-D") for n in allowed_ndim)
        raise DataError(f"X must have shape {wanted}, got shape {X.shape}; reshape the data")
    if X.dtype.kind not in "iuf":
        raise DataError(f"X must hold numbers, got dtype {X.dtype}; convert it to uint8 or float32")
    if X.shape[0] == 0:
        raise DataError("X holds no samples (N = 0); check the data source")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        kind = "NaN" if np.isnan(X).any() else "Inf"
        raise DataError(f"X contains {kind} values; clean or impute the data before training")
    if y is None:
        return
    if not isinstance(y, np.ndarray):
        raise DataError(f"y must be a NumPy array, got {type(y).__name__}; use np.asarray(y)")
    if y.ndim != 1:
        raise DataError(f"labels y must have shape (N,), got shape {y.shape}; flatten them")
    if y.dtype.kind not in "iu":
        raise DataError(f"labels y must be integers, got dtype {y.dtype}; use y.astype(np.int64)")
    if y.shape[0] != X.shape[0]:
        raise DataError(
            f"X has {X.shape[0]} samples but y has {y.shape[0]} labels; they must match"
        )
    low, high = int(y.min()), int(y.max())
    if low < 0:
        raise DataError(f"labels must be >= 0, found {low}; map classes to 0..K-1")
    if num_classes is not None and high >= num_classes:
        raise DataError(
            f"label {high} is out of range for {num_classes} classes (0-{num_classes - 1}); "
            "check num_classes or the labels"
        )
