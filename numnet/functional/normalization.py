"""Normalisation layers: batch norm (dense and spatial), layer norm and group norm.

All four standardise ``x`` over some axes, ``xhat = (x - mean) / sqrt(var + eps)`` (biased
variance), then scale and shift, ``out = gamma * xhat + beta``. They share one forward helper
and one backward formula, differing only in the axes they reduce over.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_dout, check_float, check_ndim, check_shape

# The cache of batch norm (dense and spatial) and layer norm, read by _norm_backward:
# (xhat, inv_std, gamma_b, axes, param_axes, mode), where gamma_b is gamma shaped to broadcast onto
# x, axes are the axes the statistics reduce over, param_axes those dgamma and dbeta sum over, and
# mode is 'train' or 'test'. Group norm's cache is (xhat, inv_std, gamma, G).
NormCache = tuple[Any, Any, Any, tuple[int, ...], tuple[int, ...], str]


def _standardize(xp: Any, x: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any, Any, Any]:
    """Return ``xhat, inv_std, mean, var`` with statistics over ``axes`` (kept as size-1 dims)."""
    mean = x.mean(axis=axes, keepdims=True)
    xhat = x - mean
    var = xp.mean(xhat * xhat, axis=axes, keepdims=True)
    inv_std = 1 / xp.sqrt(var + x.dtype.type(eps))
    xhat *= inv_std
    return xhat, inv_std, mean, var


def _standardized_backward(
    xp: Any, dxhat: Any, xhat: Any, inv_std: Any, axes: tuple[int, ...]
) -> Any:
    """dL/dx from dL/dxhat when xhat was standardised with batch statistics over ``axes``."""
    mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
    mean_dxhat_xhat = xp.mean(dxhat * xhat, axis=axes, keepdims=True)
    dx = dxhat - mean_dxhat
    dx -= xhat * mean_dxhat_xhat
    dx *= inv_std
    return dx


def _check_inputs(x: Any, gamma: Any, beta: Any, layout: str, param_layout: str) -> None:
    """Validate x's layout and dtype, and gamma/beta as '(D,)' or '(1, C, 1, 1)' vectors."""
    check_ndim("x", x, layout.count(",") + 1, layout)
    check_float("x", x)
    channels = x.shape[1]
    param_shape = (channels,) if param_layout.count(",") == 1 else (1, channels, 1, 1)
    for name, a in (("gamma", gamma), ("beta", beta)):
        check_ndim(name, a, len(param_shape), param_layout)
        check_float(name, a)
        check_shape(name, a, param_shape, param_layout)


def running_statistics(bn_param: dict, xp: Any, num_features: int, dtype: Any) -> tuple[Any, Any]:
    """Check ``bn_param['mode']``; return its running mean and variance (zeros when missing).

    Raises ``ValueError`` for a mode other than 'train' / 'test' or statistics of the wrong shape.
    """
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    for key in ("running_mean", "running_var"):
        if bn_param.get(key) is None:
            bn_param[key] = xp.zeros(num_features, dtype=dtype)
        check_shape(f"bn_param['{key}']", bn_param[key], (num_features,), "(D,)")
    return bn_param["running_mean"], bn_param["running_var"]


def update_running_statistics(bn_param: dict, mean: Any, var: Any) -> None:
    """``running = momentum * running + (1 - momentum) * batch statistic``, as new arrays.

    New arrays, not in-place updates: a caller may hold the old ones (e.g. a best-model copy).
    """
    momentum = bn_param.get("momentum", 0.9)
    for key, value in (("running_mean", mean), ("running_var", var)):
        bn_param[key] = momentum * bn_param[key] + (1 - momentum) * value.reshape(-1)


