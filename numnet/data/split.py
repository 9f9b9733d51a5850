"""Deterministic train/validation split."""

from __future__ import annotations

import numpy as np

from numnet.errors import DataError


def train_val_split(
    X: np.ndarray, y: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``(X, y)`` into training and validation parts with a seeded permutation.

    Parameters
    ----------
    X : ndarray, shape (N, ...)
    y : ndarray, shape (N,)
    val_fraction : float
        In ``[0, 1)``; ``round(val_fraction * N)`` samples (at least one when > 0) go to validation.
        With 0 the validation part is empty.
    seed : int
        Seed of the ``np.random.Generator`` that draws the permutation; same seed, same split.

    Returns
    -------
    X_train : ndarray, shape (N - V, ...)
    y_train : ndarray, shape (N - V,)
    X_val : ndarray, shape (V, ...)
    y_val : ndarray, shape (V,)
    """
    if not 0 <= val_fraction < 1:
        raise DataError(f"val_fraction must be in [0, 1), got {val_fraction}; e.g. use 0.1")
    num = len(X)
    if len(y) != num:
        raise DataError(f"X has {num} samples but y has {len(y)} labels; they must match")
    num_val = max(1, int(round(val_fraction * num))) if val_fraction > 0 else 0
    if num_val >= num:
        raise DataError(
            f"val_fraction {val_fraction} of {num} samples leaves no training data; "
            "use a smaller fraction or more data"
        )
    order = np.random.default_rng(seed).permutation(num)
    val, train = np.sort(order[:num_val]), np.sort(order[num_val:])
    return X[train], y[train], X[val], y[val]
