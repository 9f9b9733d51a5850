"""Classification losses on scores: softmax cross-entropy and multiclass SVM, batch means."""

from __future__ import annotations

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


def softmax_loss(x: Any, y: Any) -> tuple[float, Any]:
    """Softmax cross-entropy loss, averaged over the batch, and its gradient.

    Parameters
    ----------
    x : ndarray, shape (N, C)
        Class scores (logits).
    y : ndarray of int, shape (N,)
        Correct labels in ``[0, C)``.

    Returns
    -------
    loss : float
        ``mean_i( -log softmax(x_i)[y_i] )``.
    dx : ndarray, shape (N, C)
        dloss/dx, in x's dtype.

    Notes
    -----
    With p = softmax(x) per row: dL/dx = (p - onehot(y)) / N. The log-sum-exp is taken after
    subtracting each row's maximum, so logits of any finite size give finite results.
    """
    _check_scores(x, y)
    return softmax_loss_unchecked(x, y)


def softmax_loss_unchecked(x: Any, y: Any) -> tuple[float, Any]:
    """:func:`softmax_loss` without validating ``x`` and ``y`` (for callers that already did).

    ``x`` must be a non-empty float (N, C) array and ``y`` an (N,) integer array in ``[0, C)``.
    """
    xp = get_array_module(x)
    n = x.shape[0]
    rows = xp.arange(n)
    probs = x - x.max(axis=1, keepdims=True)
    correct = probs[rows, y]
    with np.errstate(under="ignore"):
        xp.exp(probs, out=probs)
    sums = probs.sum(axis=1, keepdims=True)
    loss = (float(xp.log(sums).sum()) - float(correct.sum())) / n
    # dx = (p - onehot) / N with p = exp / sums: scale by 1 / (N * sums), then subtract 1 / N.
    sums *= n
    xp.reciprocal(sums, out=sums)
    probs *= sums
    probs[rows, y] -= probs.dtype.type(1.0 / n)
    return loss, probs


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
    xp.maximum(margins, 0, out=margins)
    loss = float(margins.sum()) / n
    dx = (margins > 0).astype(x.dtype)
    dx[rows, y] = -dx.sum(axis=1)
    dx /= n
    return loss, dx
