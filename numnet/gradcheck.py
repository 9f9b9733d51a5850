"""Numerical gradient checks (CS231n API) and a self-check of every layer's backward pass.

``eval_numerical_gradient``, ``eval_numerical_gradient_array`` and ``rel_error`` match the
assignment's helpers (central differences). :func:`check_layer` compares every gradient a backward
returns with central differences under a random upstream gradient, and
:func:`gradcheck_all_layers` runs it on every row of the layer table (:mod:`numnet.layer_table`:
each public layer and each registered fast kernel), the ``numnet gradcheck`` command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def gradcheck_all_layers(seed: int = 0) -> list[tuple[str, float, float, bool]]:
    """Check the gradients of every row of the layer table by central differences (float64).

    The rows (:data:`numnet.layer_table.ROWS`) are every public layer of :mod:`numnet.layers` on
    several input settings, and every registered fast kernel on inputs that fit it: a kernel's
    backward is checked against the numbers, not only against the reference.

    Parameters
    ----------
    seed : int
        Seeds the inputs (their shapes too) and the upstream gradients.

    Returns
    -------
    list of tuple
        ``(name, max_rel_error, tol, passed)`` per row, ``passed = max_rel_error < tol``; the name
        is the layer or kernel, and the row's variant in parentheses: ``"conv (3x3-stride1-pad1)"``.
    """
    from numnet.layer_table import ROWS, row_rng  # noqa: PLC0415  (keeps this module light)

    results = []
    for case in ROWS:
        rng = row_rng(case, seed)
        args = case.make_args(rng)
        errors = check_layer(case.forward, case.backward, args, case.grad_args, rng, h=case.h)
        worst = max(errors.values())
        results.append((case.name, worst, case.tol, bool(worst < case.tol)))
    return results