def _batchnorm(
    x: Any, gamma: Any, beta: Any, bn_param: dict, axes: tuple[int, ...], bshape: tuple
) -> tuple[Any, NormCache]:
    """Batch norm over ``axes``; ``bshape`` broadcasts per-feature vectors (gamma, stats) onto x."""
    xp = get_array_module(x, gamma, beta)
    eps = bn_param.get("eps", 1e-5)
    running_mean, running_var = running_statistics(bn_param, xp, gamma.shape[0], x.dtype)
    mode = bn_param["mode"]
    if mode == "train":
        xhat, inv_std, mean, var = _standardize(xp, x, axes, eps)
        update_running_statistics(bn_param, mean, var)
    else:
        inv_std = 1 / xp.sqrt(running_var.reshape(bshape).astype(x.dtype) + x.dtype.type(eps))
        xhat = x - running_mean.reshape(bshape).astype(x.dtype)
        xhat *= inv_std
    out = xhat * gamma.reshape(bshape)
    out += beta.reshape(bshape)
    return out, (xhat, inv_std, gamma.reshape(bshape), axes, axes, mode)


def _norm_backward(dout: Any, cache: NormCache) -> tuple[Any, Any, Any]:
    """Shared backward: ``(dx, dgamma, dbeta)`` with dgamma/dbeta shaped like gamma/beta."""
    xhat, inv_std, gamma_b, axes, param_axes, mode = cache
    check_dout(dout, xhat.shape, "(same as x)")
    xp = get_array_module(dout, xhat)
    dbeta = dout.sum(axis=param_axes, keepdims=True)
    dgamma = xp.sum(dout * xhat, axis=param_axes, keepdims=True)
    dxhat = dout * gamma_b
    if mode == "train":
        dx = _standardized_backward(xp, dxhat, xhat, inv_std, axes)
    else:  # fixed statistics: xhat is an affine function of x
        dx = dxhat
        dx *= inv_std
    return dx, dgamma, dbeta


def batchnorm_forward(x: Any, gamma: Any, beta: Any, bn_param: dict) -> tuple[Any, tuple]:
    """Batch normalisation forward for (N, D) inputs (CS231n API).

    Parameters
    ----------
    x : ndarray, shape (N, D)
    gamma, beta : ndarray, shape (D,)
        Scale and shift.
    bn_param : dict
        ``'mode'`` (``'train'`` or ``'test'``, required), ``'eps'`` (1e-5), ``'momentum'`` (0.9),
        ``'running_mean'``/``'running_var'`` of shape (D,) (zeros in x's dtype if missing).
        In training, new running statistics replace the old ones in bn_param:
        ``running = momentum * running + (1 - momentum) * batch_stat`` with the biased variance.

    Returns
    -------
    out : ndarray, shape (N, D)
        ``gamma * (x - mean) / sqrt(var + eps) + beta``; batch statistics in training, running
        statistics in test mode.
    cache : tuple
        For :func:`batchnorm_backward`.
    """
    _check_inputs(x, gamma, beta, "(N, D)", "(D,)")
    out, cache = _batchnorm(x, gamma, beta, bn_param, (0,), (1, -1))
    return out, cache


