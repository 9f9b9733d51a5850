"""Checks on the arrays a user hands to numnet (training data, labels)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from numnet.errors import DataError

# Labels are class indices below this limit. A label read from a file decides how many classes a
# dataset has (and so the size of class-name lists and of a model's output layer); without a bound
# one forged label would make numnet allocate gigabytes before anything else is checked.
MAX_CLASSES = 65_536


def check_label_bound(high: float, source: str) -> None:
    """Raise DataError unless the largest label ``high`` read from ``source`` is below the limit."""
    if not high < MAX_CLASSES:  # also catches NaN
        shown = f"{high:g}" if isinstance(high, float) else str(high)
        raise DataError(
            f"{source}: label {shown} is beyond numnet's limit of {MAX_CLASSES} classes "
            f"(labels 0-{MAX_CLASSES - 1}); the file is corrupt or holds something other than "
            "class indices"
        )


def check_pixels(X: np.ndarray, source: str) -> None:
    """Raise DataError unless every value of the image array ``X`` read from ``source`` is a finite
    number in 0-255 (the promise for every input file, integer or float, train or predict)."""
    if X.size == 0 or X.dtype == np.uint8:
        return
    if X.dtype.kind not in "iuf":
        raise DataError(f"{source}: images hold {X.dtype} values, expected pixel numbers 0-255")
    if X.dtype.kind == "f":
        nan = np.isnan(X)
        if nan.any():
            index = tuple(int(i) for i in np.argwhere(nan)[0])
            raise DataError(
                f"{source}: image {index[0]} holds NaN at position {index[1:]}; pixels must be "
                "numbers 0-255, fix or re-create the file"
            )
    bad = (X < 0) | (X > 255)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"{source}: image {index[0]} has pixel value {X[index]:g} at position {index[1:]}, "
            "outside 0-255; fix or re-create the file"
        )


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


SOLVER_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")


def check_solver_data(data: Mapping[str, Any], num_classes: int | None) -> None:
    """Raise DataError/TypeError/ValueError (one line) unless ``data`` is a usable training set."""
    missing = [key for key in SOLVER_DATA_KEYS if key not in data]
    if missing:
        raise DataError(
            f"data is missing {missing}; the Solver needs keys {list(SOLVER_DATA_KEYS)}"
        )
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
            raise TypeError(f"X_{split} and y_{split} must be NumPy arrays")
        if X.ndim < 2:
            raise ValueError(f"X_{split} must have shape (N, ...), got shape {X.shape}")
        if X.shape[0] == 0:
            raise DataError(f"X_{split} has no samples; give at least one {split} example")
        if X.dtype.kind != "f":
            raise TypeError(f"X_{split} must be a float32 or float64 array, got dtype {X.dtype}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y_{split} must have shape ({X.shape[0]},) to match X_{split}, got {y.shape}"
            )
        if y.dtype.kind not in "iu":
            raise TypeError(f"y_{split} must hold integer class labels, got dtype {y.dtype}")
        if not np.isfinite(X).all():
            raise DataError(f"X_{split} contains NaN or Inf values; clean or impute the data first")
        low, high = int(y.min()), int(y.max())
        if low < 0 or (num_classes is not None and high >= num_classes):
            bound = f"[0, {num_classes - 1}]" if num_classes is not None else ">= 0"
            raise DataError(
                f"y_{split} labels must lie in {bound}, got values from {low} to {high}; "
                "check the labels or the model's num_classes"
            )
    if data["X_val"].shape[1:] != data["X_train"].shape[1:]:
        raise ValueError(
            f"X_val samples have shape {data['X_val'].shape[1:]} but X_train samples have "
            f"{data['X_train'].shape[1:]}; they must match"
        )
