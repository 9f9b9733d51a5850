"""``BatchNorm2d``'s fast path: statistics over the rows of a channel-last activation.

Channel-last input (..., C) of any leading axes (images, or the pooling blocks a convolution
hands on) is seen as (R, C) rows for :mod:`numnet.kernels.batchnorm_rows`; NCHW input (outside a
channel-last run) is transposed to rows and back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.kernels.batchnorm_rows import batchnorm_rows_backward, batchnorm_rows_forward
from numnet.kernels.plan import NCHW, LayerPlan


def forward(
    plan: LayerPlan, x: Any, gamma: Any, beta: Any, bn_param: dict, sync: Any = None
) -> tuple[Any, tuple]:
    """Batch norm of ``x`` (channels last, or NCHW per the plan); cache for :func:`backward`.

    ``sync`` (a :class:`numnet.distributed.BatchSync`, training only): statistics of the global
    batch over all ranks, see :func:`~numnet.kernels.batchnorm_rows.batchnorm_rows_forward`.
    """
    channels = gamma.shape[0]
    nchw = plan.input_layout == NCHW and getattr(x, "ndim", 0) == 4
    x_last = x.transpose(0, 2, 3, 1) if nchw else x
    if getattr(x_last, "ndim", 0) < 2 or x_last.shape[-1] != channels:
        layout = "(N, C, H, W)" if nchw else "(..., C)"
        raise ValueError(
            f"BatchNorm2d({channels}) expects inputs {layout} with C = {channels}, got shape "
            f"{getattr(x, 'shape', None)}"
        )
    rows = np.ascontiguousarray(x_last).reshape(-1, channels)
    out, cache = batchnorm_rows_forward(rows, gamma, beta, bn_param, plan.workspace, sync)
    out = out.reshape(x_last.shape)
    if nchw:
        out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    return out, (cache, x_last.shape, nchw)


def backward(plan: LayerPlan, dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """``(dx, dgamma, dbeta)``, dx in the input's layout."""
    rows_cache, shape, nchw = cache
    dout_last = dout.transpose(0, 2, 3, 1) if nchw else dout
    rows = np.ascontiguousarray(dout_last).reshape(-1, shape[-1])
    dx, dgamma, dbeta = batchnorm_rows_backward(rows, rows_cache)
    dx = dx.reshape(shape)
    if nchw:
        dx = np.ascontiguousarray(dx.transpose(0, 3, 1, 2))
    return dx, dgamma, dbeta