def batchnorm_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Batch normalisation backward (closed form).

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        From :func:`batchnorm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)

    Notes
    -----
    dbeta = sum_n dout, dgamma = sum_n dout * xhat, dxhat = dout * gamma. Since mean and var depend
    on every x_n, the chain rule through xhat = (x - mean) / std collapses to
    dx = (1/std) * (dxhat - mean_n(dxhat) - xhat * mean_n(dxhat * xhat)).
    In test mode the statistics are constants and dx = dxhat / std.
    """
    dx, dgamma, dbeta = _norm_backward(dout, cache)
    return dx, dgamma.reshape(-1), dbeta.reshape(-1)


# The assignment's name for the simplified closed form, which batchnorm_backward already is.
batchnorm_backward_alt = batchnorm_backward


def spatial_batchnorm_forward(x: Any, gamma: Any, beta: Any, bn_param: dict) -> tuple[Any, tuple]:
    """Spatial batch normalisation forward: per-channel statistics over (N, H, W).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    bn_param : dict
        As in :func:`batchnorm_forward`; running statistics have shape (C,).

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : tuple
        For :func:`spatial_batchnorm_backward`.
    """
    _check_inputs(x, gamma, beta, "(N, C, H, W)", "(C,)")
    return _batchnorm(x, gamma, beta, bn_param, (0, 2, 3), (1, -1, 1, 1))


def spatial_batchnorm_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Spatial batch normalisation backward.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple
        From :func:`spatial_batchnorm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)

    Notes
    -----
    Batch norm with each channel's N*H*W values as the batch: the closed form of
    :func:`batchnorm_backward` with means over axes (0, 2, 3).
    """
    dx, dgamma, dbeta = _norm_backward(dout, cache)
    return dx, dgamma.reshape(-1), dbeta.reshape(-1)


def layernorm_forward(x: Any, gamma: Any, beta: Any, ln_param: dict) -> tuple[Any, tuple]:
    """Layer normalisation forward: each sample standardised over its D features.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    gamma, beta : ndarray, shape (D,)
    ln_param : dict
        ``'eps'`` (default 1e-5); other keys are ignored.

    Returns
    -------
    out : ndarray, shape (N, D)
    cache : tuple
        For :func:`layernorm_backward`.
    """
    _check_inputs(x, gamma, beta, "(N, D)", "(D,)")
    xp = get_array_module(x, gamma, beta)
    xhat, inv_std, _, _ = _standardize(xp, x, (1,), ln_param.get("eps", 1e-5))
    out = xhat * gamma
    out += beta
    return out, (xhat, inv_std, gamma, (1,), (0,), "train")


def layernorm_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Layer normalisation backward.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        From :func:`layernorm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)

    Notes
    -----
    The batch-norm closed form with the roles of the axes swapped: statistics per sample, so
    dx = (1/std_n) * (dxhat - mean_d(dxhat) - xhat * mean_d(dxhat * xhat)), dxhat = dout * gamma;
    dgamma = sum_n dout * xhat and dbeta = sum_n dout as in batch norm.
    """
    dx, dgamma, dbeta = _norm_backward(dout, cache)
    return dx, dgamma.reshape(-1), dbeta.reshape(-1)


def spatial_groupnorm_forward(
    x: Any, gamma: Any, beta: Any, G: int, gn_param: dict
) -> tuple[Any, tuple]:
    """Group normalisation forward: per sample, the C channels are split into G groups.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (1, C, 1, 1)
    G : int
        Number of groups; must divide C.
    gn_param : dict
        ``'eps'`` (default 1e-5).

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : tuple
        For :func:`spatial_groupnorm_backward`.
    """
    _check_inputs(x, gamma, beta, "(N, C, H, W)", "(1, C, 1, 1)")
    channels = x.shape[1]
    if isinstance(G, bool) or not isinstance(G, int | np.integer) or G < 1 or channels % G:
        raise ValueError(
            f"number of groups G must be a positive divisor of C = {channels}, got {G}"
        )
    xp = get_array_module(x, gamma, beta)
    n = x.shape[0]
    xhat, inv_std, _, _ = _standardize(
        xp, x.reshape(n, int(G), -1), (2,), gn_param.get("eps", 1e-5)
    )
    xhat = xhat.reshape(x.shape)
    out = xhat * gamma
    out += beta
    return out, (xhat, inv_std, gamma, int(G))


def spatial_groupnorm_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Group normalisation backward.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple
        From :func:`spatial_groupnorm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (1, C, 1, 1)

    Notes
    -----
    Within each (sample, group) the C/G * H * W values are standardised together, so the
    batch-norm closed form applies per group: dx = (1/std) * (dxhat - mean_g(dxhat)
    - xhat * mean_g(dxhat * xhat)) with dxhat = dout * gamma; dgamma and dbeta sum over (N, H, W).
    """
    xhat, inv_std, gamma, groups = cache
    check_dout(dout, xhat.shape, "(N, C, H, W)")
    xp = get_array_module(dout, xhat)
    n = dout.shape[0]
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = xp.sum(dout * xhat, axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(n, groups, -1)
    dx = _standardized_backward(xp, dxhat, xhat.reshape(n, groups, -1), inv_std, (2,))
    return dx.reshape(dout.shape), dgamma, dbeta
