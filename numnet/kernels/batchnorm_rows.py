"""Batch normalisation over the rows of an (R, C) matrix: the kernel behind channel-last layers.

The same function, statistics and gradients as :func:`numnet.functional.normalization.
batchnorm_forward` / ``batchnorm_backward`` (each of the C columns standardised over the R rows),
written for what channel-last activations look like: very many rows (N H W of them) and few
columns (C = 32 or 64). Two things make the textbook NumPy code slow on that shape:

- ``x.sum(axis=0)`` walks the rows one C-value inner loop at a time; the column sums as one BLAS
  product ``ones(R) @ x`` run several times faster.
- ``x - mean`` broadcasts a (C,) vector with a C-value inner loop. Seen as (R / k, k C) with the
  vectors tiled k times, the same pass has a long inner loop.

The maths is :func:`~numnet.functional.normalization.batchnorm_backward`'s closed form::

    xhat = (x - mean) / std,   out = gamma xhat + beta
    dbeta = sum_r dout,        dgamma = sum_r dout xhat
    dx = (gamma / std) (dout - dbeta / R - xhat dgamma / R)          (training statistics)
    dx = (gamma / std) dout                                           (running statistics)

With ``sync`` (a :class:`numnet.distributed.BatchSync`; data-parallel training) the column sums
are summed over all ranks, so the statistics are those of the global batch, and the backward's
sums too, each rank's weighted by its share ``w = R / R_global`` of the rows (the derivation is in
:mod:`numnet.nn.sync_batchnorm`, the reference path's version).

Scratch arrays (the centred input, the output, the input gradient) may come from a
:class:`~numnet.kernels.workspace.Workspace` and are then reused from call to call.

No validation here: callers check shapes and dtypes.
"""

from __future__ import annotations

import math
from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional.normalization import running_statistics, update_running_statistics
from numnet.kernels._utils import scratch

# Fold rows into one wide row until a row holds about this many values (see the module notes).
_WIDE_ROW = 2048


def _fold(rows: int, columns: int) -> int:
    """How many rows to see as one wide row: a divisor of ``rows``, about _WIDE_ROW / columns."""
    return math.gcd(rows, max(1, _WIDE_ROW // columns))


def _wide(a: Any, fold: int) -> Any:
    """``a`` (R, C) viewed as (R / fold, fold C)."""
    return a.reshape(a.shape[0] // fold, fold * a.shape[1])


def _column_sums(a: Any) -> Any:
    """Sums of the columns of ``a`` (R, C) as one BLAS matrix-vector product."""
    xp = get_array_module(a)
    return xp.ones(a.shape[0], dtype=a.dtype) @ a


def _global_sums(sync: Any, sums: Any, *extra: float) -> Any:
    """``sums`` (and ``extra`` numbers after them) summed over the ranks, in float64."""
    xp = get_array_module(sums)
    return sync.sum(xp.concatenate([sums.astype(xp.float64), xp.asarray(extra, dtype=xp.float64)]))


def batchnorm_rows_forward(
    x: Any, gamma: Any, beta: Any, bn_param: dict, workspace: Any = None, sync: Any = None
) -> tuple[Any, tuple]:
    """:func:`~numnet.functional.normalization.batchnorm_forward` for ``x`` (R, C).

    Same ``bn_param`` handling (mode, eps, momentum, running statistics replaced by new arrays).
    Returns ``out`` (R, C) (a workspace buffer when one is given) and the cache of
    :func:`batchnorm_rows_backward`, which holds the centred ``x - mean`` rather than ``xhat``
    (``xhat = (x - mean) / std`` is one pass more and the backward needs only column sums of it).
    """
    xp = get_array_module(x, gamma, beta)
    rows, columns = x.shape
    fold = _fold(rows, columns)
    eps = x.dtype.type(bn_param.get("eps", 1e-5))
    running_mean, running_var = running_statistics(bn_param, xp, columns, x.dtype)
    x_wide = _wide(xp.ascontiguousarray(x), fold)
    centred = scratch(workspace, "centred", x_wide.shape, x.dtype, xp)
    weight = 1.0
    if bn_param["mode"] == "train":
        sums = _column_sums(x_wide.reshape(rows, columns))
        if sync is None:
            mean = sums / rows
        else:
            totals = _global_sums(sync, sums, rows)
            global_rows = totals[-1]
            mean = (totals[:-1] / global_rows).astype(x.dtype)
            weight = rows / float(global_rows) if sync.active else 0.0
        xp.subtract(x_wide, xp.tile(mean, fold), out=centred)
        squares = scratch(workspace, "squares", x_wide.shape, x.dtype, xp)
        xp.multiply(centred, centred, out=squares)
        sums = _column_sums(squares.reshape(rows, columns))
        if sync is None:
            var = sums / rows
        else:
            var = (_global_sums(sync, sums) / global_rows).astype(x.dtype)
        update_running_statistics(bn_param, mean, var)
    else:
        mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
        xp.subtract(x_wide, xp.tile(mean, fold), out=centred)
    inv_std = 1 / xp.sqrt(var + eps)
    out = scratch(workspace, "out", x_wide.shape, x.dtype, xp)
    xp.multiply(centred, xp.tile(gamma * inv_std, fold), out=out)  # gamma xhat
    out += xp.tile(beta, fold)
    mode = bn_param["mode"]
    sync = sync if mode == "train" else None
    cache = (centred.reshape(rows, columns), inv_std, gamma, fold, mode, workspace, sync, weight)
    return out.reshape(rows, columns), cache


def batchnorm_rows_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Gradients ``(dx, dgamma, dbeta)`` of :func:`batchnorm_rows_forward`: (R, C), (C,), (C,).

    With ``centred = x - mean`` and ``xhat = centred / std``: ``dgamma = sum_r dout centred / std``
    and, in training, ``dx = (gamma / std) (dout - dbeta / R - centred dgamma / (std R))``; with
    running statistics ``dx = (gamma / std) dout``. With ``sync``, the ``dbeta`` and ``dgamma``
    inside ``dx`` are the global batch's (each rank's weighted by its share) while the returned
    ones are this rank's own.
    """
    centred, inv_std, gamma, fold, mode, workspace, sync, weight = cache
    xp = get_array_module(dout, centred)
    rows, columns = centred.shape
    dout_wide = _wide(xp.ascontiguousarray(dout), fold)
    centred_wide = _wide(centred, fold)
    product = scratch(workspace, "product", dout_wide.shape, dout.dtype, xp)
    dbeta = _column_sums(dout_wide.reshape(rows, columns))
    xp.multiply(dout_wide, centred_wide, out=product)
    dgamma_centred = _column_sums(product.reshape(rows, columns))  # sum_r dout (x - mean)
    dgamma = dgamma_centred * inv_std
    scale = gamma * inv_std
    dx = scratch(workspace, "dx", dout_wide.shape, dout.dtype, xp)
    xp.multiply(dout_wide, xp.tile(scale, fold), out=dx)
    if mode == "train":
        sum_dout, sum_dgamma = dbeta, dgamma
        if sync is not None:
            totals = _global_sums(sync, weight * xp.concatenate([dbeta, dgamma]))
            sum_dout = totals[:columns].astype(dout.dtype)
            sum_dgamma = totals[columns:].astype(dout.dtype)
        # xhat dgamma / R = centred inv_std^2 dgamma_centred / R, times scale
        xp.multiply(centred_wide, xp.tile(scale * inv_std * sum_dgamma / rows, fold), out=product)
        dx -= product
        dx -= xp.tile(scale * sum_dout / rows, fold)
    return dx.reshape(rows, columns), dgamma, dbeta
