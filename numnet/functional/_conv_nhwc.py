"""Channel-last convolution kernels behind :func:`numnet.functional.conv.conv_forward`.

Images are (N, H, W, C) here, which is what the im2col GEMM produces and consumes, so a network
that keeps activations channel-last (``numnet.nn`` layers in a ``ConvNet``) skips the NCHW
transposes around every convolution. ``x`` may be any strided view (e.g. an NCHW array
transposed), since it is only read through slices. Big temporaries (padded input, im2col matrix,
output, padded input gradient) come from an optional :class:`~numnet.nn.workspace.Workspace` and
are then reused from call to call instead of being allocated (and page-faulted in) every time.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module

Settings = tuple[int, int, int, int]


def _scratch(workspace: Any, name: str, shape: tuple[int, ...], dtype: Any, xp: Any) -> Any:
    """An uninitialised array: the workspace's buffer ``name`` or a fresh one."""
    if workspace is None:
        return xp.empty(shape, dtype=dtype)
    return workspace.get(name, shape, dtype, xp)


def _window(offset: int, stride: int, size: int) -> slice:
    return slice(offset, offset + stride * (size - 1) + 1, stride)


def conv_nhwc_forward(
    x: Any, w: Any, b: Any, settings: Settings, workspace: Any = None
) -> tuple[Any, tuple]:
    """Convolution of channel-last ``x`` (N, H, W, C) with ``w`` (F, C, HH, WW) plus ``b`` (F,).

    Returns ``out`` (N, H', W', F) (C-contiguous; a workspace buffer when one is given) and the
    cache for :func:`conv_nhwc_backward`. No validation: callers check shapes and settings.
    """
    stride_h, stride_w, pad_h, pad_w = settings
    num_images, height, width, channels = x.shape
    num_filters, _, kernel_h, kernel_w = w.shape
    out_h = 1 + (height + 2 * pad_h - kernel_h) // stride_h
    out_w = 1 + (width + 2 * pad_w - kernel_w) // stride_w
    xp = get_array_module(x, w, b)
    dtype = xp.result_type(x, w, b)
    if pad_h or pad_w:
        padded_shape = (num_images, height + 2 * pad_h, width + 2 * pad_w, channels)
        if workspace is None:
            x_pad = xp.zeros(padded_shape, dtype=dtype)
        else:  # the border is zeroed once; only the inside is written on later calls
            x_pad, _ = workspace.zeros("x_pad", padded_shape, dtype, xp)
        x_pad[:, pad_h : pad_h + height, pad_w : pad_w + width, :] = x
    else:
        x_pad = x
    cols = _scratch(
        workspace, "cols", (num_images, out_h, out_w, kernel_h, kernel_w, channels), dtype, xp
    )
    for p in range(kernel_h):
        rows = _window(p, stride_h, out_h)
        for q in range(kernel_w):
            cols[:, :, :, p, q, :] = x_pad[:, rows, _window(q, stride_w, out_w), :]
    cols = cols.reshape(num_images * out_h * out_w, kernel_h * kernel_w * channels)
    w_mat = w.transpose(0, 2, 3, 1).reshape(num_filters, -1)  # (F, HH*WW*C), rows like cols
    out = _scratch(workspace, "out", (cols.shape[0], num_filters), dtype, xp)
    xp.matmul(cols, w_mat.T, out=out)
    out += b
    cache = (tuple(x.shape), tuple(w.shape), cols, w_mat, settings, workspace)
    return out.reshape(num_images, out_h, out_w, num_filters), cache


def conv_nhwc_backward(
    dout: Any,
    cache: tuple,
    need_dx: bool = True,
    dw_out: Any = None,
    db_out: Any = None,
) -> tuple[Any, Any, Any]:
    """Gradients of :func:`conv_nhwc_forward` for ``dout`` (N, H', W', F).

    Returns ``(dx, dw, db)``: dx (N, H, W, C) channel-last (None when ``need_dx`` is False; a
    view of a workspace buffer when the forward had one), dw (F, C, HH, WW), db (F,). ``dw_out``
    and ``db_out`` are optional arrays to write dw and db into. See ``conv_backward`` for the math.
    """
    x_shape, w_shape, cols, w_mat, settings, workspace = cache
    stride_h, stride_w, pad_h, pad_w = settings
    num_images, height, width, channels = x_shape
    num_filters, _, kernel_h, kernel_w = w_shape
    out_h, out_w = dout.shape[1], dout.shape[2]
    xp = get_array_module(dout, cols)
    dout_mat = xp.ascontiguousarray(dout).reshape(-1, num_filters)  # (N*H'*W', F)
    db = xp.sum(dout_mat, axis=0, out=db_out)
    dw_mat = dout_mat.T @ cols  # (F, HH*WW*C)
    dw_view = dw_mat.reshape(num_filters, kernel_h, kernel_w, channels).transpose(0, 3, 1, 2)
    if dw_out is None:
        dw = xp.ascontiguousarray(dw_view)
    else:
        dw = dw_out
        dw[...] = dw_view
    if not need_dx:
        return None, dw, db
    # col2im one kernel offset at a time: dx_pad[:, rows(p), cols(q), :] += dout_mat @ w[:, :, p, q]
    w_by_offset = w_mat.reshape(num_filters, kernel_h, kernel_w, channels)
    dtype = xp.result_type(dout_mat, w_mat)
    padded_shape = (num_images, height + 2 * pad_h, width + 2 * pad_w, channels)
    dx_pad = _scratch(workspace, "dx_pad", padded_shape, dtype, xp)
    dx_pad[...] = 0
    dcols = _scratch(workspace, "dcols", (dout_mat.shape[0], channels), dtype, xp)
    for p in range(kernel_h):
        rows = _window(p, stride_h, out_h)
        for q in range(kernel_w):
            xp.matmul(dout_mat, w_by_offset[:, p, q, :], out=dcols)
            dx_pad[:, rows, _window(q, stride_w, out_w), :] += dcols.reshape(
                num_images, out_h, out_w, channels
            )
    dx = dx_pad[:, pad_h : pad_h + height, pad_w : pad_w + width, :]
    return dx, dw, db
