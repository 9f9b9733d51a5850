"""Elementwise activations: ReLU, leaky ReLU, tanh and a numerically stable sigmoid."""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_dout, check_float


def _check_input(x: Any) -> None:
    if not hasattr(x, "ndim") or not hasattr(x, "shape"):
        raise TypeError(f"x must be an array, got {type(x).__name__}")
    check_float("x", x)


def relu_forward(x: Any) -> tuple[Any, Any]:
    """ReLU forward: ``out = max(x, 0)``.

    Parameters
    ----------
    x : ndarray, any shape
        Inputs (float32 or float64; an integer array is refused: pass ``x.astype(np.float64)``).

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : ndarray
        ``x``, for :func:`relu_backward`.
    """
    _check_input(x)
    xp = get_array_module(x)
    return xp.maximum(x, 0), x


def relu_backward(dout: Any, cache: Any) -> Any:
    """ReLU backward.

    Parameters
    ----------
    dout : ndarray, same shape as x
        Upstream gradient.
    cache : ndarray
        ``x`` from :func:`relu_forward`.

    Returns
    -------
    dx : ndarray, same shape as x

    Notes
    -----
    relu'(x) = 1 where x > 0, else 0 (the kink at 0 gets 0), so dx = dout * [x > 0].
    """
    check_dout(dout, cache.shape, "(same as x)")
    return dout * (cache > 0)


def leaky_relu_forward(x: Any, negative_slope: float = 0.01) -> tuple[Any, Any]:
    """Leaky ReLU forward: ``out = x`` where ``x > 0``, else ``negative_slope * x``.

    Parameters
    ----------
    x : ndarray, any shape
    negative_slope : float
        Slope for negative inputs (PyTorch's default 0.01).

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : tuple
        ``(x, negative_slope)``.
    """
    _check_input(x)
    xp = get_array_module(x)
    slope = x.dtype.type(negative_slope)
    return xp.where(x > 0, x, x * slope), (x, slope)


def leaky_relu_backward(dout: Any, cache: tuple[Any, Any]) -> Any:
    """Leaky ReLU backward.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : tuple
        From :func:`leaky_relu_forward`.

    Returns
    -------
    dx : ndarray, same shape as x

    Notes
    -----
    The derivative is 1 where x > 0 and negative_slope elsewhere: dx = dout * (1 or slope).
    """
    x, slope = cache
    check_dout(dout, x.shape, "(same as x)")
    xp = get_array_module(dout, x)
    return xp.where(x > 0, dout, dout * slope)


def tanh_forward(x: Any) -> tuple[Any, Any]:
    """Tanh forward.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : ndarray
        The output ``tanh(x)`` (the backward needs only the output).
    """
    _check_input(x)
    xp = get_array_module(x)
    out = xp.tanh(x)
    return out, out


def tanh_backward(dout: Any, cache: Any) -> Any:
    """Tanh backward.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : ndarray
        ``out = tanh(x)`` from :func:`tanh_forward`.

    Returns
    -------
    dx : ndarray, same shape as x

    Notes
    -----
    tanh' = 1 - tanh^2 = 1 - out^2, so dx = dout * (1 - out^2).
    """
    out = cache
    check_dout(dout, out.shape, "(same as x)")
    return dout * (1 - out * out)


def sigmoid_forward(x: Any) -> tuple[Any, Any]:
    """Logistic sigmoid forward, ``1 / (1 + exp(-x))``, stable for any finite x.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x, values in [0, 1]
    cache : ndarray
        The output (the backward needs only the output).

    Notes
    -----
    Only ``exp(-|x|) <= 1`` is ever computed, so nothing overflows: sigmoid(x) = 1 / (1 + e) for
    x >= 0 and e / (1 + e) for x < 0, with e = exp(-|x|). Underflow of e to 0 for very large |x|
    is the correct limit and is not reported.
    """
    _check_input(x)
    xp = get_array_module(x)
    with np.errstate(under="ignore"):
        e = xp.exp(-xp.abs(x))
        out = xp.where(x >= 0, 1, e)
        e += 1
        out /= e
    return out, out


def sigmoid_backward(dout: Any, cache: Any) -> Any:
    """Sigmoid backward.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : ndarray
        ``s = sigmoid(x)`` from :func:`sigmoid_forward`.

    Returns
    -------
    dx : ndarray, same shape as x

    Notes
    -----
    sigmoid' = s * (1 - s), computed from the saved output s: dx = dout * s * (1 - s).
    """
    s = cache
    check_dout(dout, s.shape, "(same as x)")
    with np.errstate(under="ignore"):
        return dout * (s * (1 - s))
