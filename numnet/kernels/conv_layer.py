"""``Conv2d``'s fast path as a :class:`~numnet.kernels.plan.LayerPlan` runs it.

The plan names the kernel (``conv2d.im2col`` or ``conv2d.winograd``) and the layouts: the input
is NCHW or channel-last, the output channel-last, NCHW, or the pooling blocks of a following 2x2
max pool (when the output size is even; otherwise plain channel-last, which the pool also takes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional._checks import check_ndim, check_shape
from numnet.functional._windows import output_size
from numnet.functional.conv import check_conv_args
from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward
from numnet.kernels.conv_winograd import winograd_backward, winograd_forward
from numnet.kernels.dense_layer import fitting_out
from numnet.kernels.plan import BLOCKS, NCHW, NHWC, LayerPlan


def forward(
    plan: LayerPlan, x: Any, w: Any, b: Any, conv_param: dict, train: bool = True
) -> tuple[Any, tuple]:
    """The convolution of ``x`` in the plan's layouts; cache for :func:`backward`.

    With ``train=False`` the Winograd kernel keeps its transformed input one pass at a time
    instead of whole (the backward needs it whole): inference touches less memory.
    """
    x_nchw = x.transpose(0, 3, 1, 2) if plan.input_layout == NHWC and x.ndim == 4 else x
    settings = check_conv_args(x_nchw, w, b, conv_param)  # a transposed view will do
    x_nhwc = x_nchw.transpose(0, 2, 3, 1)
    blocks = False
    if plan.output_layout == BLOCKS:
        stride_h, stride_w, pad_h, pad_w = settings
        out_h = output_size(x_nhwc.shape[1], w.shape[2], stride_h, pad_h)
        out_w = output_size(x_nhwc.shape[2], w.shape[3], stride_w, pad_w)
        blocks = out_h % 2 == 0 and out_w % 2 == 0
    stride_h, stride_w, pad_h, pad_w = settings
    winograd = plan.kernel == "conv2d.winograd" and stride_h == stride_w == 1 and pad_h == pad_w
    if winograd:
        out, cache = winograd_forward(x_nhwc, w, b, pad_h, plan.workspace, blocks, train)
    else:
        out, cache = conv_nhwc_forward(x_nhwc, w, b, settings, plan.workspace, blocks)
    if plan.output_layout == NCHW:
        out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    return out, (winograd, cache)


def backward(
    plan: LayerPlan, dout: Any, cache: tuple, input_grad: bool, grad_out: dict | None
) -> tuple[Any, Any, Any]:
    """``(dx or None, dw, db)``; dx in the input's layout, dw/db into ``grad_out`` when they fit."""
    winograd, inner = cache
    w_shape = inner[1]
    if plan.output_layout == NCHW:
        _check_dout(dout, inner)
        dout = dout.transpose(0, 2, 3, 1)
    dtype = np.result_type(dout, inner[3])
    dw_out = fitting_out(grad_out, "W", w_shape, dtype)
    db_out = fitting_out(grad_out, "b", (w_shape[0],), dtype)
    kernel_backward = winograd_backward if winograd else conv_nhwc_backward
    dx, dw, db = kernel_backward(dout, inner, input_grad, dw_out, db_out)
    if dx is not None and plan.input_layout == NCHW:
        dx = np.ascontiguousarray(dx.transpose(0, 3, 1, 2))
    return dx, dw, db


def _check_dout(dout: Any, cache: tuple) -> None:
    """Raise ``ValueError`` unless ``dout`` is the (N, F, H', W') of the forward of ``cache``."""
    (num_images, height, width, _), (num_filters, _, kernel_h, kernel_w) = cache[0], cache[1]
    stride_h, stride_w, pad_h, pad_w = cache[4]
    out_h = output_size(height, kernel_h, stride_h, pad_h)
    out_w = output_size(width, kernel_w, stride_w, pad_w)
    check_ndim("dout", dout, 4, "(N, F, H', W')")
    check_shape("dout", dout, (num_images, num_filters, out_h, out_w), "(N, F, H', W')")
