"""Winograd F(2x2, 3x3) convolution: 3x3 filters, stride 1, any zero padding, channel-last.

The same function as :func:`numnet.functional._conv_nhwc.conv_nhwc_forward` for 3x3 filters with
stride 1, computed with 2.25 times fewer multiplications (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016). Images are (N, H, W, C); ``x`` may be any strided view.

The maths
---------
Cut the output into 2x2 tiles; tile (i, j) needs the 4x4 input patch ``d`` starting at padded
row 2i, column 2j. In one dimension, two outputs of a 3-tap correlation ``y_r = sum_k d_{r+k}
g_k`` take 4 multiplications instead of 6::

    y = A^T [(G g) * (B^T d)]          (* elementwise, over the 4 "Winograd points")

    B^T = [[1, 0, -1, 0],   G = [[1,    0,   0  ],   A^T = [[1, 1,  1,  0],
           [0, 1,  1, 0],        [1/2,  1/2, 1/2],          [0, 1, -1, -1]]
           [0, -1, 1, 0],        [1/2, -1/2, 1/2],
           [0, 1,  0, -1]]       [0,    0,   1  ]]

and nesting it over rows and columns gives the 2-D tile ``Y = A^T [U * V] A`` with the filter
transform ``U = G g G^T`` and the input transform ``V = B^T d B`` (4x4 each). Summing over input
channels turns the elementwise product into 16 matrix products, one per Winograd point k:

    M_k = V_k @ U_k      V_k: (tiles, C),  U_k: (C, F),  M_k: (tiles, F)

then ``Y = A^T M A`` per tile. The GEMMs do 16 C F multiply-adds per tile of 4 outputs instead of
the 36 C F of im2col.

Backward pass (each transform is linear, so its gradient is the transposed transform):

    dM_k = A dY A^T     (per tile, from the 2x2 output gradient)
    dU_k = V_k^T @ dM_k           dg = G^T dU G    -> dw
    dV_k = dM_k @ U_k^T           dd = B dV B^T    -> scatter-added into the overlapping patches
    db   = sum of dY over images and positions

The transforms are written out below as sums and differences of strided slices (each 4x4
transform as a 1-D transform over rows, then over columns), so every pass runs over long
contiguous runs of channels. Rounding differs from im2col's (the transforms add and subtract
before multiplying), by about 1e-6 relative in float32 and 1e-15 in float64.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module


def _scratch(workspace: Any, name: str, shape: tuple[int, ...], dtype: Any, xp: Any) -> Any:
    if workspace is None:
        return xp.empty(shape, dtype=dtype)
    return workspace.get(name, shape, dtype, xp)


def _zeros(workspace: Any, name: str, shape: tuple[int, ...], dtype: Any, xp: Any) -> Any:
    """A zeroed array: the workspace's buffer ``name`` or a fresh one."""
    if workspace is None:
        return xp.zeros(shape, dtype=dtype)
    array = workspace.get(name, shape, dtype, xp)
    array[...] = 0
    return array


def _tiles(offset: int, count: int) -> slice:
    """Rows (or columns) ``offset, offset + 2, ..., offset + 2 (count - 1)``: one per tile."""
    return slice(offset, offset + 2 * count - 1, 2)


def _input_transform_1d(d: list, out: list) -> None:
    """``out = B^T d`` along one axis: d0 - d2, d1 + d2, d2 - d1, d1 - d3."""
    xp = get_array_module(d[0])
    xp.subtract(d[0], d[2], out=out[0])
    xp.add(d[1], d[2], out=out[1])
    xp.subtract(d[2], d[1], out=out[2])
    xp.subtract(d[1], d[3], out=out[3])


def _input_transform_1d_transposed(dv: list, out: list) -> None:
    """``out = B dv`` along one axis (the gradient of :func:`_input_transform_1d`).

    out0 = dv0, out1 = dv1 - dv2 + dv3, out2 = dv1 + dv2 - dv0, out3 = -dv3.
    """
    xp = get_array_module(dv[0])
    out[0][...] = dv[0]
    xp.subtract(dv[1], dv[2], out=out[1])
    out[1] += dv[3]
    xp.add(dv[1], dv[2], out=out[2])
    out[2] -= dv[0]
    xp.negative(dv[3], out=out[3])


def winograd_filters(w: Any, out: Any = None) -> Any:
    """``U = G g G^T`` of every (filter, channel) pair: (16, C, F) from ``w`` (F, C, 3, 3)."""
    xp = get_array_module(w)
    num_filters, channels = w.shape[0], w.shape[1]
    g = w.transpose(2, 3, 1, 0)  # (3, 3, C, F)
    half = w.dtype.type(0.5)
    rows = xp.empty((4, 3, channels, num_filters), dtype=w.dtype)  # G g
    rows[0] = g[0]
    xp.add(g[0], g[2], out=rows[1])
    rows[2] = rows[1]
    rows[1] += g[1]
    rows[2] -= g[1]
    rows[1:3] *= half
    rows[3] = g[2]
    u = out if out is not None else xp.empty((16, channels, num_filters), dtype=w.dtype)
    u4 = u.reshape(4, 4, channels, num_filters)
    u4[:, 0] = rows[:, 0]  # (G g) G^T
    xp.add(rows[:, 0], rows[:, 2], out=u4[:, 1])
    u4[:, 2] = u4[:, 1]
    u4[:, 1] += rows[:, 1]
    u4[:, 2] -= rows[:, 1]
    u4[:, 1:3] *= half
    u4[:, 3] = rows[:, 2]
    return u


