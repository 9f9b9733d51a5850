"""Classification losses on scores: softmax cross-entropy and multiclass SVM, batch means."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_float, check_labels, check_ndim


def _check_scores(x: Any, y: Any) -> None:
    check_ndim("scores x", x, 2, "(N, C)")
    check_float("scores x", x)
    check_labels(y, x.shape[0], x.shape[1])
    if x.shape[0] == 0:
        raise ValueError("scores x must hold at least one sample, got shape (0, C)")


def softmax_loss(x: Any, y: Any, label_smoothing: float = 0.0) -> tuple[float, Any]:
    """Softmax cross-entropy loss, averaged over the batch, and its gradient.

    Parameters
    ----------
    x : ndarray, shape (N, C)
        Class scores (logits).
    y : ndarray of int, shape (N,)
        Correct labels in ``[0, C)``.
    label_smoothing : float, in [0, 1)
        epsilon of the smoothed targets ``q = (1 - epsilon) * onehot(y) + epsilon / C``
        (PyTorch's ``cross_entropy(..., label_smoothing=epsilon)``); 0 gives the plain loss.

    Returns
    -------
    loss : float
        ``mean_i( -sum_c q_ic log softmax(x_i)_c )``; with epsilon = 0 that is
        ``mean_i( -log softmax(x_i)[y_i] )``.
    dx : ndarray, shape (N, C)
        dloss/dx, in x's dtype.

    Notes
    -----
    With p = softmax(x) per row and log p_ic = x_ic - log sum_k exp(x_ik), the loss of row i is
    L_i = log sum_k exp(x_ik) - sum_c q_ic x_ic, because the targets q_i sum to 1. Then
    dL_i/dx_ic = p_ic - q_ic, so dL/dx = (p - q) / N (= (p - onehot(y)) / N when epsilon = 0).
    The log-sum-exp is taken after subtracting each row's maximum, so logits of any finite size
    give finite results.
    """
    _check_scores(x, y)
    return softmax_loss_unchecked(x, y, check_label_smoothing(label_smoothing))


def check_label_smoothing(value: Any) -> float:
    """Return ``value`` as a float in [0, 1), or raise ``ValueError`` naming the problem."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"label_smoothing must be a number in [0, 1), got {value!r}")
    return float(value)


def softmax_loss_unchecked(x: Any, y: Any, label_smoothing: float = 0.0) -> tuple[float, Any]:
    """:func:`softmax_loss` without validating its arguments (for callers that already did).

    ``x`` must be a non-empty float (N, C) array, ``y`` an (N,) integer array in ``[0, C)`` and
    ``label_smoothing`` a float in [0, 1).
    """
    xp = get_array_module(x)
    n, num_classes = x.shape
    rows = xp.arange(n)
    shifted = x - x.max(axis=1, keepdims=True)  # same softmax, and exp cannot overflow
    correct = float(shifted[rows, y].sum())
    if label_smoothing:
        # sum_c q_ic s_ic = (1 - eps) s_iy + (eps / C) sum_c s_ic, with s the shifted logits
        uniform = float(shifted.sum()) / num_classes
        target_term = (1.0 - label_smoothing) * correct + label_smoothing * uniform
    else:
        target_term = correct
    with np.errstate(under="ignore"):
        exp = xp.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    loss = (float(xp.log(sums).sum()) - target_term) / n
    dx = exp / (n * sums)  # p / N
    if label_smoothing:  # minus q / N
        dx -= dx.dtype.type(label_smoothing / (num_classes * n))
        dx[rows, y] -= dx.dtype.type((1.0 - label_smoothing) / n)
    else:
        dx[rows, y] -= dx.dtype.type(1.0 / n)
    return loss, dx


def svm_loss(x: Any, y: Any) -> tuple[float, Any]:
    """Multiclass SVM (hinge) loss with margin 1, averaged over the batch, and its gradient.

    Parameters
    ----------
    x : ndarray, shape (N, C)
        Class scores.
    y : ndarray of int, shape (N,)
        Correct labels in ``[0, C)``.

    Returns
    -------
    loss : float
        ``mean_i sum_{j != y_i} max(0, x_ij - x_iy_i + 1)``.
    dx : ndarray, shape (N, C)
        dloss/dx, in x's dtype.

    Notes
    -----
    Each positive margin m_ij = x_ij - x_iy + 1 > 0 (j != y) adds +1/N to dx_ij and -1/N to dx_iy;
    so dx_ij = [m_ij > 0] / N and dx_iy = -(number of positive margins in row i) / N.
    """
    _check_scores(x, y)
    xp = get_array_module(x)
    n = x.shape[0]
    rows = xp.arange(n)
    margins = x - x[rows, y][:, None]
    margins += 1
    margins[rows, y] = 0
    margins = xp.maximum(margins, 0)
    loss = float(margins.sum()) / n
    dx = (margins > 0).astype(x.dtype)
    dx[rows, y] = -dx.sum(axis=1)
    dx /= n
    return loss, dx
