"""Channel-last max-pooling kernels for layers that keep activations (N, H, W, C).

Same maths and tie rule as :func:`numnet.functional.pooling.max_pool_forward` /
``max_pool_backward`` (a window routes its gradient to the first maximum in row-major window
order), but the window slices ``x[:, p::s, q::s, :]`` keep the channels as the contiguous inner
axis, so every elementwise pass runs over long contiguous rows. Scratch arrays may come from a
:class:`~numnet.kernels.workspace.Workspace`. No validation: callers check shapes and settings.

Non-overlapping windows (stride >= window, the usual case): the forward takes the running maximum
over the window offsets and keeps, for each offset after the first, the boolean "this offset is
strictly larger than every earlier one" (``pool_h * pool_w - 1`` bool arrays of the output's
shape). An offset holds the first maximum exactly when it beat the earlier ones and no later
offset beat it, so the backward routes ``dout`` from those masks alone, without re-reading ``x``.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional._windows import window_slice
from numnet.kernels._utils import scratch

PoolSettings = tuple[int, int, int]


def max_pool_nhwc_forward(
    x: Any, settings: PoolSettings, workspace: Any = None, train: bool = True
) -> tuple[Any, tuple]:
    """Max over (pool_h, pool_w) windows of ``x`` (N, H, W, C); returns (N, H', W', C), cache.

    With ``train=False`` the cache cannot be used for :func:`max_pool_nhwc_backward` (the routing
    masks of non-overlapping windows are not computed).
    """
    pool_h, pool_w, stride = settings
    num_images, height, width, channels = x.shape
    out_h = 1 + (height - pool_h) // stride
    out_w = 1 + (width - pool_w) // stride
    xp = get_array_module(x)
    out_shape = (num_images, out_h, out_w, channels)
    out = scratch(workspace, "out", out_shape, x.dtype, xp)
    offsets = [(p, q) for p in range(pool_h) for q in range(pool_w)]
    disjoint = stride >= pool_h and stride >= pool_w
    beats = None
    if train and disjoint and len(offsets) > 1:
        beats = scratch(workspace, "beats", (len(offsets) - 1, *out_shape), bool, xp)
    windows = [
        x[:, window_slice(p, stride, out_h), window_slice(q, stride, out_w), :] for p, q in offsets
    ]
    _running_max(windows, out, beats)
    return out, (x, out, settings, workspace, beats)


def _running_max(windows: list, out: Any, beats: Any) -> None:
    """``out`` = elementwise max of ``windows``; ``beats[k - 1]`` = window k beat windows < k."""
    xp = get_array_module(out)
    if len(windows) == 1:
        out[...] = windows[0]
        return
    if beats is not None:
        xp.greater(windows[1], windows[0], out=beats[0])
    xp.maximum(windows[0], windows[1], out=out)  # no copy of the first window
    for index in range(2, len(windows)):
        if beats is not None:
            xp.greater(windows[index], out, out=beats[index - 1])
        xp.maximum(out, windows[index], out=out)


def max_pool_blocks_forward(
    x_blocks: Any, workspace: Any = None, train: bool = True
) -> tuple[Any, tuple]:
    """2x2, stride-2 max pooling of a conv output given as its four window positions.

    ``x_blocks`` (4, N, H', W', C) holds, in block ``2 p + q``, the input pixels (2i + p, 2j + q)
    (what ``conv_nhwc_forward(..., pool_blocks=True)`` produces), so the max runs over four
    contiguous arrays. Returns ``out`` (N, H', W', C) and the cache of
    :func:`max_pool_blocks_backward`. Same tie rule as :func:`max_pool_nhwc_forward`.
    """
    xp = get_array_module(x_blocks)
    out = scratch(workspace, "out", tuple(x_blocks.shape[1:]), x_blocks.dtype, xp)
    beats = None
    if train:
        beats = scratch(workspace, "beats", (3, *x_blocks.shape[1:]), bool, xp)
    _running_max(list(x_blocks), out, beats)
    return out, (tuple(x_blocks.shape), x_blocks.dtype, workspace, beats)


def max_pool_blocks_backward(dout: Any, cache: tuple, out: Any = None) -> Any:
    """Gradient (4, N, H', W', C), in blocks, of :func:`max_pool_blocks_forward` for ``dout``.

    ``out`` is an optional array of that shape and dtype to write it into: it may be the forward's
    input itself (the routing reads only ``dout`` and the cached masks), which spares a buffer
    as large as the input when nothing else needs that input any more.
    """
    shape, _, workspace, beats = cache
    xp = get_array_module(dout)
    if beats is None:
        raise RuntimeError("max_pool_blocks_backward needs the cache of a train=True forward")
    if out is None:
        dx_blocks = scratch(workspace, "dx", shape, dout.dtype, xp)
    elif tuple(out.shape) != tuple(shape) or out.dtype != dout.dtype:
        raise ValueError(
            f"out must have shape {tuple(shape)} and dtype {dout.dtype}, got {tuple(out.shape)} "
            f"{out.dtype}"
        )
    else:
        dx_blocks = out
    _route_first_max(dout, list(dx_blocks), beats, workspace)
    return dx_blocks


def max_pool_nhwc_backward(dout: Any, cache: tuple) -> Any:
    """Gradient (N, H, W, C) of :func:`max_pool_nhwc_forward` for ``dout`` (N, H', W', C)."""
    x, out, (pool_h, pool_w, stride), workspace, beats = cache
    xp = get_array_module(dout, x)
    out_h, out_w = out.shape[1], out.shape[2]
    dx = scratch(workspace, "dx", tuple(x.shape), dout.dtype, xp)
    disjoint = stride >= pool_h and stride >= pool_w
    covered = disjoint and stride == pool_h == pool_w
    covered = covered and x.shape[1] == out_h * stride and x.shape[2] == out_w * stride
    if not covered:  # some inputs lie in no window (or in several): start from zero
        dx[...] = 0
    offsets = [(p, q) for p in range(pool_h) for q in range(pool_w)]
    if disjoint:
        if beats is None and len(offsets) > 1:
            raise RuntimeError("max_pool_nhwc_backward needs the cache of a train=True forward")
        targets = [
            dx[:, window_slice(p, stride, out_h), window_slice(q, stride, out_w)]
            for p, q in offsets
        ]
        _route_first_max(dout, targets, beats, workspace)
        return dx
    hit = scratch(workspace, "hit", tuple(out.shape), bool, xp)
    unrouted = scratch(workspace, "unrouted", tuple(out.shape), bool, xp)
    routed = scratch(workspace, "routed", tuple(out.shape), dx.dtype, xp)
    last = len(offsets) - 1
    for index, (p, q) in enumerate(offsets):
        rows, columns = window_slice(p, stride, out_h), window_slice(q, stride, out_w)
        xp.equal(x[:, rows, columns, :], out, out=hit)
        if index > 0:
            hit &= unrouted
        xp.multiply(hit, dout, out=routed)
        dx[:, rows, columns, :] += routed
        if index == 0:
            xp.logical_not(hit, out=unrouted)
        elif index < last:
            unrouted ^= hit
    return dx


def _route_first_max(dout: Any, targets: list, beats: Any, workspace: Any) -> None:
    """Write ``dout`` into the target of each window's first maximum, zeros into the others.

    Window k > 0 holds the first maximum iff ``beats[k - 1]`` and no later window beat it; window
    0 iff no later window beat it. Going backwards, ``later`` is the OR of the later ``beats``.
    """
    xp = get_array_module(dout)
    later = scratch(workspace, "later", tuple(dout.shape), bool, xp)
    mask = scratch(workspace, "mask", tuple(dout.shape), bool, xp)
    last = len(targets) - 1
    for index in range(last, -1, -1):
        target = targets[index]
        if last == 0:
            target[...] = dout
        elif index == last:
            xp.multiply(dout, beats[index - 1], out=target)
            later[...] = beats[index - 1]
        elif index > 0:
            xp.greater(beats[index - 1], later, out=mask)  # beat the earlier, not beaten later
            xp.multiply(dout, mask, out=target)
            later |= beats[index - 1]
        else:
            xp.logical_not(later, out=mask)
            xp.multiply(dout, mask, out=target)
