"""Channel-last convolution kernels behind :func:`numnet.functional.conv.conv_forward`.

Images are (N, H, W, C) here, which is what the im2col GEMM produces and consumes, so a network
that keeps activations channel-last (``numnet.nn`` layers in a ``ConvNet``) skips the NCHW
transposes around every convolution. ``x`` may be any strided view (e.g. an NCHW array
transposed), since it is only read through slices. Big temporaries (padded input, im2col matrix,
output, padded input gradient) come from an optional
:class:`~numnet.kernels.workspace.Workspace` and are then reused from call to call instead of
being allocated (and page-faulted in) every time.

The im2col matrix carries one extra column of ones and the filter matrix the biases as its last
column, so the forward GEMM adds the bias and the backward's ``dout.T @ cols`` yields ``db`` (the
column sums of ``dout``) as its last column: no separate passes over the (large) output.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional._windows import output_size, window_slice
from numnet.kernels._utils import (
    blocks_to_image,
    positions_inside,
    scratch,
    store,
    zeroed_once,
)

Settings = tuple[int, int, int, int]

# im2col copies a whole window row (WW * C values, contiguous in the padded input) at a time when
# it is at least this long; shorter rows are copied one kernel offset (C values) at a time.
_MIN_ROW_COPY = 16


def _covers(part: Any, size: int) -> bool:
    """Whether an input slice from :func:`positions_inside` is every position ``0 .. size - 1``."""
    window = part[1]
    return window.step == 1 and window.start == 0 and window.stop == size


def _im2col(x_pad: Any, cols: Any, stride_h: int, stride_w: int) -> None:
    """Fill ``cols`` (N, H', W', HH, WW, C) with the receptive fields of padded ``x_pad``."""
    _, out_h, out_w, kernel_h, kernel_w, channels = cols.shape
    xp = get_array_module(x_pad)
    if kernel_w * channels >= _MIN_ROW_COPY:
        # All fields at once: a window row (WW, C) is one contiguous run of a C-contiguous x_pad.
        windows = xp.lib.stride_tricks.sliding_window_view(x_pad, (kernel_h, kernel_w), axis=(1, 2))
        windows = windows[:, window_slice(0, stride_h, out_h), window_slice(0, stride_w, out_w)]
        cols[...] = windows.transpose(0, 1, 2, 4, 5, 3)
        return
    for p in range(kernel_h):
        rows = window_slice(p, stride_h, out_h)
        for q in range(kernel_w):
            cols[:, :, :, p, q, :] = x_pad[:, rows, window_slice(q, stride_w, out_w), :]


def conv_nhwc_forward(
    x: Any, w: Any, b: Any, settings: Settings, workspace: Any = None, pool_blocks: bool = False
) -> tuple[Any, tuple]:
    """Convolution of channel-last ``x`` (N, H, W, C) with ``w`` (F, C, HH, WW) plus ``b`` (F,).

    Returns ``out`` (N, H', W', F) (C-contiguous; a workspace buffer when one is given) and the
    cache for :func:`conv_nhwc_backward`. No validation: callers check shapes and settings.

    With ``pool_blocks`` (H' and W' even) the output comes as (4, N, H'/2, W'/2, F) instead:
    block ``2 p + q`` holds the outputs (2i + p, 2j + q), the four positions of each 2x2 pooling
    window, for :func:`numnet.kernels.pool_nhwc.max_pool_blocks_forward`. Only the order of
    the im2col rows changes (one GEMM still computes everything).
    """
    stride_h, stride_w, pad_h, pad_w = settings
    num_images, height, width, channels = x.shape
    num_filters, _, kernel_h, kernel_w = w.shape
    out_h = output_size(height, kernel_h, stride_h, pad_h)
    out_w = output_size(width, kernel_w, stride_w, pad_w)
    xp = get_array_module(x, w, b)
    dtype = xp.result_type(x, w, b)
    if pad_h or pad_w:
        padded_shape = (num_images, height + 2 * pad_h, width + 2 * pad_w, channels)
        # the border is zeroed once; only the inside is written on later calls (the key: another
        # padding of the same padded size has its border elsewhere)
        x_pad, _ = zeroed_once(
            workspace, "x_pad", padded_shape, dtype, xp, key=(pad_h, pad_w, height, width)
        )
        x_pad[:, pad_h : pad_h + height, pad_w : pad_w + width, :] = x
    else:
        x_pad = x
    field = kernel_h * kernel_w * channels
    num_rows = num_images * out_h * out_w
    if kernel_w * channels < _MIN_ROW_COPY:
        # im2col copies one kernel offset (C values per row) at a time: with the matrix stored
        # transposed, (HH*WW*C + 1, rows), each copy writes contiguous rows (BLAS takes either).
        cols_t, new = zeroed_once(workspace, "cols_t", (field + 1, num_rows), dtype, xp)
        cols = cols_t.T
    else:
        cols, new = zeroed_once(workspace, "cols", (num_rows, field + 1), dtype, xp)
    if new:
        cols[:, field] = 1  # the bias column; the rest is overwritten on every call
    if pool_blocks:
        blocks = cols[:, :field].reshape(
            4, num_images, out_h // 2, out_w // 2, kernel_h, kernel_w, channels
        )
        for p in range(2):
            for q in range(2):
                # outputs (2i + p, 2j + q) read the fields starting at rows p s + 2 s i
                shifted = x_pad[:, p * stride_h :, q * stride_w :, :]
                _im2col(shifted, blocks[2 * p + q], 2 * stride_h, 2 * stride_w)
    else:
        fields = cols[:, :field].reshape(num_images, out_h, out_w, kernel_h, kernel_w, channels)
        _im2col(x_pad, fields, stride_h, stride_w)
    w_ext = scratch(workspace, "w_ext", (num_filters, field + 1), dtype, xp)
    w_ext[:, :field] = w.transpose(0, 2, 3, 1).reshape(num_filters, field)  # rows like cols
    w_ext[:, field] = b
    out = scratch(workspace, "out", (num_rows, num_filters), dtype, xp)
    xp.matmul(cols, w_ext.T, out=out)
    cache = (tuple(x.shape), tuple(w.shape), cols, w_ext, settings, workspace)
    if pool_blocks:
        return out.reshape(4, num_images, out_h // 2, out_w // 2, num_filters), cache
    return out.reshape(num_images, out_h, out_w, num_filters), cache


def conv_nhwc_backward(
    dout: Any,
    cache: tuple,
    input_grad: bool = True,
    dw_out: Any = None,
    db_out: Any = None,
) -> tuple[Any, Any, Any]:
    """Gradients of :func:`conv_nhwc_forward` for ``dout`` (N, H', W', F), or (4, N, H'/2, W'/2, F)
    after a ``pool_blocks`` forward.

    Returns ``(dx, dw, db)``: dx (N, H, W, C) channel-last, C-contiguous (None when ``input_grad``
    is False; a workspace buffer when the forward had one), dw (F, C, HH, WW), db (F,). ``dw_out``
    and ``db_out`` are optional arrays to write dw and db into. See ``conv_backward`` for the math.
    """
    x_shape, w_shape, cols, w_ext, settings, workspace = cache
    stride_h, stride_w, pad_h, pad_w = settings
    num_images, height, width, channels = x_shape
    num_filters, _, kernel_h, kernel_w = w_shape
    field = kernel_h * kernel_w * channels
    xp = get_array_module(dout, cols)
    blocked = dout.ndim == 5
    dtype = xp.result_type(dout, w_ext)
    dout_mat = xp.ascontiguousarray(dout).reshape(-1, num_filters)  # (N*H'*W', F)
    if cols.flags.f_contiguous:  # stored transposed (see the forward): cols.T @ dout, C order
        dw_ext_t = scratch(workspace, "dw_ext_t", (field + 1, num_filters), dtype, xp)
        xp.matmul(cols.T, dout_mat, out=dw_ext_t)
        dw_ext = dw_ext_t.T
    else:
        dw_ext = scratch(workspace, "dw_ext", (num_filters, field + 1), dtype, xp)
        xp.matmul(dout_mat.T, cols, out=dw_ext)  # (F, HH*WW*C + 1): dw, then db = sum of dout
    db = store(dw_ext[:, field], db_out)
    dw_view = dw_ext[:, :field].reshape(num_filters, kernel_h, kernel_w, channels)
    dw = store(dw_view.transpose(0, 3, 1, 2), dw_out)
    if not input_grad:
        return None, dw, db
    if blocked:  # back to (N, H', W', F) order for col2im
        _, _, half_h, half_w, _ = dout.shape
        image_shape = (num_images, 2 * half_h, 2 * half_w, num_filters)
        dout_image = scratch(workspace, "dout_image", image_shape, dtype, xp)
        blocks_to_image(dout, dout_image)
        dout_mat = dout_image.reshape(-1, num_filters)
    out_h = output_size(height, kernel_h, stride_h, pad_h)
    out_w = output_size(width, kernel_w, stride_w, pad_w)
    # col2im one kernel offset at a time: dx[rows(p), cols(q)] += dout_mat @ w[:, :, p, q], over
    # the output positions whose input position (p + s i - pad) lies inside x (not the padding).
    w_by_offset = w_ext[:, :field].reshape(num_filters, kernel_h, kernel_w, channels)
    dx = scratch(workspace, "dx", (num_images, height, width, channels), dtype, xp)
    row_parts = [positions_inside(p, stride_h, pad_h, out_h, height) for p in range(kernel_h)]
    col_parts = [positions_inside(q, stride_w, pad_w, out_w, width) for q in range(kernel_w)]
    offsets = [
        (p, q)
        for p in range(kernel_h)
        for q in range(kernel_w)
        if row_parts[p] is not None and col_parts[q] is not None
    ]
    # An offset whose positions cover all of x is assigned first: then nothing needs zeroing.
    full = [
        pq
        for pq in offsets
        if _covers(row_parts[pq[0]], height) and _covers(col_parts[pq[1]], width)
    ]
    if full:
        offsets.remove(full[0])
        offsets.insert(0, full[0])
    else:
        dx[...] = 0
    dcols = scratch(workspace, "dcols", (dout_mat.shape[0], channels), dtype, xp)
    dcols_4d = dcols.reshape(num_images, out_h, out_w, channels)
    for index, (p, q) in enumerate(offsets):
        xp.matmul(dout_mat, w_by_offset[:, p, q, :], out=dcols)
        (out_rows, in_rows), (out_cols, in_cols) = row_parts[p], col_parts[q]
        contribution = dcols_4d[:, out_rows, out_cols, :]
        if full and index == 0:
            dx[:, in_rows, in_cols, :] = contribution
        else:
            dx[:, in_rows, in_cols, :] += contribution
    return dx, dw, db