def winograd_forward(x: Any, w: Any, b: Any, pad: int, workspace: Any = None) -> tuple[Any, tuple]:
    """3x3, stride-1 convolution of channel-last ``x`` (N, H, W, C) with ``w`` (F, C, 3, 3), ``b``.

    Returns ``out`` (N, H', W', F) with ``H' = H + 2 pad - 2`` (a view into a workspace buffer
    when one is given; not C-contiguous when H' or W' is odd) and the cache for
    :func:`winograd_backward`. No validation: callers check shapes (H', W' >= 1).
    """
    num_images, height, width, channels = x.shape
    num_filters = w.shape[0]
    out_h, out_w = height + 2 * pad - 2, width + 2 * pad - 2
    tiles_h, tiles_w = (out_h + 1) // 2, (out_w + 1) // 2
    xp = get_array_module(x, w, b)
    dtype = xp.result_type(x, w, b)
    padded_shape = (num_images, 2 * tiles_h + 2, 2 * tiles_w + 2, channels)
    if workspace is None:
        x_pad = xp.zeros(padded_shape, dtype=dtype)
    else:
        x_pad, _ = workspace.zeros("wg_x_pad", padded_shape, dtype, xp)  # border zeroed once
    x_pad[:, pad : pad + height, pad : pad + width, :] = x
    # V = B^T d B: over rows (4 arrays of tile-rows, full padded width), then over columns
    row_shape = (4, num_images, tiles_h, padded_shape[2], channels)
    rows = _scratch(workspace, "wg_rows", row_shape, dtype, xp)
    _input_transform_1d([x_pad[:, _tiles(a, tiles_h)] for a in range(4)], list(rows))
    num_tiles = num_images * tiles_h * tiles_w
    v = _scratch(workspace, "wg_v", (16, num_tiles, channels), dtype, xp)
    v6 = v.reshape(4, 4, num_images, tiles_h, tiles_w, channels)
    for alpha in range(4):
        columns = [rows[alpha][:, :, _tiles(c, tiles_w)] for c in range(4)]
        _input_transform_1d(columns, list(v6[alpha]))
    u = winograd_filters(
        w.astype(dtype, copy=False),
        _scratch(workspace, "wg_u", (16, channels, num_filters), dtype, xp),
    )
    m = _scratch(workspace, "wg_m", (16, num_tiles, num_filters), dtype, xp)
    xp.matmul(v, u, out=m)
    # Y = A^T M A: over rows (Q_r = sum_alpha A^T[r, alpha] M_alpha), then over columns
    m6 = m.reshape(4, 4, num_images, tiles_h, tiles_w, num_filters)
    q = _scratch(workspace, "wg_q", (4, num_images, tiles_h, tiles_w, num_filters), dtype, xp)
    out_full = _scratch(
        workspace, "wg_out", (num_images, 2 * tiles_h, 2 * tiles_w, num_filters), dtype, xp
    )
    for r in range(2):
        if r == 0:  # Q_0 = M_0 + M_1 + M_2
            xp.add(m6[0], m6[1], out=q)
            q += m6[2]
        else:  # Q_1 = M_1 - M_2 - M_3
            xp.subtract(m6[1], m6[2], out=q)
            q -= m6[3]
        even, odd = out_full[:, r::2, 0::2], out_full[:, r::2, 1::2]
        xp.add(q[0], q[1], out=even)
        even += q[2]
        even += b
        xp.subtract(q[1], q[2], out=odd)
        odd -= q[3]
        odd += b
    out = out_full[:, :out_h, :out_w]
    cache = (tuple(x.shape), tuple(w.shape), v, u, pad, workspace)
    return out, cache


