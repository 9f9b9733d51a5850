"""Inverted dropout: in training keep each unit with probability ``p``, scale kept units by 1/p."""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_dout, check_float


def _keep_probability(dropout_param: dict) -> float:
    if "p" not in dropout_param:
        raise ValueError("dropout_param needs 'p', the probability of keeping a unit, in (0, 1]")
    p = float(dropout_param["p"])
    if not 0.0 < p <= 1.0:
        raise ValueError(f"dropout keep probability p must lie in (0, 1], got {p}")
    return p


def _mode(param: dict, name: str) -> str:
    mode = param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"{name}['mode'] must be 'train' or 'test', got {mode!r}")
    return mode


def _generator(dropout_param: dict) -> np.random.Generator:
    seed = dropout_param.get("seed")
    if seed is not None:
        return np.random.default_rng(seed)
    rng = dropout_param.get("rng")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"dropout_param['rng'] must be a np.random.Generator, got {type(rng)}")
        return rng
    return np.random.default_rng()


def dropout_forward(x: Any, dropout_param: dict) -> tuple[Any, tuple[dict, Any, tuple[int, ...]]]:
    """Inverted dropout forward.

    Parameters
    ----------
    x : ndarray, any shape
        Inputs.
    dropout_param : dict
        ``'p'``: probability of KEEPING each unit, in (0, 1]; ``'mode'``: ``'train'`` or ``'test'``;
        optional ``'seed'`` (the same seed gives the same mask on every call, as gradient checks
        need) or else optional ``'rng'`` (a ``np.random.Generator`` that advances with each call);
        with neither, a fresh unseeded generator is used.

    Returns
    -------
    out : ndarray, same shape and dtype as x
        Training: ``x * mask`` with ``mask = [u < p] / p``, u uniform in [0, 1). Test: ``x``.
    cache : tuple
        ``(dropout_param, mask, x_shape)``; ``mask`` is ``None`` in test mode or when ``p == 1``;
        ``x_shape`` lets the backward check ``dout`` in every mode.
    """
    if not hasattr(x, "shape"):
        raise TypeError(f"x must be an array, got {type(x).__name__}")
    check_float("x", x)
    p = _keep_probability(dropout_param)
    mode = _mode(dropout_param, "dropout_param")
    if mode == "test" or p == 1.0:
        return x, (dropout_param, None, x.shape)
    xp = get_array_module(x)
    uniform = _generator(dropout_param).random(x.shape, dtype=x.dtype)
    mask = xp.asarray(uniform < p, dtype=x.dtype)
    mask *= x.dtype.type(1.0 / p)
    return x * mask, (dropout_param, mask, x.shape)


def dropout_backward(dout: Any, cache: tuple[dict, Any, tuple[int, ...]]) -> Any:
    """Inverted dropout backward.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : tuple
        From :func:`dropout_forward`.

    Returns
    -------
    dx : ndarray, same shape as x

    Notes
    -----
    out = x * mask with a fixed mask, so dx = dout * mask (training); dx = dout in test mode.
    """
    _, mask, x_shape = cache
    check_dout(dout, x_shape, "(same as x)")
    if mask is None:
        return dout
    return dout * mask
