"""Fully connected (affine) layer: ``out = x.reshape(N, D) @ w + b``."""

from __future__ import annotations

import math
from typing import Any

from numnet.functional._checks import check_dout, check_float, check_ndim, check_shape

AffineCache = tuple[Any, Any, tuple[int, ...]]


def affine_forward(x: Any, w: Any, b: Any) -> tuple[Any, AffineCache]:
    """Affine (fully connected) forward pass.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
        Inputs; each sample is flattened to a row of length ``D = d_1 * ... * d_k``.
    w : ndarray, shape (D, M)
        Weights.
    b : ndarray, shape (M,)
        Biases.

    Returns
    -------
    out : ndarray, shape (N, M)
        ``x.reshape(N, D) @ w + b``, in the inputs' dtype.
    cache : tuple
        ``(x2d, w, x_shape)`` for :func:`affine_backward`.

    Raises
    ------
    ValueError
        Wrong number of dimensions, or the shapes of ``x``, ``w`` and ``b`` do not fit together.
    TypeError
        An input is not a floating-point array (convert integers with ``x.astype(np.float64)``).

    An empty batch (N = 0) gives an empty (0, M) output.
    """
    check_ndim("x", x, range(1, 64), "(N, d_1, ..., d_k)")
    check_ndim("w", w, 2, "(D, M)")
    check_ndim("b", b, 1, "(M,)")
    for name, a in (("x", x), ("w", w), ("b", b)):
        check_float(name, a)
    x2d = x.reshape(x.shape[0], math.prod(x.shape[1:]))  # -1 cannot be inferred when N = 0
    if x2d.shape[1] != w.shape[0]:
        raise ValueError(
            f"x of shape {tuple(x.shape)} flattens to (N, D) = {tuple(x2d.shape)}, "
            f"but w has shape (D, M) = {tuple(w.shape)}: D must match"
        )
    check_shape("b", b, (w.shape[1],), "(M,)")
    out = x2d @ w + b
    return out, (x2d, w, tuple(x.shape))


def affine_backward(dout: Any, cache: AffineCache) -> tuple[Any, Any, Any]:
    """Affine backward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
        Upstream gradient dL/dout.
    cache : tuple
        From :func:`affine_forward`.

    Returns
    -------
    dx : ndarray, shape (N, d_1, ..., d_k)
        dL/dx in x's original shape.
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)

    Notes
    -----
    With ``X = x.reshape(N, D)`` and ``out = X w + b``, i.e. ``out[n, m] = sum_d X[n, d] w[d, m]
    + b[m]``:
    dL/dX = dout w^T (reshaped back to x's shape), dL/dw = X^T dout, dL/db = sum over N of dout.
    """
    x2d, w, x_shape = cache
    check_dout(dout, (x2d.shape[0], w.shape[1]), "(N, M)")
    dx = (dout @ w.T).reshape(x_shape)
    dw = x2d.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
