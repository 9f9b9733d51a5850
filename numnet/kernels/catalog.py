"""Every fast kernel, registered for the layer it serves, with NCHW adapters for the layer table.

The adapters take and return exactly what the reference pair in :mod:`numnet.functional` takes
and returns (NCHW arrays, CS231n parameter dicts), so the layer table can hold a kernel's results
against the reference's. The ``*_fast`` names are the CS231n ``fast_layers.py`` names;
:mod:`numnet.layers` re-exports ``conv_forward_fast`` / ``conv_backward_fast`` and
``max_pool_forward_fast`` / ``max_pool_backward_fast``.

The order of registration is the planner's order of preference for a layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.functional.conv import check_conv_args
from numnet.functional.pooling import check_pool_args
from numnet.kernels.batchnorm_rows import batchnorm_rows_backward, batchnorm_rows_forward
from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward
from numnet.kernels.conv_winograd import winograd_backward, winograd_forward
from numnet.kernels.dense import (
    affine_backward_into,
    affine_forward_into,
    relu_backward_in_place,
    relu_forward_into,
)
from numnet.kernels.pool_nhwc import (
    max_pool_blocks_backward,
    max_pool_blocks_forward,
    max_pool_nhwc_backward,
    max_pool_nhwc_forward,
)
from numnet.kernels.registry import Kernel, register

# Conv2d(algorithm='auto') takes Winograd from this many input channels on: below it the 16
# products per tile are too thin (K = C) for the saved multiplications to pay for the transforms
# (`python -m bench.conv_algorithms` measures the crossing; docs/performance.md).
WINOGRAD_MIN_CHANNELS = 16


def _nhwc(x: Any) -> Any:
    return x.transpose(0, 2, 3, 1)


def _nchw(x: Any) -> Any:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# --- convolution -------------------------------------------------------------------------------


def conv_forward_fast(x: Any, w: Any, b: Any, conv_param: dict) -> tuple[Any, tuple]:
    """:func:`~numnet.functional.conv.conv_forward` by the channel-last im2col kernel."""
    settings = check_conv_args(x, w, b, conv_param)
    out, cache = conv_nhwc_forward(_nhwc(x), w, b, settings)
    return _nchw(out), cache


def conv_backward_fast(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """:func:`~numnet.functional.conv.conv_backward` by the channel-last im2col kernel."""
    dx, dw, db = conv_nhwc_backward(np.ascontiguousarray(_nhwc(dout)), cache)
    return _nchw(dx), dw, db


def winograd_conv_forward(x: Any, w: Any, b: Any, conv_param: dict) -> tuple[Any, tuple]:
    """:func:`~numnet.functional.conv.conv_forward` by Winograd F(2x2, 3x3) (3x3, stride 1)."""
    stride_h, stride_w, pad_h, pad_w = check_conv_args(x, w, b, conv_param)
    if w.shape[2:] != (3, 3) or stride_h != 1 or stride_w != 1 or pad_h != pad_w:
        raise ValueError("the Winograd kernel needs 3x3 filters, stride 1 and equal padding")
    out, cache = winograd_forward(_nhwc(x), w, b, pad_h)
    return _nchw(out), cache


def winograd_conv_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """:func:`~numnet.functional.conv.conv_backward` by Winograd F(2x2, 3x3)."""
    dx, dw, db = winograd_backward(np.ascontiguousarray(_nhwc(dout)), cache)
    return _nchw(dx), dw, db


def _is_winograd_layer(layer: Any) -> bool:
    """Conv2d settings Winograd computes: 3x3, stride 1, and 'winograd' or enough channels."""
    if getattr(layer, "algorithm", "auto") == "im2col":
        return False
    square_3x3 = layer.kernel_size == 3 and layer.conv_param["stride"] == 1
    if layer.algorithm == "winograd":
        return square_3x3
    return square_3x3 and layer.in_channels >= WINOGRAD_MIN_CHANNELS


register(
    Kernel(
        "conv2d.winograd",
        "Conv2d",
        "conv",
        _is_winograd_layer,
        winograd_conv_forward,
        winograd_conv_backward,
        "Winograd F(2x2, 3x3): 16 products per 2x2 output tile instead of 36, channel-last",
    )
)
register(
    Kernel(
        "conv2d.im2col",
        "Conv2d",
        "conv",
        lambda layer: getattr(layer, "algorithm", "auto") != "winograd",
        conv_forward_fast,
        conv_backward_fast,
        "channel-last im2col with the bias as an extra column: one GEMM forward, two backward",
    )
)

# --- max pooling -------------------------------------------------------------------------------


def max_pool_forward_fast(x: Any, pool_param: dict) -> tuple[Any, tuple]:
    """:func:`~numnet.functional.pooling.max_pool_forward` by the channel-last kernel."""
    settings = check_pool_args(x, pool_param)
    out, cache = max_pool_nhwc_forward(_nhwc(x), settings)
    return _nchw(out), cache


def max_pool_backward_fast(dout: Any, cache: tuple) -> Any:
    """:func:`~numnet.functional.pooling.max_pool_backward` by the channel-last kernel."""
    return _nchw(max_pool_nhwc_backward(np.ascontiguousarray(_nhwc(dout)), cache))


def max_pool_blocks_forward_nchw(x: Any, pool_param: dict) -> tuple[Any, tuple]:
    """2x2, stride-2 max pooling through the window-blocks kernel (the layout a ConvNet uses)."""
    settings = check_pool_args(x, pool_param)
    if settings != (2, 2, 2):
        raise ValueError("the pooling-blocks kernel needs 2x2 windows with stride 2")
    height, width = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
    image = _nhwc(x)[:, :height, :width]
    blocks = np.stack([image[:, p::2, q::2] for p in range(2) for q in range(2)])
    out, cache = max_pool_blocks_forward(blocks)
    return _nchw(out), (cache, tuple(x.shape))


def max_pool_blocks_backward_nchw(dout: Any, cache: tuple) -> Any:
    """Backward of :func:`max_pool_blocks_forward_nchw`; rows and columns no window saw get 0."""
    blocks_cache, x_shape = cache
    dx_blocks = max_pool_blocks_backward(np.ascontiguousarray(_nhwc(dout)), blocks_cache)
    num_images, channels, height, width = x_shape
    dx = np.zeros((num_images, height, width, channels), dtype=dx_blocks.dtype)
    for p in range(2):
        for q in range(2):
            dx[:, p : 2 * (height // 2) : 2, q : 2 * (width // 2) : 2] = dx_blocks[2 * p + q]
    return _nchw(dx)


def _is_2x2_stride_2(layer: Any) -> bool:
    param = layer.pool_param
    return param["pool_height"] == param["pool_width"] == param["stride"] == 2


register(
    Kernel(
        "maxpool2d.blocks",
        "MaxPool2d",
        "max_pool",
        _is_2x2_stride_2,
        max_pool_blocks_forward_nchw,
        max_pool_blocks_backward_nchw,
        "2x2/2 windows given as four contiguous blocks by the convolution before it",
    )
)
register(
    Kernel(
        "maxpool2d.nhwc",
        "MaxPool2d",
        "max_pool",
        lambda layer: True,
        max_pool_forward_fast,
        max_pool_backward_fast,
        "channel-last windows; the backward routes from masks kept by the forward",
    )
)

# --- batch norm --------------------------------------------------------------------------------


def spatial_batchnorm_forward_fast(
    x: Any, gamma: Any, beta: Any, bn_param: dict
) -> tuple[Any, tuple]:
    """:func:`~numnet.functional.normalization.spatial_batchnorm_forward` over channel-last rows."""
    rows = np.ascontiguousarray(_nhwc(x)).reshape(-1, x.shape[1])
    out, cache = batchnorm_rows_forward(rows, gamma, beta, bn_param)
    n, c, h, w = x.shape
    return _nchw(out.reshape(n, h, w, c)), (cache, tuple(x.shape))


def spatial_batchnorm_backward_fast(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """:func:`~numnet.functional.normalization.spatial_batchnorm_backward` over rows."""
    rows_cache, (n, c, h, w) = cache
    rows = np.ascontiguousarray(_nhwc(dout)).reshape(-1, c)
    dx, dgamma, dbeta = batchnorm_rows_backward(rows, rows_cache)
    return _nchw(dx.reshape(n, h, w, c)), dgamma, dbeta


register(
    Kernel(
        "batchnorm2d.rows",
        "BatchNorm2d",
        "spatial_batchnorm",
        lambda layer: True,
        spatial_batchnorm_forward_fast,
        spatial_batchnorm_backward_fast,
        "channel-last rows: BLAS column sums and long inner loops",
    )
)

# --- dense -------------------------------------------------------------------------------------


def affine_forward_fast(x: Any, w: Any, b: Any) -> tuple[Any, tuple]:
    """:func:`~numnet.functional.affine.affine_forward` by the buffer-writing kernel."""
    out, cache = affine_forward_into(x.reshape(x.shape[0], -1), w, b)
    return out, (cache, tuple(x.shape))


def affine_backward_fast(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """:func:`~numnet.functional.affine.affine_backward` by the buffer-writing kernel."""
    inner, x_shape = cache
    dx, dw, db = affine_backward_into(dout, inner)
    return dx.reshape(x_shape), dw, db


def relu_forward_fast(x: Any) -> tuple[Any, Any]:
    """:func:`~numnet.functional.activations.relu_forward` by the in-place kernel."""
    return relu_forward_into(x)


def relu_backward_fast(dout: Any, cache: Any) -> Any:
    """:func:`~numnet.functional.activations.relu_backward` by the in-place kernel (on a copy)."""
    return relu_backward_in_place(np.array(dout, copy=True), cache)


register(
    Kernel(
        "linear.gemm",
        "Linear",
        "affine",
        lambda layer: True,
        affine_forward_fast,
        affine_backward_fast,
        "products written into reused buffers and the flat gradient array; no checks",
    )
)
register(
    Kernel(
        "relu.in_place",
        "ReLU",
        "relu",
        lambda layer: True,
        relu_forward_fast,
        relu_backward_fast,
        "output into a reused buffer; the backward masks dout in place",
    )
)
