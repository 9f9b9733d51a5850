"""Channel-last max-pooling kernels for layers that keep activations (N, H, W, C).

Same maths and tie rule as :func:`numnet.functional.pooling.max_pool_forward` /
``max_pool_backward`` (a window routes its gradient to the first maximum in row-major window
order), but the window slices ``x[:, p::s, q::s, :]`` keep the channels as the contiguous inner
axis, so every elementwise pass runs over long contiguous rows. Scratch arrays may come from a
:class:`~numnet.nn.workspace.Workspace`. No validation: callers check shapes and settings.

Non-overlapping windows (stride >= window, the usual case): the forward takes the running maximum
over the window offsets and keeps, for each offset after the first, the boolean "this offset is
strictly larger than every earlier one" (``pool_h * pool_w - 1`` bool arrays of the output's
shape). An offset holds the first maximum exactly when it beat the earlier ones and no later
offset beat it, so the backward routes ``dout`` from those masks alone, without re-reading ``x``.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module

PoolSettings = tuple[int, int, int]


def _scratch(workspace: Any, name: str, shape: tuple[int, ...], dtype: Any, xp: Any) -> Any:
    if workspace is None:
        return xp.empty(shape, dtype=dtype)
    return workspace.get(name, shape, dtype, xp)


def _window(offset: int, stride: int, size: int) -> slice:
    return slice(offset, offset + stride * (size - 1) + 1, stride)


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
    out = _scratch(workspace, "out", out_shape, x.dtype, xp)
    offsets = [(p, q) for p in range(pool_h) for q in range(pool_w)]
    disjoint = stride >= pool_h and stride >= pool_w
    beats = None
    if train and disjoint and len(offsets) > 1:
        beats = _scratch(workspace, "beats", (len(offsets) - 1, *out_shape), bool, xp)
    for index, (p, q) in enumerate(offsets):
        window = x[:, _window(p, stride, out_h), _window(q, stride, out_w), :]
        if index == 0:
            out[...] = window
            continue
        if beats is not None:
            xp.greater(window, out, out=beats[index - 1])
        xp.maximum(out, window, out=out)
    return out, (x, out, settings, workspace, beats)


def max_pool_nhwc_backward(dout: Any, cache: tuple) -> Any:
    """Gradient (N, H, W, C) of :func:`max_pool_nhwc_forward` for ``dout`` (N, H', W', C)."""
    x, out, (pool_h, pool_w, stride), workspace, beats = cache
    xp = get_array_module(dout, x)
    out_h, out_w = out.shape[1], out.shape[2]
    dx = _scratch(workspace, "dx", tuple(x.shape), dout.dtype, xp)
    disjoint = stride >= pool_h and stride >= pool_w
    covered = disjoint and stride == pool_h == pool_w
    covered = covered and x.shape[1] == out_h * stride and x.shape[2] == out_w * stride
    if not covered:  # some inputs lie in no window (or in several): start from zero
        dx[...] = 0
    offsets = [(p, q) for p in range(pool_h) for q in range(pool_w)]
    if disjoint:
        _route_disjoint(dout, dx, offsets, stride, beats, workspace)
        return dx
    hit = _scratch(workspace, "hit", tuple(out.shape), bool, xp)
    unrouted = _scratch(workspace, "unrouted", tuple(out.shape), bool, xp)
    routed = _scratch(workspace, "routed", tuple(out.shape), dx.dtype, xp)
    last = len(offsets) - 1
    for index, (p, q) in enumerate(offsets):
        rows, columns = _window(p, stride, out_h), _window(q, stride, out_w)
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


def _route_disjoint(
    dout: Any, dx: Any, offsets: list, stride: int, beats: Any, workspace: Any
) -> None:
    """Write ``dout`` into the first-maximum slice of ``dx`` of each non-overlapping window.

    Offset k > 0 holds the first maximum iff ``beats[k - 1]`` and no later offset beat it; offset
    0 iff no later offset beat it. Going backwards, ``later`` is the OR of the later ``beats``.
    """
    xp = get_array_module(dout, dx)
    out_h, out_w = dout.shape[1], dout.shape[2]
    if beats is None and len(offsets) > 1:
        raise RuntimeError("max_pool_nhwc_backward needs the cache of a train=True forward")
    later = _scratch(workspace, "later", tuple(dout.shape), bool, xp)
    scratch = _scratch(workspace, "mask", tuple(dout.shape), bool, xp)
    last = len(offsets) - 1
    for index in range(last, -1, -1):
        p, q = offsets[index]
        target = dx[:, _window(p, stride, out_h), _window(q, stride, out_w), :]
        if last == 0:
            target[...] = dout
        elif index == last:
            xp.multiply(dout, beats[index - 1], out=target)
            later[...] = beats[index - 1]
        elif index > 0:
            xp.greater(beats[index - 1], later, out=scratch)  # beat the earlier, not beaten later
            xp.multiply(dout, scratch, out=target)
            later |= beats[index - 1]
        else:
            xp.logical_not(later, out=scratch)
            xp.multiply(dout, scratch, out=target)
