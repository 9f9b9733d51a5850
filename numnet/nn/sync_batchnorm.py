"""Synchronised batch norm: training statistics of the whole global batch, across MPI ranks.

In data-parallel training each rank holds a share of the global batch. Synchronised batch norm
standardises every share with the mean and variance of the *global* batch, so that K ranks
compute what one process computes on the whole batch (:mod:`numnet.distributed`):

forward (two allreduces, the same two passes as :func:`numnet.functional.normalization.
batchnorm_forward`)::

    mean = sum_k sum_{rows of k} x / N          N = sum_k n_k rows
    var  = sum_k sum_{rows of k} (x - mean)^2 / N

backward: the loss of rank k is the mean over its own share, so its gradients are those of the
global loss divided by its weight ``w_k = n_k / N`` (the Solver multiplies them by ``w_k`` before
the gradient allreduce). In the global scale the sums the backward needs are
``S1 = sum_k w_k sum_rows dout`` and ``S2 = sum_k w_k sum_rows dout xhat`` (one allreduce), and
back in rank k's scale::

    dx = gamma / std (dout - S1 / n_k - xhat S2 / n_k)       (S / (w_k N) = S / n_k)

``dgamma`` and ``dbeta`` are the rank's own sums, weighted and summed with the other gradients.
A rank whose share is empty runs one sample with ``sync.active = False``: it adds nothing to the
sums and has weight 0.

Test mode uses the running statistics and needs no communication. Only the training forward of a
layer with ``sync`` set comes here (:class:`numnet.nn.BatchNorm1d`, ``BatchNorm2d`` on the
reference plan; the fast plan uses :mod:`numnet.kernels.batchnorm_rows` with the same sums).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from numnet.distributed import BatchSync
from numnet.functional.normalization import running_statistics, update_running_statistics


class SyncCache(NamedTuple):
    """What :func:`sync_batchnorm_backward` needs from the forward."""

    xhat: np.ndarray
    inv_std: np.ndarray  # shaped to broadcast onto x
    gamma: np.ndarray  # shaped to broadcast onto x
    axes: tuple[int, ...]
    rows: int  # this rank's rows per feature (n_k)
    weight: float  # n_k / N, or 0 on an inactive rank
    sync: BatchSync


def sync_batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    bn_param: dict,
    sync: BatchSync,
    axes: tuple[int, ...],
) -> tuple[np.ndarray, SyncCache]:
    """Training-mode batch norm of ``x`` over ``axes`` with global statistics; cache for backward.

    ``x`` is (N, D) with ``axes=(0,)`` or (N, C, H, W) with ``axes=(0, 2, 3)``; features on axis 1.
    The running statistics in ``bn_param`` move towards the global mean and variance, so they are
    the same on every rank.
    """
    if x.ndim not in (2, 4) or x.shape[1] != gamma.shape[0]:
        raise ValueError(
            f"batch norm of {gamma.shape[0]} features got input of shape {x.shape}; expected "
            "(N, D) or (N, C, H, W)"
        )
    bshape = tuple(1 if axis in axes else size for axis, size in enumerate(x.shape))
    rows = x.size // x.shape[1]
    running_statistics(bn_param, np, gamma.shape[0], x.dtype)  # checks mode and shapes
    # pass 1: global mean (float64 sums; the row count rides along in the same allreduce)
    totals = sync.sum(np.append(x.sum(axis=axes, dtype=np.float64), rows))
    count = totals[-1]
    mean = (totals[:-1] / count).astype(x.dtype)
    xhat = x - mean.reshape(bshape)
    # pass 2: global biased variance around that mean
    var = (sync.sum((xhat * xhat).sum(axis=axes, dtype=np.float64)) / count).astype(x.dtype)
    update_running_statistics(bn_param, mean, var)
    inv_std = 1 / np.sqrt(var + x.dtype.type(bn_param.get("eps", 1e-5)))
    xhat *= inv_std.reshape(bshape)
    out = xhat * gamma.reshape(bshape)
    out += beta.reshape(bshape)
    weight = rows / float(count) if sync.active else 0.0
    cache = SyncCache(
        xhat, inv_std.reshape(bshape), gamma.reshape(bshape), axes, rows, weight, sync
    )
    return out, cache


def sync_batchnorm_backward(
    dout: np.ndarray, cache: SyncCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dgamma, dbeta)`` of :func:`sync_batchnorm_forward`, in this rank's scale."""
    xhat, inv_std, gamma, axes, rows, weight, sync = cache
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    features = dbeta.shape[0]
    # S1 and S2 of the module notes: the global batch's sums, in the global scale
    totals = sync.sum(weight * np.concatenate([dbeta, dgamma]).astype(np.float64))
    bshape = gamma.shape
    sum_dout = (totals[:features] / rows).astype(dout.dtype).reshape(bshape)
    sum_dout_xhat = (totals[features:] / rows).astype(dout.dtype).reshape(bshape)
    dx = dout - sum_dout
    dx -= xhat * sum_dout_xhat
    dx *= gamma * inv_std
    return dx, dgamma, dbeta
