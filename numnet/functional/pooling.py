"""Max and average pooling over (N, C, H, W) images; any window and stride, overlapping included.

Both directions work on the ``pool_height * pool_width`` strided window slices
``x[:, :, p : p + s * H' : s, q : q + s * W' : s]`` (one per offset ``(p, q)`` in the window):
the forward reduces them elementwise, the backward adds into the same slices of ``dx``. No Python
loop runs over the batch, channels or output positions, and nothing uses ``np.add.at``. Output
sizes floor as in PyTorch (no padding): ``H' = 1 + (H - pool_height) // stride``.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_float, check_ndim, check_shape
from numnet.kernels._utils import window_slice


def _pool_settings(pool_param: dict) -> tuple[int, int, int]:
    """Return ``(pool_height, pool_width, stride)`` from a CS231n pool_param dict, checked."""
    if not isinstance(pool_param, dict):
        raise TypeError(
            "pool_param must be a dict like {'pool_height': 2, 'pool_width': 2, 'stride': 2}, "
            f"got {type(pool_param).__name__}"
        )
    settings = []
    for key in ("pool_height", "pool_width", "stride"):
        if key not in pool_param:
            raise ValueError(f"pool_param is missing '{key}'; give pool_height, pool_width, stride")
        value = pool_param[key]
        if isinstance(value, bool) or not hasattr(value, "__index__") or int(value) < 1:
            raise ValueError(f"pool_param['{key}'] must be an integer >= 1, got {value!r}")
        settings.append(int(value))
    return settings[0], settings[1], settings[2]


def _output_size(x: Any, pool_param: dict) -> tuple[int, int, int, int, int]:
    """Validate ``x`` and ``pool_param``; return ``(pool_h, pool_w, stride, out_h, out_w)``."""
    check_ndim("x", x, 4, "(N, C, H, W)")
    check_float("x", x)
    pool_h, pool_w, stride = _pool_settings(pool_param)
    height, width = x.shape[2], x.shape[3]
    if pool_h > height or pool_w > width:
        raise ValueError(
            f"pool window {pool_h}x{pool_w} is larger than the input {height}x{width} "
            f"(x shape {tuple(x.shape)}); use a smaller pool_height/pool_width"
        )
    out_h = 1 + (height - pool_h) // stride
    out_w = 1 + (width - pool_w) // stride
    return pool_h, pool_w, stride, out_h, out_w


def max_pool_forward(x: Any, pool_param: dict) -> tuple[Any, tuple]:
    """Max pooling.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input, float32 or float64.
    pool_param : dict
        ``'pool_height'``, ``'pool_width'``, ``'stride'`` (integers >= 1). A ``stride`` smaller
        than the window gives overlapping windows.

    Returns
    -------
    out : ndarray, shape (N, C, H', W')
        ``out[n, c, i, j] = max_{p, q} x[n, c, i*s + p, j*s + q]`` with
        ``H' = 1 + (H - pool_height) // stride`` and ``W' = 1 + (W - pool_width) // stride``.
    cache : tuple
        ``(x, out, pool_param)`` for :func:`max_pool_backward`.

    Raises
    ------
    ValueError
        ``x`` is not 4-D, a setting is missing or < 1, or the window is larger than the input.
    TypeError
        ``x`` is not a floating-point array.
    """
    pool_h, pool_w, stride, out_h, out_w = _output_size(x, pool_param)
    xp = get_array_module(x)
    rows0, cols0 = window_slice(0, stride, out_h), window_slice(0, stride, out_w)
    out = xp.array(x[:, :, rows0, cols0], copy=True)
    for p in range(pool_h):
        rows = window_slice(p, stride, out_h)
        for q in range(pool_w):
            if p or q:
                xp.maximum(out, x[:, :, rows, window_slice(q, stride, out_w)], out=out)
    return out, (x, out, (pool_h, pool_w, stride))


def max_pool_backward(dout: Any, cache: tuple) -> Any:
    r"""Backward pass of :func:`max_pool_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W')
        Upstream gradient.
    cache : tuple
        The cache returned by :func:`max_pool_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Gradient with respect to ``x``.

    Notes
    -----
    ``out = max_{p,q} x[i s + p, j s + q]`` is locally the identity of its arg-max element, so
    ``dL/dx[h, v] = \sum_{(i,j): argmax(i,j) = (h,v)} dout[i, j]``: each window routes its
    ``dout`` to its arg-max, and where overlapping windows (stride < window) share that position
    their contributions add. On ties a window routes to exactly one element, the first in row-major
    window order (as PyTorch): the offsets (p, q) are visited in that order and a window's "still to
    route" flag is cleared once it has matched.
    """
    x, out, (pool_h, pool_w, stride) = cache
    check_ndim("dout", dout, 4, "(N, C, H', W')")
    check_shape("dout", dout, tuple(out.shape), "(N, C, H', W')")
    xp = get_array_module(dout, x)
    out_h, out_w = out.shape[2], out.shape[3]
    dx = xp.zeros_like(x, dtype=dout.dtype)
    unrouted = xp.ones(out.shape, dtype=bool)
    hit = xp.empty(out.shape, dtype=bool)
    disjoint = stride >= pool_h and stride >= pool_w
    routed = None if disjoint else xp.empty(out.shape, dtype=dx.dtype)
    for p in range(pool_h):
        rows = window_slice(p, stride, out_h)
        for q in range(pool_w):
            columns = window_slice(q, stride, out_w)
            xp.equal(x[:, :, rows, columns], out, out=hit)
            hit &= unrouted
            if disjoint:  # each input position lies in at most one window: write, don't add
                xp.multiply(hit, dout, out=dx[:, :, rows, columns])
            else:
                xp.multiply(hit, dout, out=routed)
                dx[:, :, rows, columns] += routed
            unrouted ^= hit
    return dx


def avg_pool_forward(x: Any, pool_param: dict) -> tuple[Any, tuple]:
    """Average pooling.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input, float32 or float64.
    pool_param : dict
        ``'pool_height'``, ``'pool_width'``, ``'stride'`` (integers >= 1); windows may overlap.

    Returns
    -------
    out : ndarray, shape (N, C, H', W')
        ``out[n, c, i, j] = mean_{p, q} x[n, c, i*s + p, j*s + q]``, sizes as in
        :func:`max_pool_forward`.
    cache : tuple
        What :func:`avg_pool_backward` needs.

    Raises
    ------
    ValueError
        ``x`` is not 4-D, a setting is missing or < 1, or the window is larger than the input.
    TypeError
        ``x`` is not a floating-point array.
    """
    pool_h, pool_w, stride, out_h, out_w = _output_size(x, pool_param)
    xp = get_array_module(x)
    rows0, cols0 = window_slice(0, stride, out_h), window_slice(0, stride, out_w)
    out = xp.array(x[:, :, rows0, cols0], copy=True)
    for p in range(pool_h):
        rows = window_slice(p, stride, out_h)
        for q in range(pool_w):
            if p or q:
                out += x[:, :, rows, window_slice(q, stride, out_w)]
    out *= out.dtype.type(1.0 / (pool_h * pool_w))
    return out, (tuple(x.shape), (pool_h, pool_w, stride))


def avg_pool_backward(dout: Any, cache: tuple) -> Any:
    r"""Backward pass of :func:`avg_pool_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W')
        Upstream gradient.
    cache : tuple
        The cache returned by :func:`avg_pool_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Gradient with respect to ``x``.

    Notes
    -----
    ``out[i, j] = (1 / (ph pw)) \sum_{p,q} x[i s + p, j s + q]``, so every input in a window
    receives ``dout[i, j] / (ph pw)``: ``dL/dx[h, v] = \sum_{(i,j,p,q): i s + p = h, j s + q = v}
    dout[i, j] / (ph pw)``, done as ``ph * pw`` strided slice-adds (overlapping windows add up).
    """
    x_shape, (pool_h, pool_w, stride) = cache
    check_ndim("dout", dout, 4, "(N, C, H', W')")
    out_h = 1 + (x_shape[2] - pool_h) // stride
    out_w = 1 + (x_shape[3] - pool_w) // stride
    check_shape("dout", dout, (x_shape[0], x_shape[1], out_h, out_w), "(N, C, H', W')")
    xp = get_array_module(dout)
    share = dout * dout.dtype.type(1.0 / (pool_h * pool_w))
    dx = xp.zeros(x_shape, dtype=dout.dtype)
    for p in range(pool_h):
        rows = window_slice(p, stride, out_h)
        for q in range(pool_w):
            dx[:, :, rows, window_slice(q, stride, out_w)] += share
    return dx