def winograd_backward(
    dout: Any, cache: tuple, need_dx: bool = True, dw_out: Any = None, db_out: Any = None
) -> tuple[Any, Any, Any]:
    """Gradients of :func:`winograd_forward` for ``dout`` (N, H', W', F).

    Returns ``(dx, dw, db)``: dx (N, H, W, C) C-contiguous (None unless ``need_dx``), dw
    (F, C, 3, 3), db (F,); ``dw_out``/``db_out`` are optional arrays to write them into.
    """
    x_shape, w_shape, v, u, pad, workspace = cache
    num_images, height, width, channels = x_shape
    num_filters = w_shape[0]
    out_h, out_w = dout.shape[1], dout.shape[2]
    tiles_h, tiles_w = (out_h + 1) // 2, (out_w + 1) // 2
    xp = get_array_module(dout, v)
    dtype = xp.result_type(dout, v)
    full_shape = (num_images, 2 * tiles_h, 2 * tiles_w, num_filters)
    if (out_h, out_w) != full_shape[1:3]:  # odd sizes: the last tiles' extra outputs get zeros
        dout_full = _zeros(workspace, "wg_dout", full_shape, dtype, xp)
        dout_full[:, :out_h, :out_w] = dout
    else:
        dout_full = dout
    if db_out is None:
        db = dout.sum(axis=(0, 1, 2), dtype=dtype)
    else:
        db = db_out
        db[...] = dout.sum(axis=(0, 1, 2), dtype=dtype)
    # dM = A dY A^T: over columns (P[r] = A dY_r), then over rows
    num_tiles = num_images * tiles_h * tiles_w
    p = _scratch(workspace, "wg_p", (2, 4, num_images, tiles_h, tiles_w, num_filters), dtype, xp)
    for r in range(2):
        even, odd = dout_full[:, r::2, 0::2], dout_full[:, r::2, 1::2]
        p[r, 0] = even
        xp.add(even, odd, out=p[r, 1])
        xp.subtract(even, odd, out=p[r, 2])
        xp.negative(odd, out=p[r, 3])
    dm = _scratch(workspace, "wg_dm", (16, num_tiles, num_filters), dtype, xp)
    dm6 = dm.reshape(4, 4, num_images, tiles_h, tiles_w, num_filters)
    dm6[0] = p[0]
    xp.add(p[0], p[1], out=dm6[1])
    xp.subtract(p[0], p[1], out=dm6[2])
    xp.negative(p[1], out=dm6[3])
    # dU_k = V_k^T dM_k, then dg = G^T dU G (over rows, then over columns)
    du = _scratch(workspace, "wg_du", (16, channels, num_filters), dtype, xp)
    xp.matmul(v.transpose(0, 2, 1), dm, out=du)
    du4 = du.reshape(4, 4, channels, num_filters)
    half = dtype.type(0.5)
    e = xp.empty((3, 4, channels, num_filters), dtype=dtype)
    xp.add(du4[1], du4[2], out=e[1])  # temporarily dU_1 + dU_2
    xp.multiply(e[1], half, out=e[0])
    xp.add(e[0], du4[3], out=e[2])
    e[0] += du4[0]
    xp.subtract(du4[1], du4[2], out=e[1])
    e[1] *= half
    dg = xp.empty((3, 3, channels, num_filters), dtype=dtype)
    xp.add(e[:, 1], e[:, 2], out=dg[:, 1])  # temporarily
    xp.multiply(dg[:, 1], half, out=dg[:, 0])
    xp.add(dg[:, 0], e[:, 3], out=dg[:, 2])
    dg[:, 0] += e[:, 0]
    xp.subtract(e[:, 1], e[:, 2], out=dg[:, 1])
    dg[:, 1] *= half
    dw_view = dg.transpose(3, 2, 0, 1)  # (F, C, 3, 3)
    if dw_out is None:
        dw = xp.ascontiguousarray(dw_view)
    else:
        dw = dw_out
        dw[...] = dw_view
    if not need_dx:
        return None, dw, db
    # dV_k = dM_k U_k^T, then dd = B dV B^T scatter-added into the overlapping 4x4 patches
    dv = _scratch(workspace, "wg_dv", (16, num_tiles, channels), dtype, xp)
    xp.matmul(dm, u.transpose(0, 2, 1), out=dv)
    dv6 = dv.reshape(4, 4, num_images, tiles_h, tiles_w, channels)
    padded_shape = (num_images, 2 * tiles_h + 2, 2 * tiles_w + 2, channels)
    row_shape = (4, num_images, tiles_h, padded_shape[2], channels)
    rows = _zeros(workspace, "wg_drows", row_shape, dtype, xp)
    part = _scratch(workspace, "wg_part", (4, num_images, tiles_h, tiles_w, channels), dtype, xp)
    for alpha in range(4):
        _input_transform_1d_transposed(list(dv6[alpha]), list(part))
        for c in range(4):
            rows[alpha][:, :, _tiles(c, tiles_w)] += part[c]
    dx_pad = _zeros(workspace, "wg_dx_pad", padded_shape, dtype, xp)
    row_parts = _scratch(workspace, "wg_row_part", row_shape, dtype, xp)
    _input_transform_1d_transposed(list(rows), list(row_parts))
    for a in range(4):
        dx_pad[:, _tiles(a, tiles_h)] += row_parts[a]
    dx = _scratch(workspace, "wg_dx", tuple(x_shape), dtype, xp)
    dx[...] = dx_pad[:, pad : pad + height, pad : pad + width]
    return dx, dw, db
