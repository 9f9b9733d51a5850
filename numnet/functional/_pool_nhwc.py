"""Channel-last max-pooling kernels for layers that keep activations (N, H, W, C).

Same maths and tie rule as :func:`numnet.functional.pooling.max_pool_forward` /
``max_pool_backward`` (a window routes its gradient to the first maximum in row-major window
order), but the window slices ``x[:, p::s, q::s, :]`` keep the channels as the contiguous inner
axis, so every elementwise pass runs over long contiguous rows. Scratch arrays may come from a
:class:`~numnet.nn.workspace.Workspace`. No validation: callers check shapes and settings.
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
    x: Any, settings: PoolSettings, workspace: Any = None
) -> tuple[Any, tuple]:
    """Max over (pool_h, pool_w) windows of ``x`` (N, H, W, C); returns (N, H', W', C), cache."""
    pool_h, pool_w, stride = settings
    num_images, height, width, channels = x.shape
    out_h = 1 + (height - pool_h) // stride
    out_w = 1 + (width - pool_w) // stride
    xp = get_array_module(x)
    out = _scratch(workspace, "out", (num_images, out_h, out_w, channels), x.dtype, xp)
    offsets = [(p, q) for p in range(pool_h) for q in range(pool_w)]
    for index, (p, q) in enumerate(offsets):
        window = x[:, _window(p, stride, out_h), _window(q, stride, out_w), :]
        if index == 0:
            out[...] = window
        else:
            xp.maximum(out, window, out=out)
    return out, (x, out, settings, workspace)


def max_pool_nhwc_backward(dout: Any, cache: tuple) -> Any:
    """Gradient (N, H, W, C) of :func:`max_pool_nhwc_forward` for ``dout`` (N, H', W', C)."""
    x, out, (pool_h, pool_w, stride), workspace = cache
    xp = get_array_module(dout, x)
    out_h, out_w = out.shape[1], out.shape[2]
    dx = _scratch(workspace, "dx", tuple(x.shape), dout.dtype, xp)
    disjoint = stride >= pool_h and stride >= pool_w
    covered = disjoint and stride == pool_h == pool_w
    covered = covered and x.shape[1] == out_h * stride and x.shape[2] == out_w * stride
    if not covered:  # some inputs lie in no window (or in several): start from zero
        dx[...] = 0
    hit = _scratch(workspace, "hit", tuple(out.shape), bool, xp)
    unrouted = _scratch(workspace, "unrouted", tuple(out.shape), bool, xp)
    routed = None if disjoint else _scratch(workspace, "routed", tuple(out.shape), dx.dtype, xp)
    offsets = [(p, q) for p in range(pool_h) for q in range(pool_w)]
    last = len(offsets) - 1
    for index, (p, q) in enumerate(offsets):
        rows, columns = _window(p, stride, out_h), _window(q, stride, out_w)
        xp.equal(x[:, rows, columns, :], out, out=hit)
        if index > 0:
            hit &= unrouted
        if disjoint:  # each input lies in one window at most: write, don't add
            xp.multiply(hit, dout, out=dx[:, rows, columns, :])
        else:
            xp.multiply(hit, dout, out=routed)
            dx[:, rows, columns, :] += routed
        if index == 0:
            xp.logical_not(hit, out=unrouted)
        elif index < last:
            unrouted ^= hit
    return dx
