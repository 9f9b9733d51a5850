"""Numerical gradient checks (CS231n API) and a self-check of every layer's backward pass.

``eval_numerical_gradient``, ``eval_numerical_gradient_array`` and ``rel_error`` match the
assignment's helpers (central differences). :func:`check_layer` compares every gradient a backward
returns with central differences under a random upstream gradient, and
:func:`gradcheck_all_layers` runs it on a small built-in case for each public layer (the
``numnet gradcheck`` command).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np


def rel_error(x: Any, y: Any) -> float:
    """Maximum relative error ``max(|x - y| / max(1e-8, |x| + |y|))`` (CS231n)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = False, h: float = 1e-5
) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; it must read ``x`` (which is perturbed in place and restored).
    x : ndarray, any shape, float64
    verbose : bool
        Print each index and its numerical derivative.
    h : float
        Step size.

    Returns
    -------
    grad : ndarray, shape of x
        ``(f(x + h e_i) - f(x - h e_i)) / (2h)`` for every element i.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] = old_value - h
        f_minus = f(x)
        x[ix] = old_value
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x) * df)`` at ``x`` for an array-valued ``f``.

    Parameters
    ----------
    f : callable
        ``f(x) -> ndarray`` of df's shape; it must read ``x`` (perturbed in place and restored).
    x : ndarray, any shape, float64
    df : ndarray, shape of f(x)
        Upstream gradient.
    h : float
        Step size.

    Returns
    -------
    grad : ndarray, shape of x
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old_value = x[ix]
        x[ix] = old_value + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old_value - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old_value
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    rng: np.random.Generator | None = None,
) -> list[float]:
    """Relative errors of ``analytic_grad`` at ``num_checks`` random elements of ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x, analytic_grad : ndarray, same shape
    num_checks : int
        Number of random elements to check.
    h : float
        Step size.
    rng : np.random.Generator, optional
        Chooses the elements (seed 0 if omitted).

    Returns
    -------
    list of float
        One relative error per checked element.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    errors = []
    for flat in rng.integers(x.size, size=num_checks):
        ix = np.unravel_index(int(flat), x.shape)
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] = old_value - h
        f_minus = f(x)
        x[ix] = old_value
        numeric = (f_plus - f_minus) / (2 * h)
        errors.append(rel_error(numeric, analytic_grad[ix]))
    return errors


def _as_float64(arg: Any) -> Any:
    if isinstance(arg, np.ndarray) and arg.dtype.kind == "f":
        return arg.astype(np.float64)
    return arg


def check_layer(
    forward: Callable[..., Any],
    backward: Callable[..., Any] | None,
    args: Sequence[Any],
    grad_args: Sequence[int],
    rng: np.random.Generator | None = None,
    h: float = 1e-5,
) -> dict[int, float]:
    """Relative error of each analytic gradient of a layer against central differences.

    Parameters
    ----------
    forward : callable
        ``forward(*args) -> (out, cache)``; or, when ``backward`` is None, a loss
        ``forward(*args) -> (loss, grad)`` whose gradient is with respect to ``args[grad_args[0]]``.
    backward : callable or None
        ``backward(dout, cache)`` returning one gradient or a tuple, in the order of ``grad_args``.
    args : sequence
        Positional arguments; float arrays are copied to float64, dicts etc. are passed as given.
    grad_args : sequence of int
        Positions in ``args`` of the inputs whose gradients the backward returns.
    rng : np.random.Generator, optional
        Draws the standard-normal upstream gradient (seed 0 if omitted).
    h : float
        Step size of the central differences.

    Returns
    -------
    dict
        ``{position: rel_error(analytic, numerical)}`` for every position in ``grad_args``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    args = [_as_float64(a) for a in args]
    if backward is None:
        _, grad = forward(*args)
        position = grad_args[0]
        if np.shape(grad) != np.shape(args[position]):
            raise ValueError(
                f"loss gradient has shape {np.shape(grad)}, but argument {position} has shape "
                f"{np.shape(args[position])}; they must match"
            )

        def loss_at(x: np.ndarray) -> float:
            return float(forward(*args[:position], x, *args[position + 1 :])[0])

        numeric = eval_numerical_gradient(loss_at, args[position], h=h)
        return {position: rel_error(grad, numeric)}
    out, cache = forward(*args)
    dout = rng.standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if len(grad_args) == 1 and not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(grad_args):
        raise ValueError(
            f"backward returned {len(grads)} gradients but grad_args names {len(grad_args)}"
        )
    errors = {}
    for position, analytic in zip(grad_args, grads, strict=True):
        if np.shape(analytic) != np.shape(args[position]):
            raise ValueError(
                f"backward's gradient for argument {position} has shape {np.shape(analytic)}, "
                f"but the argument has shape {np.shape(args[position])}; they must match"
            )

        def output_at(x: np.ndarray, position: int = position) -> np.ndarray:
            return forward(*args[:position], x, *args[position + 1 :])[0]

        numeric = eval_numerical_gradient_array(output_at, args[position], dout, h=h)
        errors[position] = rel_error(analytic, numeric)
    return errors


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard-normal values pushed at least 0.1 away from 0 (the ReLU kink)."""
    u = rng.standard_normal(shape)
    return np.sign(u) * (0.1 + np.abs(u))


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.1 apart (no ties for max pooling), in random order."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)


def _svm_scores(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose hinge margins all stay at least 1e-3 away from their kink at 0."""
    y = rng.integers(4, size=5)
    while True:
        x = rng.standard_normal((5, 4))
        margins = x - x[np.arange(5), y][:, None] + 1
        margins[np.arange(5), y] = 1
        if np.min(np.abs(margins)) > 1e-3:
            return x, y


