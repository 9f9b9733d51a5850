"""``MaxPool2d``'s fast path as a :class:`~numnet.kernels.plan.LayerPlan` runs it.

Channel-last input (N, H, W, C) goes through the window kernel; the pooling blocks
(4, N, H/2, W/2, C) of the convolution before it through the blocks kernel, whose backward
writes the input gradient over those blocks when the plan says nothing else reads them. NCHW
input (a pool outside a channel-last run) is transposed around the window kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional.pooling import check_pool_args
from numnet.kernels.plan import NCHW, LayerPlan
from numnet.kernels.pool_nhwc import (
    max_pool_blocks_backward,
    max_pool_blocks_forward,
    max_pool_nhwc_backward,
    max_pool_nhwc_forward,
)


def forward(plan: LayerPlan, x: Any, pool_param: dict, train: bool) -> tuple[Any, tuple]:
    """Max pooling of ``x`` in the plan's layout; cache for :func:`backward`."""
    if getattr(x, "ndim", 0) == 5:
        out, cache = max_pool_blocks_forward(x, plan.workspace, train=train)
        return out, ("blocks", cache, x if plan.grad_into_input else None)
    nchw = plan.input_layout == NCHW
    x_nchw = x if nchw else x.transpose(0, 3, 1, 2)
    settings = check_pool_args(x_nchw, pool_param)
    out, cache = max_pool_nhwc_forward(
        x_nchw.transpose(0, 2, 3, 1), settings, plan.workspace, train=train
    )
    if nchw:
        out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    return out, ("windows", cache, None)


def backward(plan: LayerPlan, dout: Any, cache: tuple) -> Any:
    """The input gradient, in the layout the forward's input had."""
    path, inner, blocks = cache
    if path == "blocks":
        return max_pool_blocks_backward(dout, inner, out=blocks)
    if plan.input_layout != NCHW:
        return max_pool_nhwc_backward(dout, inner)
    dx = max_pool_nhwc_backward(np.ascontiguousarray(dout.transpose(0, 2, 3, 1)), inner)
    return np.ascontiguousarray(dx.transpose(0, 3, 1, 2))
