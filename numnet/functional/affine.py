"""Fully connected (affine) layer: ``out = x.reshape(N, D) @ w + b``."""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_float, check_ndim, check_shape

AffineCache = tuple[Any, Any, tuple[int, ...]]


def affine_forward(x: Any, w: Any, b: Any, *, out: Any = None) -> tuple[Any, AffineCache]:
    """Affine (fully connected) forward pass.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
        Inputs; each sample is flattened to a row of length ``D = d_1 * ... * d_k``.
    w : ndarray, shape (D, M)
        Weights.
    b : ndarray, shape (M,)
        Biases.
    out : ndarray, shape (N, M), optional
        Array to write the result into (of the result's dtype) instead of a fresh one.

    Returns
    -------
    out : ndarray, shape (N, M)
        ``x.reshape(N, D) @ w + b``, in the inputs' dtype.
    cache : tuple
        ``(x2d, w, x_shape)`` for :func:`affine_backward`.
    """
    check_ndim("x", x, range(1, 64), "(N, d_1, ..., d_k)")
    check_ndim("w", w, 2, "(D, M)")
    check_ndim("b", b, 1, "(M,)")
    for name, a in (("x", x), ("w", w), ("b", b)):
        check_float(name, a)
    n = x.shape[0]
    x2d = x.reshape(n, -1)
    if x2d.shape[1] != w.shape[0]:
        raise ValueError(
            f"x of shape {tuple(x.shape)} flattens to (N, D) = {tuple(x2d.shape)}, "
            f"but w has shape (D, M) = {tuple(w.shape)}: D must match"
        )
    check_shape("b", b, (w.shape[1],), "(M,)")
    xp = get_array_module(x2d, w)
    out = xp.matmul(x2d, w, out=out)
    out += b
    return out, (x2d, w, tuple(x.shape))


def affine_backward(
    dout: Any, cache: AffineCache, *, need_dx: bool = True, out: tuple = (None, None, None)
) -> tuple[Any, Any, Any]:
    """Affine backward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
        Upstream gradient dL/dout.
    cache : tuple
        From :func:`affine_forward`.
    need_dx : bool
        If False, dx is not computed (returned as None): the ``dout @ w^T`` product, as large as
        the forward's, is skipped (nobody needs the gradient of a network's input).
    out : tuple of (ndarray or None)
        Arrays ``(dx, dw, db)`` to write the results into (of the results' dtype; dx may have
        shape (N, D) or x's shape); None entries are allocated fresh.

    Returns
    -------
    dx : ndarray, shape (N, d_1, ..., d_k), or None
        dL/dx in x's original shape.
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)

    Notes
    -----
    With ``X = x.reshape(N, D)`` and ``out = X w + b``:
    dL/dX = dout w^T (reshaped back to x's shape), dL/dw = X^T dout, dL/db = sum over N of dout.
    """
    x2d, w, x_shape = cache
    dx_out, dw_out, db_out = out
    xp = get_array_module(dout, w)
    dx = None
    if need_dx:
        if dx_out is not None:
            dx_out = dx_out.reshape(x2d.shape)
        dx = xp.matmul(dout, w.T, out=dx_out).reshape(x_shape)
    dw = xp.matmul(x2d.T, dout, out=dw_out)
    db = (np.add.reduce if xp is np else xp.sum)(dout, axis=0, out=db_out)
    return dx, dw, db
