"""Winograd F(2x2, 3x3) convolution: 3x3 filters, stride 1, any zero padding, channel-last.

The same function as :func:`numnet.kernels.conv_im2col.conv_nhwc_forward` for 3x3 filters with
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
    dU_k = V_k^T @ dM_k           dg = G^T dU G    -> dw   (computed as dU_k^T = dM_k^T V_k)
    dV_k = dM_k @ U_k^T           dd = B dV B^T    -> scatter-added into the overlapping patches
    db   = sum of dY over images and positions = sum over tiles of dM at point (1, 1)

The bias enters the same way: A^T's column 1 is (1, 1), so every output of a tile takes M at
point (1, 1) once, and ``M_(1,1) += b`` adds b to all four (a pass over 1/16 of M, not the output).

Over the 16 entries of a tile, each 2-D transform is one small matrix: ``vec(B^T d B) = (B^T kron
B^T) vec(d)`` (row-major ``vec``), and likewise ``A^T kron A^T`` (4 x 16) for the output and
``G kron G`` (16 x 9) for the filters. So every transform is a single matrix product over many
tiles at once, e.g. V (16, tiles * C) = (B^T kron B^T) (16 x 16) @ D (16, tiles * C), where D
holds the 16 entries of every patch: BLAS runs them on all cores, which elementwise NumPy would
not. The forward (and the input gradient's transform) runs in passes over whole images (up to
8 MB of M each: two passes at batch 64), so that each pass's D and M are still in cache for the
next product; the backward's products run in passes over four Winograd points. Patch entry
(a, c) of every tile is one pixel of a fixed row and column parity, so the patches are copied
from the input's four parity "phases" (contiguous), and the input gradient is summed per phase
and written into dx with four strided copies.
Rounding differs from im2col's (the transforms add and subtract before multiplying), by about
1e-6 relative in float32 and 1e-15 in float64.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.kernels._utils import (
    blocks_to_image,
    positions_inside,
    scratch,
    store,
    zeroed_once,
)

_B_T = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))
_G = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))
_A_T = ((1, 1, 1, 0), (0, 1, -1, -1))
# Winograd point (1, 1): column 1 of A^T is (1, 1), so A^T kron A^T gives each of a tile's four
# outputs M at this point once. Adding the bias there adds it to every output, and the bias
# gradient (the sum of dY) is the sum of dM there: passes over 1/16 of M instead of the output.
_BIAS_POINT = 4 * 1 + 1
# The forward runs over the images in passes of about _PASS_BYTES of M (16 x tiles x F), at least
# _MIN_PASS_IMAGES images each, so that what one product writes is still in cache for the next
# (the backward's input-gradient transform and scatter use the same passes). With the buffers in
# 2 MiB pages (numnet.kernels.huge_pages) longer passes do better than short ones, and sharing the
# images out evenly over the passes beats filling all but the last (``python -m bench.run``).
_PASS_BYTES = 8 << 20
_MIN_PASS_IMAGES = 1
# The backward goes over the 16 Winograd points in passes of this many, so that a pass's slice of
# dM (points x tiles x F) stays in cache between the transform that writes it and the two products
# that read it (passes of 4 beat 2, 8 and all 16 in the benchmark CNN's step; passes over the tiles
# were faster alone but slower within the step).
_POINTS_PER_PASS = 4


def _kron(a: tuple, b: tuple) -> tuple:
    """The Kronecker product of two matrices given as tuples of rows, as tuples of rows."""
    return tuple(tuple(x * y for x in row_a for y in row_b) for row_a in a for row_b in b)


# The three 2-D transforms, worked out once with the module (a few hundred multiplications, no
# arrays), so that a model's first call does not pay for np.kron.
_KRONS = (_kron(_B_T, _B_T), _kron(_G, _G), _kron(_A_T, _A_T))


@functools.lru_cache(maxsize=8)
def transform_matrices(xp: Any, dtype: Any) -> tuple[Any, Any, Any]:
    """``(B^T kron B^T, G kron G, A^T kron A^T)``: (16, 16), (16, 9), (4, 16) in ``dtype``.

    Made once per array module and dtype (every forward and backward uses them); never written.
    """
    b_b, g_g, a_a = (xp.asarray(m, dtype=dtype) for m in _KRONS)
    return b_b, g_g, a_a


def winograd_filters(w: Any, g_g: Any) -> Any:
    """``U = G g G^T`` of every (filter, channel) pair: (16, C, F) from ``w`` (F, C, 3, 3).

    ``g_g`` is ``G kron G`` (16, 9) from :func:`transform_matrices`.
    """
    num_filters, channels = w.shape[0], w.shape[1]
    taps = w.transpose(2, 3, 1, 0).reshape(9, channels * num_filters)  # (3*3, C*F)
    return (g_g @ taps).reshape(16, channels, num_filters)


def winograd_forward(
    x: Any,
    w: Any,
    b: Any,
    pad: int,
    workspace: Any = None,
    pool_blocks: bool = False,
    train: bool = True,
) -> tuple[Any, tuple]:
    """3x3, stride-1 convolution of channel-last ``x`` (N, H, W, C) with ``w`` (F, C, 3, 3), ``b``.

    Returns ``out`` (N, H', W', F) with ``H' = H + 2 pad - 2`` (a view into a workspace buffer
    when one is given; not C-contiguous when H' or W' is odd) and the cache for
    :func:`winograd_backward`. No validation: callers check shapes (H', W' >= 1).

    With ``pool_blocks`` (H' and W' even) ``out`` is (4, N, H'/2, W'/2, F): the 2x2 output tiles
    are exactly the windows of a 2x2 max pool, so the four outputs (r, s) of every tile are given
    as they come out of the output transform, block ``2 r + s`` (see
    :func:`numnet.kernels.pool_nhwc.max_pool_blocks_forward`).

    With ``train=False`` the cache cannot be used for :func:`winograd_backward`: the input
    transform V, which the backward needs whole, is then only kept one pass at a time (a buffer of
    a pass's size instead of the batch's, which a first call at a big batch has to page in).
    """
    num_images, height, width, channels = x.shape
    num_filters = w.shape[0]
    out_h, out_w = height + 2 * pad - 2, width + 2 * pad - 2
    tiles_h, tiles_w = (out_h + 1) // 2, (out_w + 1) // 2
    xp = get_array_module(x, w, b)
    dtype = xp.result_type(x, w, b)
    b_b, g_g, a_a = transform_matrices(xp, np.dtype(dtype))
    # In passes over whole images, about _PASS_BYTES of M each, so that what a pass writes stays
    # in cache for the next product: the pass's images split into their parity phases; D, the 16
    # entries (a, c) of every tile's 4x4 input patch (zero in the padding); V = (B^T kron B^T) D
    # (kept whole for the backward when training); M = V U; and Y = (A^T kron A^T) M, the 4
    # outputs (r, s) of every tile.
    num_tiles = num_images * tiles_h * tiles_w
    tiles_per_image = tiles_h * tiles_w
    passes = _image_passes(num_images, tiles_per_image, num_filters, dtype)
    pass_tiles = passes[0].stop * tiles_per_image  # the first pass is the longest
    patch_plan = _patch_plan(pad, tiles_h, tiles_w, height, width)
    phase_shape = (2, 2, passes[0].stop, (height + 1) // 2, (width + 1) // 2, channels)
    phases_buffer = scratch(workspace, "wg_x_phases", phase_shape, x.dtype, xp)
    u = winograd_filters(w.astype(dtype, copy=False), g_g)
    v_tiles = num_tiles if train else pass_tiles
    v_flat = scratch(workspace, "wg_v", (16, v_tiles * channels), dtype, xp)
    y = scratch(workspace, "wg_y", (4, num_tiles * num_filters), dtype, xp)
    v = v_flat.reshape(16, v_tiles, channels)
    # Every pass lays its patches out as the longest one does (entry (a, c) in row 4 a + c, the
    # images of the pass from the left), so the entries that fall in the padding sit at the same
    # places in every pass and step: zeroed once when the buffer is made, never written. The
    # key holds the geometry, as another one has other padding places.
    patches_buffer, _ = zeroed_once(
        workspace, "wg_d", (16, pass_tiles * channels), dtype, xp, key=(pad, height, width)
    )
    m_buffer = scratch(workspace, "wg_m", (16 * pass_tiles * num_filters,), dtype, xp)
    for images in passes:
        count = images.stop - images.start
        tiles = slice(images.start * tiles_per_image, images.stop * tiles_per_image)
        patches = patches_buffer[:, : count * tiles_per_image * channels]  # rows not adjacent
        patches_6d = patches.reshape(4, 4, count, tiles_h, tiles_w, channels)  # (a view)
        x_phases = phases_buffer[:, :, :count]
        _split_phases(x[images], x_phases)
        _gather_patches(x_phases, patches_6d, patch_plan)
        v_pass = tiles if train else slice(0, tiles.stop - tiles.start)
        xp.matmul(b_b, patches, out=v_flat[:, v_pass.start * channels : v_pass.stop * channels])
        m = m_buffer[: 16 * count * tiles_per_image * num_filters].reshape(16, -1, num_filters)
        xp.matmul(v[:, v_pass], u, out=m)
        m[_BIAS_POINT] += b  # every output of a tile is +1 times M at this point: adds the bias
        xp.matmul(
            a_a, m.reshape(16, -1), out=y[:, tiles.start * num_filters : tiles.stop * num_filters]
        )
    # laid out like conv_nhwc_forward's cache, so check_conv_dout reads either
    cache = (tuple(x.shape), tuple(w.shape), v if train else None, u, (1, 1, pad, pad), workspace)
    if pool_blocks:
        return y.reshape(4, num_images, tiles_h, tiles_w, num_filters), cache
    out_full = scratch(
        workspace, "wg_out", (num_images, 2 * tiles_h, 2 * tiles_w, num_filters), dtype, xp
    )
    blocks_to_image(y.reshape(4, num_images, tiles_h, tiles_w, num_filters), out_full)
    return out_full[:, :out_h, :out_w], cache


def winograd_backward(
    dout: Any, cache: tuple, input_grad: bool = True, dw_out: Any = None, db_out: Any = None
) -> tuple[Any, Any, Any]:
    """Gradients of :func:`winograd_forward` for ``dout`` (N, H', W', F), or (4, N, H'/2, W'/2, F)
    after a ``pool_blocks`` forward.

    Returns ``(dx, dw, db)``: dx (N, H, W, C) C-contiguous (None unless ``input_grad``), dw
    (F, C, 3, 3), db (F,); ``dw_out``/``db_out`` are optional arrays to write them into.
    """
    x_shape, w_shape, v, u, (_, _, pad, _), workspace = cache
    if v is None:
        raise RuntimeError("winograd_backward needs the cache of a train=True forward")
    num_images, height, width, channels = x_shape
    num_filters = w_shape[0]
    blocked = dout.ndim == 5
    if blocked:
        out_h, out_w = 2 * dout.shape[2], 2 * dout.shape[3]
    else:
        out_h, out_w = dout.shape[1], dout.shape[2]
    tiles_h, tiles_w = (out_h + 1) // 2, (out_w + 1) // 2
    num_tiles = num_images * tiles_h * tiles_w
    xp = get_array_module(dout, v)
    dtype = xp.result_type(dout, v)
    b_b, g_g, a_a = transform_matrices(xp, np.dtype(dtype))
    # dY: the 4 output gradients (r, s) of every tile (zero past an odd edge), then
    # dM = (A^T kron A^T)^T dY
    if blocked:  # already the tiles' outputs (r, s), block 2 r + s
        dy = xp.ascontiguousarray(dout, dtype=dtype).reshape(4, num_tiles * num_filters)
    else:
        dy = scratch(workspace, "wg_dy", (4, num_tiles * num_filters), dtype, xp)
        _gather_tile_outputs(dout, dy.reshape(2, 2, num_images, tiles_h, tiles_w, num_filters))
    # Four Winograd points at a time: dM_k = ((A^T kron A^T)^T dY)_k, then dU_k^T = dM_k^T V_k
    # and dV_k = dM_k U_k^T while that quarter of dM is still in cache (it is never stored whole).
    dm_part = scratch(workspace, "wg_dm", (_POINTS_PER_PASS, num_tiles, num_filters), dtype, xp)
    du_t = scratch(workspace, "wg_du_t", (16, num_filters, channels), dtype, xp)
    dv = scratch(workspace, "wg_dv", (16, num_tiles, channels), dtype, xp) if input_grad else None
    u_t = xp.ascontiguousarray(u.transpose(0, 2, 1)) if input_grad else None
    db = None
    for start in range(0, 16, _POINTS_PER_PASS):
        points = slice(start, start + _POINTS_PER_PASS)
        xp.matmul(a_a.T[points], dy, out=dm_part.reshape(_POINTS_PER_PASS, -1))
        if start <= _BIAS_POINT < start + _POINTS_PER_PASS:  # db: the sum of each tile's dY
            db = store(dm_part[_BIAS_POINT - start].sum(axis=0, dtype=dtype), db_out)
        # dU_k^T = dM_k^T V_k (F x C): BLAS splits its F rows over the cores, while V_k^T dM_k
        # (C x F) ran on one core
        xp.matmul(dm_part.transpose(0, 2, 1), v[points], out=du_t[points])
        if input_grad:
            xp.matmul(dm_part, u_t[points], out=dv[points])
    dg = g_g.T @ du_t.reshape(16, -1)  # dg = (G kron G)^T dU: (9, F*C)
    dw_view = dg.reshape(3, 3, num_filters, channels).transpose(2, 3, 0, 1)  # (F, C, 3, 3)
    dw = store(dw_view, dw_out)
    if not input_grad:
        return None, dw, db
    # dD = (B^T kron B^T)^T dV, scatter-added into the overlapping patches: in the forward's
    # passes over the images, so that each pass's dD is summed into dx from cache
    tiles_per_image = tiles_h * tiles_w
    passes = _image_passes(num_images, tiles_per_image, num_filters, dtype)
    pass_tiles = passes[0].stop * tiles_per_image  # the first pass is the longest
    dpatches_buffer = scratch(workspace, "wg_dd", (16 * pass_tiles * channels,), dtype, xp)
    phase_shape = (passes[0].stop, (height + 1) // 2, (width + 1) // 2, channels)
    phase_buffer = scratch(workspace, "wg_phase", phase_shape, dtype, xp)
    dv_flat = dv.reshape(16, -1)
    dx = scratch(workspace, "wg_dx", tuple(x_shape), dtype, xp)
    scatter_plan = _scatter_plan(pad, tiles_h, tiles_w, height, width)
    for images in passes:
        count = images.stop - images.start
        columns = slice(
            images.start * tiles_per_image * channels, images.stop * tiles_per_image * channels
        )
        dpatches = dpatches_buffer[: 16 * count * tiles_per_image * channels].reshape(16, -1)
        xp.matmul(b_b.T, dv_flat[:, columns], out=dpatches)
        dpatches_6d = dpatches.reshape(4, 4, count, tiles_h, tiles_w, channels)
        _scatter_patches(dpatches_6d, dx[images], phase_buffer[:count], scatter_plan)
    return dx, dw, db


def _gather_tile_outputs(dout: Any, dy_6d: Any) -> None:
    """``dy_6d[r, s, :, i, j]`` = ``dout[:, 2i + r, 2j + s]``, zero past an odd edge."""
    out_h, out_w = dout.shape[1], dout.shape[2]
    tiles_h, tiles_w = dy_6d.shape[3], dy_6d.shape[4]
    for r in range(2):
        for s in range(2):
            rows = (out_h - r + 1) // 2  # tiles whose output row 2i + r lies inside
            columns = (out_w - s + 1) // 2
            part = dy_6d[r, s]
            part[:, :rows, :columns] = dout[:, r::2, s::2]
            if rows < tiles_h:
                part[:, rows:] = 0
            if columns < tiles_w:
                part[:, :, columns:] = 0


def _image_passes(
    num_images: int, tiles_per_image: int, num_filters: int, dtype: Any
) -> list[slice]:
    """Consecutive ranges of whole images, the passes of the forward and of the input gradient:
    as few as hold at most about ``_PASS_BYTES`` of M (16 x tiles x F) each (and at least
    ``_MIN_PASS_IMAGES`` images), with the images shared out evenly (the first passes may hold one
    image more than the others)."""
    bytes_per_image = 16 * tiles_per_image * num_filters * np.dtype(dtype).itemsize
    per_pass = min(num_images, max(_MIN_PASS_IMAGES, _PASS_BYTES // bytes_per_image))
    count = -(-num_images // per_pass)  # passes needed
    smaller, longer = divmod(num_images, count)  # the first `longer` passes get one image more
    bounds = [0]
    for index in range(count):
        bounds.append(bounds[-1] + smaller + (index < longer))
    return [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def _split_phases(x: Any, phases: Any) -> None:
    """Write ``x`` (N, H, W, C) into ``phases`` (2, 2, N, ceil(H/2), ceil(W/2), C) as its four
    parity phases: phase (p, q) holds the pixels (2 i + p, 2 j + q) at (i, j) (unused corners of
    odd sizes left as they are).

    Four strided reads; the sixteen patch entries are then copied from contiguous phases.
    """
    height, width = x.shape[1], x.shape[2]
    for row_phase in range(min(2, height)):
        for col_phase in range(min(2, width)):
            part = x[:, row_phase::2, col_phase::2]
            phases[row_phase, col_phase][:, : part.shape[1], : part.shape[2]] = part


@functools.lru_cache(maxsize=32)
def _patch_plan(pad: int, tiles_h: int, tiles_w: int, height: int, width: int) -> tuple:
    """Where the patch entries lie in the image: ``(a, c, phase, pixels, tiles)`` for every entry
    (a, c) that is not wholly in the padding.

    Entry (a, c) of tile (i, j) is the image pixel (2 i + a - pad, 2 j + c - pad), and pixel
    (r, s) is position (r // 2, s // 2) of the parity phase (r % 2, s % 2). For the ``tiles``
    (all images, tile rows, tile columns) whose entry lies inside the image, those pixels are the
    block ``pixels`` (all images, rows, columns) of phase ``phase``. The gather copies each block
    out of its phase and the scatter adds it back. Worked out once per geometry (the same for
    every pass and step) rather than on every pass: the slices cost more Python time than the
    copies of a small pass.
    """
    plan = []
    for a in range(4):
        rows = positions_inside(a, 2, pad, tiles_h, height)
        for c in range(4):
            columns = positions_inside(c, 2, pad, tiles_w, width)
            if rows is None or columns is None:
                continue
            (tile_rows, image_rows), (tile_cols, image_cols) = rows, columns
            phase = (image_rows.start % 2, image_cols.start % 2)
            first_row, first_col = image_rows.start // 2, image_cols.start // 2
            pixels = (
                slice(None),
                slice(first_row, first_row + tile_rows.stop - tile_rows.start),
                slice(first_col, first_col + tile_cols.stop - tile_cols.start),
            )
            plan.append((a, c, phase, pixels, (slice(None), tile_rows, tile_cols)))
    return tuple(plan)


def _gather_patches(x_phases: Any, patches_6d: Any, plan: tuple) -> None:
    """Copy into ``patches_6d[a, c]`` (N, tiles_h, tiles_w, C) entry (a, c) of every tile's
    patch, the pixel (2 i + a - pad, 2 j + c - pad), where that lies inside the image: from
    ``x_phases`` (:func:`_split_phases`) as ``plan`` (:func:`_patch_plan`) says. The places in
    the padding are not written (the caller's buffer holds zeros there)."""
    for a, c, phase, pixels, tiles in plan:
        patches_6d[a, c][tiles] = x_phases[phase][pixels]


@functools.lru_cache(maxsize=32)
def _scatter_plan(pad: int, tiles_h: int, tiles_w: int, height: int, width: int) -> tuple:
    """What :func:`_scatter_patches` sums, per phase of the input: ``(row phase, column phase,
    phase rows, phase columns, starts at zero, terms)``, each term ``(a, c, pixels, tiles,
    whole)`` from :func:`_patch_plan` (``whole``: the entry covers the whole phase; such a term
    comes first and is assigned, not added)."""
    plan = []
    for row_phase in range(min(2, height)):
        for col_phase in range(min(2, width)):
            phase_rows = len(range(row_phase, height, 2))
            phase_cols = len(range(col_phase, width, 2))
            terms = []
            for a, c, phase, pixels, tiles in _patch_plan(pad, tiles_h, tiles_w, height, width):
                if phase == (row_phase, col_phase):
                    rows, columns = pixels[1], pixels[2]
                    whole = rows == slice(0, phase_rows) and columns == slice(0, phase_cols)
                    terms.append((a, c, pixels, tiles, whole))
            terms.sort(key=lambda term: not term[4])  # a whole-phase entry first, if any
            starts_at_zero = not terms or not terms[0][4]
            plan.append((row_phase, col_phase, phase_rows, phase_cols, starts_at_zero, terms))
    return tuple(plan)


def _scatter_patches(dpatches_6d: Any, dx: Any, phase_buffer: Any, plan: tuple) -> None:
    """``dx`` (N, H, W, C) = the sum, over the overlapping patches, of their entries' gradients.

    Entry (a, c) of tile (i, j) is the pixel (2 i + a - pad, 2 j + c - pad) (when inside), so each
    entry lands in one parity class ("phase") of rows and columns of ``dx``, and within it on
    consecutive positions: pixel (r, s) is position (r // 2, s // 2) of phase (r % 2, s % 2). Each
    phase is summed in a contiguous scratch array (the first entry covering it all assigned, the
    others added; ``plan`` from :func:`_scatter_plan`) and written into ``dx`` once: four strided
    writes instead of sixteen strided read-modify-writes. ``phase_buffer`` is that array,
    (N, ceil(H/2), ceil(W/2), C).
    """
    for row_phase, col_phase, phase_rows, phase_cols, starts_at_zero, terms in plan:
        phase = phase_buffer[:, :phase_rows, :phase_cols]
        if starts_at_zero:
            phase[...] = 0
        for index, (a, c, pixels, tiles, whole) in enumerate(terms):
            contribution = dpatches_6d[a, c][tiles]
            if index == 0 and whole:
                phase[...] = contribution
            else:
                phase[pixels] += contribution
        dx[:, row_phase::2, col_phase::2] = phase
