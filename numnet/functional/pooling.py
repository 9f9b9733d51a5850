"""Max and average pooling over (N, C, H, W) images; any window and stride, overlapping included.

Max pooling comes twice, to read side by side:

* :func:`max_pool_forward_naive` / :func:`max_pool_backward_naive`: loops over images, channels
  and output positions. Slow; for reading and for checking.
* :func:`max_pool_forward` / :func:`max_pool_backward`: the vectorised reference. For each offset
  (p, q) inside the window, the element every window holds there is one strided slice of the image,
  ``x[:, :, p + s * i, q + s * j]`` over all (i, j); the forward reduces the ``pool_height *
  pool_width`` slices, the backward adds into the same slices.

Output sizes floor as in PyTorch (no padding): ``H' = 1 + (H - pool_height) // stride``. The fast
channel-last kernels live in :mod:`numnet.kernels` and are checked against these.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_dout, check_float, check_ndim
from numnet.functional._windows import output_size, window_slice

PoolSettings = tuple[int, int, int]  # (pool_height, pool_width, stride)


def _pool_settings(pool_param: dict) -> PoolSettings:
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
    out_h = output_size(height, pool_h, stride)
    out_w = output_size(width, pool_w, stride)
    return pool_h, pool_w, stride, out_h, out_w


def check_pool_args(x: Any, pool_param: dict) -> PoolSettings:
    """Validate pooling's ``x`` (N, C, H, W) and ``pool_param`` as the forwards do; return
    ``(pool_height, pool_width, stride)`` (for kernels that take the same arguments)."""
    return _output_size(x, pool_param)[:3]


def _check_dout(dout: Any, x_shape: tuple[int, ...], settings: PoolSettings) -> None:
    """Raise ``ValueError`` unless ``dout`` is (N, C, H', W') for an input of ``x_shape``."""
    pool_h, pool_w, stride = settings
    out_h = output_size(x_shape[2], pool_h, stride)
    out_w = output_size(x_shape[3], pool_w, stride)
    check_dout(dout, (x_shape[0], x_shape[1], out_h, out_w), "(N, C, H', W')")


def _window_slices(x: Any, settings: PoolSettings, out_h: int, out_w: int) -> list[Any]:
    """The ``pool_h * pool_w`` strided views ``x[:, :, p + s * i, q + s * j]``, each (N, C, H', W').

    One per window offset (p, q), in row-major window order: view ``k`` holds, for every window,
    its element at ``(p, q) = divmod(k, pool_w)``.
    """
    pool_h, pool_w, stride = settings
    return [
        x[:, :, window_slice(p, stride, out_h), window_slice(q, stride, out_w)]
        for p in range(pool_h)
        for q in range(pool_w)
    ]


# --- max pooling: the loops ----------------------------------------------------------------------


def max_pool_forward_naive(x: Any, pool_param: dict) -> tuple[Any, tuple]:
    """Max pooling as loops over output positions (for reading and checking).

    Takes, returns and raises what :func:`max_pool_forward` does; the cache is
    ``(x, (pool_height, pool_width, stride))``.

    Notes
    -----
    For every image n, channel c and output position (i, j), the largest element of the window
    whose top-left corner is ``(i * stride, j * stride)``::

        out[n, c, i, j] = max_{p, q} x[n, c, i*s + p, j*s + q]

    with ``H' = 1 + (H - pool_height) // stride`` and ``W' = 1 + (W - pool_width) // stride``
    (floor: a last partial window is dropped, as PyTorch).
    """
    pool_h, pool_w, stride, out_h, out_w = _output_size(x, pool_param)
    xp = get_array_module(x)
    num_images, channels = x.shape[0], x.shape[1]
    out = xp.zeros((num_images, channels, out_h, out_w), dtype=x.dtype)
    for n in range(num_images):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride, j * stride
                    out[n, c, i, j] = x[n, c, top : top + pool_h, left : left + pool_w].max()
    return out, (x, (pool_h, pool_w, stride))


def max_pool_backward_naive(dout: Any, cache: tuple) -> Any:
    """Backward pass of :func:`max_pool_forward_naive`: the forward's loops, run for the gradient.

    Takes, returns and raises what :func:`max_pool_backward` does.

    Notes
    -----
    Near ``x``, the max of a window is the identity of its largest element and constant in the
    others, so each window sends its ``dout[n, c, i, j]`` to the position of its maximum and
    nothing elsewhere: ``dx[n, c, i*s + p*, j*s + q*] += dout[n, c, i, j]`` with ``(p*, q*)`` the
    arg-max. Overlapping windows (stride < window) that share a maximum add their gradients. On
    ties the first maximum in row-major window order gets it all (``argmax`` of the flattened
    window), as PyTorch.
    """
    x, (pool_h, pool_w, stride) = cache
    _check_dout(dout, tuple(x.shape), (pool_h, pool_w, stride))
    xp = get_array_module(dout, x)
    dx = xp.zeros(x.shape, dtype=dout.dtype)
    for n in range(dout.shape[0]):
        for c in range(dout.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    top, left = i * stride, j * stride
                    window = x[n, c, top : top + pool_h, left : left + pool_w]
                    p, q = divmod(int(window.argmax()), pool_w)
                    dx[n, c, top + p, left + q] += dout[n, c, i, j]
    return dx


# --- max pooling: the vectorised reference -------------------------------------------------------


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
        In x's dtype; ``H'`` and ``W'`` as in the Notes.
    cache : tuple
        ``(x, argmax, (pool_height, pool_width, stride))`` for :func:`max_pool_backward`;
        ``argmax`` (N, C, H', W') is each window's arg-max as an index into the row-major
        flattened window.

    Raises
    ------
    ValueError
        ``x`` is not 4-D, a setting is missing or < 1, or the window is larger than the input.
    TypeError
        ``x`` is not a floating-point array (an integer array is refused: pass
        ``x.astype(np.float64)``).

    Notes
    -----
    ``out[n, c, i, j] = max_{p, q} x[n, c, i*s + p, j*s + q]`` with
    ``H' = 1 + (H - pool_height) // stride`` and ``W' = 1 + (W - pool_width) // stride`` (floor,
    as PyTorch). The ``pool_height * pool_width`` strided slices (one per window offset, each
    holding that element of every window) are stacked on a new first axis; the max and the arg-max
    over that axis give every window's result at once.
    """
    pool_h, pool_w, stride, out_h, out_w = _output_size(x, pool_param)
    settings = (pool_h, pool_w, stride)
    xp = get_array_module(x)
    windows = xp.stack(_window_slices(x, settings, out_h, out_w))  # (ph * pw, N, C, H', W')
    argmax = windows.argmax(axis=0)  # the first maximum in row-major window order
    out = windows.max(axis=0)
    return out, (x, argmax, settings)


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

    Raises
    ------
    ValueError
        ``dout`` does not have the forward output's shape.

    Notes
    -----
    ``out = max_{p,q} x[i s + p, j s + q]`` is locally the identity of its arg-max element, so
    ``dL/dx[h, v] = \sum_{(i,j): argmax(i,j) = (h,v)} dout[i, j]``: each window routes its
    ``dout`` to its arg-max, and where overlapping windows (stride < window) share that position
    their contributions add. On ties a window routes to exactly one element, the first in row-major
    window order (as PyTorch). For window offset ``k = p * pool_width + q`` the windows whose
    arg-max is k send ``dout * (argmax == k)`` into the strided slice of offset (p, q), the one the
    forward read.
    """
    x, argmax, settings = cache
    _check_dout(dout, tuple(x.shape), settings)
    xp = get_array_module(dout, x)
    pool_h, pool_w, stride = settings
    out_h, out_w = dout.shape[2], dout.shape[3]
    dx = xp.zeros(x.shape, dtype=dout.dtype)
    for p in range(pool_h):
        for q in range(pool_w):
            rows, columns = window_slice(p, stride, out_h), window_slice(q, stride, out_w)
            dx[:, :, rows, columns] += dout * (argmax == p * pool_w + q)
    return dx


# --- average pooling -----------------------------------------------------------------------------


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
        In x's dtype, sizes as in :func:`max_pool_forward`.
    cache : tuple
        ``(x.shape, (pool_height, pool_width, stride))`` for :func:`avg_pool_backward`.

    Raises
    ------
    ValueError
        ``x`` is not 4-D, a setting is missing or < 1, or the window is larger than the input.
    TypeError
        ``x`` is not a floating-point array (an integer array is refused: pass
        ``x.astype(np.float64)``).

    Notes
    -----
    ``out[n, c, i, j] = (1 / (ph pw)) sum_{p, q} x[n, c, i*s + p, j*s + q]``: the sum of the
    ``ph * pw`` strided window slices, divided by the window size.
    """
    pool_h, pool_w, stride, out_h, out_w = _output_size(x, pool_param)
    settings = (pool_h, pool_w, stride)
    total = sum(_window_slices(x, settings, out_h, out_w))
    return total * x.dtype.type(1.0 / (pool_h * pool_w)), (tuple(x.shape), settings)


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

    Raises
    ------
    ValueError
        ``dout`` does not have the forward output's shape.

    Notes
    -----
    ``out[i, j] = (1 / (ph pw)) \sum_{p,q} x[i s + p, j s + q]``, so every input in a window
    receives ``dout[i, j] / (ph pw)``: ``dL/dx[h, v] = \sum_{(i,j,p,q): i s + p = h, j s + q = v}
    dout[i, j] / (ph pw)``, done as ``ph * pw`` strided slice-adds (overlapping windows add up).
    """
    x_shape, settings = cache
    _check_dout(dout, x_shape, settings)
    pool_h, pool_w, stride = settings
    out_h, out_w = dout.shape[2], dout.shape[3]
    xp = get_array_module(dout)
    share = dout * dout.dtype.type(1.0 / (pool_h * pool_w))
    dx = xp.zeros(x_shape, dtype=dout.dtype)
    for p in range(pool_h):
        for q in range(pool_w):
            rows, columns = window_slice(p, stride, out_h), window_slice(q, stride, out_w)
            dx[:, :, rows, columns] += share
    return dx
