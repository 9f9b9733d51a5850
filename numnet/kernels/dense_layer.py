"""The dense layers' fast paths (``Linear``, ``ReLU``, ``Flatten``) as a ``LayerPlan`` runs them.

Each function takes the layer's plan first; results live in the plan's workspace and stay valid
until the layer's next call. Inputs that are not the plain case (float rows whose dtype matches
the weights) go through the reference function, which also gives its error messages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional.affine import affine_backward, affine_forward
from numnet.kernels.dense import (
    affine_backward_into,
    affine_forward_into,
    relu_backward_in_place,
    relu_forward_into,
)
from numnet.kernels.plan import NHWC, LayerPlan


def _plain_rows(x: Any, w: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``x`` reshaped to rows times ``w`` plus ``b`` needs no checks (NumPy, one dtype)."""
    return (
        type(x) is np.ndarray
        and x.ndim >= 1
        and type(w) is np.ndarray
        and w.ndim == 2
        and x.size == x.shape[0] * w.shape[0]
        and b.shape == (w.shape[1],)
        and x.dtype == w.dtype == b.dtype
        and w.dtype.kind == "f"
    )


def linear_forward(plan: LayerPlan, x: Any, w: Any, b: Any) -> tuple[Any, tuple]:
    """``x.reshape(N, D) @ w + b`` into the workspace; cache for :func:`linear_backward`."""
    if not _plain_rows(x, w, b):
        out, cache = affine_forward(x, w, b)
        return out, ("reference", cache)
    x2d = x.reshape(x.shape[0], -1)
    out = plan.workspace.get("out", (x.shape[0], w.shape[1]), x.dtype)
    out, cache = affine_forward_into(x2d, w, b, out)
    return out, ("kernel", cache, tuple(x.shape))


def linear_backward(
    plan: LayerPlan, dout: Any, cache: tuple, input_grad: bool, grad_out: dict
) -> tuple[Any, Any, Any]:
    """``(dx or None, dw, db)``; dw and db go into ``grad_out['W']``/``['b']`` when they fit."""
    if cache[0] == "reference":
        dx, dw, db = affine_backward(dout, cache[1])
        return (dx if input_grad else None), dw, db
    _, inner, x_shape = cache
    x2d, w = inner
    dtype = np.result_type(dout, w)
    dx_out = plan.workspace.get("dx", x2d.shape, dtype) if input_grad else None
    dx, dw, db = affine_backward_into(
        dout,
        inner,
        input_grad,
        dx_out,
        fitting_out(grad_out, "W", w.shape, dtype),
        fitting_out(grad_out, "b", (w.shape[1],), dtype),
    )
    return (None if dx is None else dx.reshape(x_shape)), dw, db


def fitting_out(grad_out: dict | None, name: str, shape: tuple, dtype: Any) -> Any:
    """``grad_out[name]`` when it has ``shape`` and ``dtype``, else None (a fresh array)."""
    array = None if grad_out is None else grad_out.get(name)
    if array is None or array.shape != tuple(shape) or array.dtype != dtype:
        return None
    return array


def relu_forward(plan: LayerPlan, x: Any) -> tuple[Any, Any]:
    """ReLU into the workspace; the cache is the output (positive exactly where x is)."""
    out = plan.workspace.get("out", x.shape, x.dtype)
    return relu_forward_into(x, out)


def relu_backward(plan: LayerPlan, dout: Any, cache: Any) -> Any:
    """``dout * [out > 0]``, written over ``dout``."""
    mask = plan.workspace.get("mask", cache.shape, bool)
    return relu_backward_in_place(dout, cache, mask)


def flatten_forward(plan: LayerPlan, x: Any) -> Any:
    """Rows in (C, H, W) order from a channel-last (N, H, W, C) input, into the workspace."""
    if plan.input_layout != NHWC or x.ndim != 4:
        return x.reshape(x.shape[0], -1)
    out = plan.workspace.get("out", (x.shape[0], x[0].size), x.dtype)
    out.reshape(x.shape[0], x.shape[3], x.shape[1], x.shape[2])[...] = x.transpose(0, 3, 1, 2)
    return out


def flatten_backward(plan: LayerPlan, dout: Any, x_shape: tuple) -> Any:
    """The rows' gradient back in the input's layout (channel-last when the input was)."""
    if plan.input_layout != NHWC or len(x_shape) != 4:
        return dout.reshape(x_shape)
    n, h, w, c = x_shape
    dx = plan.workspace.get("dx", x_shape, dout.dtype)
    dx[...] = dout.reshape(n, c, h, w).transpose(0, 2, 3, 1)
    return dx
