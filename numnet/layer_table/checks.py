"""Running a row: its inputs in a given dtype, and its results held against the reference pair."""

from __future__ import annotations

import copy
import zlib
from typing import Any

import numpy as np

from numnet.layer_table.case import LayerCase


def row_rng(case: LayerCase, seed: int = 0) -> np.random.Generator:
    """A generator for ``case`` and ``seed``: every row and seed draws its own shapes."""
    return np.random.default_rng([seed, zlib.crc32(case.id.encode())])


def cast_args(args: tuple, dtype: Any) -> tuple:
    """``args`` with every float array (also inside dicts) converted to ``dtype``; dicts copied."""

    def cast(a: Any) -> Any:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            return a.astype(dtype)
        if isinstance(a, dict):
            return {key: cast(value) for key, value in a.items()}
        return a

    return tuple(cast(a) for a in args)


def scaled_error(actual: Any, expected: Any) -> float:
    """``max|actual - expected| / max(1, max|expected|)``: relative to the array's scale.

    Elementwise relative errors would blow up where an entry is nearly zero by cancellation;
    measured against the largest entry, rounding stays at the dtype's epsilon times the depth of
    the sums, whatever the values.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shape {actual.shape} differs from the reference's {expected.shape}")
    if expected.size == 0:
        return 0.0
    scale = max(1.0, float(np.max(np.abs(expected))))
    return float(np.max(np.abs(actual - expected))) / scale


def _as_tuple(grads: Any) -> tuple:
    return grads if isinstance(grads, tuple) else (grads,)


def compare_with_reference(
    case: LayerCase, rng: np.random.Generator, dtype: Any = np.float64
) -> dict[str, float]:
    """Run ``case``'s functions in ``dtype`` and its reference pair in float64; their differences.

    The inputs (and the upstream gradient) are drawn, rounded to ``dtype``, and given to both, so
    that only the computation differs. The row's functions must keep ``dtype``.

    Returns
    -------
    dict
        :func:`scaled_error` of ``"forward"``, of each gradient ``"grad <position>"``, and of
        every array a parameter dict holds after the forward (``"args[3]['running_mean']"``:
        batch norm's running statistics).

    Raises
    ------
    ValueError
        When a result has another shape than the reference's, or is not of ``dtype``.
    """
    dtype = np.dtype(dtype)
    args = cast_args(case.make_args(rng), dtype)
    mine, theirs = copy.deepcopy(args), cast_args(copy.deepcopy(args), np.float64)
    out, cache = case.forward(*mine)
    ref_out, ref_cache = case.reference_forward(*theirs)
    results = {"forward": (out, ref_out)}
    if case.kind == "loss":
        results["grad 0"] = (cache, ref_cache)
    else:
        dout = rng.standard_normal(np.shape(ref_out)).astype(dtype)
        grads = _as_tuple(case.backward(dout, cache))
        ref_grads = _as_tuple(case.reference_backward(dout.astype(np.float64), ref_cache))
        if len(grads) != len(ref_grads):
            raise ValueError(f"{case.id}: {len(grads)} gradients, the reference {len(ref_grads)}")
        for position, grad, ref_grad in zip(case.grad_args, grads, ref_grads, strict=True):
            results[f"grad {position}"] = (grad, ref_grad)
    for index, (a, r) in enumerate(zip(mine, theirs, strict=True)):
        if isinstance(a, dict):
            for key, value in r.items():
                if isinstance(value, np.ndarray):
                    if key not in a:
                        missing = f"args[{index}][{key!r}]"
                        raise ValueError(f"{case.id}: the forward did not set {missing}")
                    results[f"args[{index}][{key!r}]"] = (a[key], value)
    errors = {}
    for what, (actual, expected) in results.items():
        if isinstance(actual, np.ndarray) and actual.dtype != dtype:
            raise ValueError(f"{case.id}: {what} is {actual.dtype}, expected {dtype}")
        try:
            errors[what] = scaled_error(actual, expected)
        except ValueError as error:
            raise ValueError(f"{case.id}: {what}: {error}") from None
    return errors