def _builtin_cases() -> list[
    tuple[str, Callable, Callable | None, Callable, tuple[int, ...], float]
]:
    """``(name, forward, backward, make_args(rng), grad_args, tol)`` for every public layer."""
    from numnet import layers as L  # noqa: PLC0415  (lazy: keeps `import numnet.gradcheck` light)

    def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
        return rng.standard_normal(shape)

    conv_param = {"stride": 2, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 1}
    return [
        ("affine", L.affine_forward, L.affine_backward,
         lambda r: (normal(r, 3, 2, 3), normal(r, 6, 4), normal(r, 4)), (0, 1, 2), 1e-7),
        ("relu", L.relu_forward, L.relu_backward,
         lambda r: (_away_from_zero(r, (4, 5)),), (0,), 1e-7),
        ("leaky_relu", L.leaky_relu_forward, L.leaky_relu_backward,
         lambda r: (_away_from_zero(r, (4, 5)), 0.1), (0,), 1e-7),
        ("tanh", L.tanh_forward, L.tanh_backward, lambda r: (normal(r, 4, 5),), (0,), 1e-7),
        ("sigmoid", L.sigmoid_forward, L.sigmoid_backward,
         lambda r: (normal(r, 4, 5),), (0,), 1e-7),
        ("dropout", L.dropout_forward, L.dropout_backward,
         lambda r: (normal(r, 4, 5), {"p": 0.6, "mode": "train", "seed": 7}), (0,), 1e-7),
        ("batchnorm", L.batchnorm_forward, L.batchnorm_backward,
         lambda r: (normal(r, 6, 4), normal(r, 4), normal(r, 4), {"mode": "train"}),
         (0, 1, 2), 1e-5),
        ("spatial_batchnorm", L.spatial_batchnorm_forward, L.spatial_batchnorm_backward,
         lambda r: (normal(r, 2, 3, 3, 2), normal(r, 3), normal(r, 3), {"mode": "train"}),
         (0, 1, 2), 1e-5),
        ("layernorm", L.layernorm_forward, L.layernorm_backward,
         lambda r: (normal(r, 4, 6), normal(r, 6), normal(r, 6), {}), (0, 1, 2), 1e-5),
        ("spatial_groupnorm", L.spatial_groupnorm_forward, L.spatial_groupnorm_backward,
         lambda r: (normal(r, 2, 4, 2, 3), normal(r, 1, 4, 1, 1), normal(r, 1, 4, 1, 1), 2, {}),
         (0, 1, 2), 1e-5),
        ("conv", L.conv_forward, L.conv_backward,
         lambda r: (normal(r, 2, 2, 5, 5), normal(r, 3, 2, 3, 3), normal(r, 3), conv_param),
         (0, 1, 2), 1e-7),
        ("conv (winograd, nn.Conv2d's 3x3 stride-1 path)", _winograd_nchw_forward,
         _winograd_nchw_backward,
         lambda r: (normal(r, 2, 2, 5, 4), normal(r, 3, 2, 3, 3), normal(r, 3),
                    {"stride": 1, "pad": 1}), (0, 1, 2),
         1e-7),
        ("max_pool", L.max_pool_forward, L.max_pool_backward,
         lambda r: (_distinct(r, (2, 2, 4, 4)), pool_param), (0,), 1e-7),
        ("avg_pool", L.avg_pool_forward, L.avg_pool_backward,
         lambda r: (normal(r, 2, 2, 4, 4), pool_param), (0,), 1e-7),
        ("softmax_loss", L.softmax_loss, None,
         lambda r: (normal(r, 5, 4), r.integers(4, size=5)), (0,), 1e-5),
        ("softmax_loss (label smoothing 0.1)", partial(L.softmax_loss, label_smoothing=0.1),
         None, lambda r: (normal(r, 5, 4), r.integers(4, size=5)), (0,), 1e-5),
        ("svm_loss", L.svm_loss, None, _svm_scores, (0,), 1e-5),
    ]  # fmt: skip


def _winograd_nchw_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict) -> tuple:
    """The Winograd convolution kernel called like ``conv_forward`` (3x3 filters, stride 1).

    Also the layer table's adapter (``tests/functional/cases_spatial.py``).
    """
    from numnet.kernels.conv_winograd import winograd_forward  # noqa: PLC0415

    out, cache = winograd_forward(x.transpose(0, 2, 3, 1), w, b, conv_param["pad"])
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2)), cache


def _winograd_nchw_backward(dout: np.ndarray, cache: tuple) -> tuple:
    from numnet.kernels.conv_winograd import winograd_backward  # noqa: PLC0415

    dx, dw, db = winograd_backward(np.ascontiguousarray(dout.transpose(0, 2, 3, 1)), cache)
    return np.ascontiguousarray(dx.transpose(0, 3, 1, 2)), dw, db


def gradcheck_all_layers(seed: int = 0) -> list[tuple[str, float, float, bool]]:
    """Check every public layer's backward on a small built-in float64 case.

    Parameters
    ----------
    seed : int
        Seeds the inputs and upstream gradients.

    Returns
    -------
    list of tuple
        ``(name, max_rel_error, tol, passed)`` per layer, ``passed = max_rel_error < tol``.
    """
    results = []
    for name, forward, backward, make_args, grad_args, tol in _builtin_cases():
        rng = np.random.default_rng(seed)
        errors = check_layer(forward, backward, make_args(rng), grad_args, rng=rng)
        worst = max(errors.values())
        results.append((name, worst, tol, bool(worst < tol)))
    return results
