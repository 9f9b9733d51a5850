"""Dense kernels: the affine product and ReLU into reused buffers (no checks, no fresh arrays).

Same math as :func:`numnet.functional.affine.affine_forward` / ``affine_backward`` and
:func:`numnet.functional.activations.relu_forward` / ``relu_backward``; what differs is where the
results go. Outputs and gradients are written into arrays the caller hands in (workspace buffers,
views of the flat gradient array), and the ReLU backward multiplies ``dout`` by the mask in
place. The affine backward can skip the input gradient (``input_grad=False``), the largest
product of a network's first layer, which nobody needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional._backend import get_array_module


def affine_forward_into(x2d: Any, w: Any, b: Any, out: Any = None) -> tuple[Any, tuple]:
    """``x2d @ w + b`` for ``x2d`` (N, D), written into ``out`` (N, M) when given; and the cache."""
    xp = get_array_module(x2d, w)
    out = xp.matmul(x2d, w, out=out)
    out += b
    return out, (x2d, w)


def affine_backward_into(
    dout: Any,
    cache: tuple,
    input_grad: bool = True,
    dx_out: Any = None,
    dw_out: Any = None,
    db_out: Any = None,
) -> tuple[Any, Any, Any]:
    """``(dx (N, D) or None, dw (D, M), db (M,))`` of :func:`affine_forward_into`.

    Each result goes into the matching ``*_out`` array when one is given.
    """
    x2d, w = cache
    xp = get_array_module(dout, w)
    dx = xp.matmul(dout, w.T, out=dx_out) if input_grad else None
    dw = xp.matmul(x2d.T, dout, out=dw_out)
    db = (np.add.reduce if xp is np else xp.sum)(dout, axis=0, out=db_out)
    return dx, dw, db


def relu_forward_into(x: Any, out: Any = None) -> tuple[Any, Any]:
    """``max(x, 0)`` into ``out``; the cache is the output (positive exactly where x is)."""
    out = get_array_module(x).maximum(x, 0, out=out)
    return out, out


def relu_backward_in_place(dout: Any, cache: Any, mask: Any = None) -> Any:
    """``dout * [out > 0]``, written over ``dout``; ``mask`` is an optional bool scratch array."""
    xp = get_array_module(dout, cache)
    mask = xp.greater(cache, 0, out=mask)
    return xp.multiply(dout, mask, out=dout)
