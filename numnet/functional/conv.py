r"""2-D convolution (cross-correlation, as CS231n and PyTorch) over (N, C, H, W) images.

Two versions of the same function, to read side by side:

* :func:`conv_forward_naive` / :func:`conv_backward_naive`: the definition as loops over images,
  filters and output positions. Slow; for reading and for checking.
* :func:`conv_forward` / :func:`conv_backward`: the vectorised reference. im2col gathers every
  receptive field into a row of one matrix, so the forward is one matrix product; the backward is
  two products and col2im, the same window slices added back into the image.

The fast kernels (channel-last im2col, Winograd) live in :mod:`numnet.kernels` and are checked
against these.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_dout, check_float, check_ndim, check_shape
from numnet.functional._windows import output_size, window_slice


def _int_setting(conv_param: dict, key: str, fallback: str, default: int, minimum: int) -> int:
    """Read an integer setting ``key`` (or ``fallback``) from ``conv_param`` and check its range."""
    value = conv_param.get(key, conv_param.get(fallback, default))
    name = key if key in conv_param else fallback
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"conv_param['{name}'] must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"conv_param['{name}'] must be an integer >= {minimum}, got {value}")
    return value


def _conv_settings(conv_param: dict) -> tuple[int, int, int, int]:
    """Return ``(stride_h, stride_w, pad_h, pad_w)`` from a CS231n ``{'stride', 'pad'}`` dict."""
    if not isinstance(conv_param, dict):
        raise TypeError(
            "conv_param must be a dict like {'stride': 1, 'pad': 0}, "
            f"got {type(conv_param).__name__}"
        )
    stride_h = _int_setting(conv_param, "stride_h", "stride", 1, 1)
    stride_w = _int_setting(conv_param, "stride_w", "stride", 1, 1)
    pad_h = _int_setting(conv_param, "pad_h", "pad", 0, 0)
    pad_w = _int_setting(conv_param, "pad_w", "pad", 0, 0)
    return stride_h, stride_w, pad_h, pad_w


def check_conv_args(x: Any, w: Any, b: Any, conv_param: dict) -> tuple[int, int, int, int]:
    """Validate :func:`conv_forward`'s arguments; return ``(stride_h, stride_w, pad_h, pad_w)``.

    ``x`` is (N, C, H, W) (a transposed view of a channel-last array will do). Raises the
    ``ValueError`` / ``TypeError`` documented in :func:`conv_forward`.
    """
    check_ndim("x", x, 4, "(N, C, H, W)")
    if getattr(w, "ndim", 4) in (1, 2):
        raise ValueError(
            f"w must have shape (F, C, HH, WW), got shape {tuple(w.shape)}: a single filter k "
            "is w = k.reshape(1, 1, HH, WW) (a 1-D filter has HH = 1), repeated over C with "
            "np.repeat(w, C, axis=1) to sum over the colour channels"
        )
    check_ndim("w", w, 4, "(F, C, HH, WW)")
    check_ndim("b", b, 1, "(F,)")
    for name, a in (("x", x), ("w", w), ("b", b)):
        check_float(name, a)
    _, channels, height, width = x.shape
    num_filters, w_channels, kernel_h, kernel_w = w.shape
    if w_channels != channels:
        raise ValueError(
            f"x has {channels} channels (shape {tuple(x.shape)}) but w expects {w_channels} "
            f"(shape {tuple(w.shape)}); w must have shape (F, C, HH, WW) with C = {channels}"
        )
    check_shape("b", b, (num_filters,), "(F,)")
    stride_h, stride_w, pad_h, pad_w = _conv_settings(conv_param)
    out_h = output_size(height, kernel_h, stride_h, pad_h)
    out_w = output_size(width, kernel_w, stride_w, pad_w)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            f"filter {kernel_h}x{kernel_w} does not fit input {height}x{width} with pad "
            f"({pad_h}, {pad_w}): output would be {out_h}x{out_w}; "
            "increase 'pad' or use a smaller filter"
        )
    return stride_h, stride_w, pad_h, pad_w


def check_conv_dout(dout: Any, cache: tuple) -> None:
    """Raise ``ValueError`` unless ``dout`` is (N, F, H', W') for the forward behind ``cache``.

    ``cache`` is one from :func:`conv_forward` or :func:`conv_forward_naive`.
    """
    x, w, _, (stride_h, stride_w, pad_h, pad_w) = cache[:4]
    out_h = output_size(x.shape[2], w.shape[2], stride_h, pad_h)
    out_w = output_size(x.shape[3], w.shape[3], stride_w, pad_w)
    check_dout(dout, (x.shape[0], w.shape[0], out_h, out_w), "(N, F, H', W')")


def _pad(xp: Any, x: Any, pad_h: int, pad_w: int) -> Any:
    """``x`` with ``pad_h`` rows of zeros above and below and ``pad_w`` columns left and right."""
    return xp.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))


# --- the loops -----------------------------------------------------------------------------------


def conv_forward_naive(x: Any, w: Any, b: Any, conv_param: dict) -> tuple[Any, tuple]:
    """Convolution forward as the literal loops over output positions (for reading and checking).

    Takes, returns and raises exactly what :func:`conv_forward` does; the cache is
    ``(x, w, b, (stride_h, stride_w, pad_h, pad_w))``.

    Notes
    -----
    For every image n, filter f and output position (i, j): take the window of the zero-padded
    input whose top-left corner is ``(i * stride_h, j * stride_w)``, multiply it elementwise by
    filter f, sum, and add ``b[f]``::

        out[n, f, i, j] = b[f] + sum_{c, p, q} x_pad[n, c, i*s_h + p, j*s_w + q] * w[f, c, p, q]

    The output has ``H' = 1 + (H + 2 pad_h - HH) // s_h`` rows (floor: rows that do not fill a last
    window are ignored, as PyTorch) and ``W' = 1 + (W + 2 pad_w - WW) // s_w`` columns.
    """
    settings = check_conv_args(x, w, b, conv_param)
    stride_h, stride_w, pad_h, pad_w = settings
    xp = get_array_module(x, w, b)
    num_images, _, height, width = x.shape
    num_filters, _, kernel_h, kernel_w = w.shape
    out_h = output_size(height, kernel_h, stride_h, pad_h)
    out_w = output_size(width, kernel_w, stride_w, pad_w)
    x_pad = _pad(xp, x, pad_h, pad_w)
    out = xp.zeros((num_images, num_filters, out_h, out_w), dtype=xp.result_type(x, w, b))
    for n in range(num_images):
        for f in range(num_filters):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride_h, j * stride_w
                    window = x_pad[n, :, top : top + kernel_h, left : left + kernel_w]
                    out[n, f, i, j] = xp.sum(window * w[f]) + b[f]
    return out, (x, w, b, settings)


def conv_backward_naive(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`conv_forward_naive`: the forward's loops, run for the gradients.

    Takes, returns and raises what :func:`conv_backward` does.

    Notes
    -----
    Each output ``out[n, f, i, j] = b[f] + sum(window * w[f])`` is a sum of products, so its
    gradient ``g = dout[n, f, i, j]`` flows back along each term, and the total gradient of an
    input is the sum over every output it took part in:

    * ``db[f] += g`` (the bias enters every output of filter f with weight 1);
    * ``dw[f] += g * window`` (each weight is multiplied by the window element under it);
    * ``dx_pad[n, :, window] += g * w[f]`` (each input of the window is multiplied by the weight
      above it; windows overlap when the stride is smaller than the filter, and their
      contributions add).

    ``dx`` is ``dx_pad`` without the padding (the padded zeros are constants, not inputs).
    """
    check_conv_dout(dout, cache)
    x, w, b, (stride_h, stride_w, pad_h, pad_w) = cache
    xp = get_array_module(dout, x, w)
    dtype = xp.result_type(dout, x, w)
    num_images, _, height, width = x.shape
    num_filters, _, kernel_h, kernel_w = w.shape
    x_pad = _pad(xp, x, pad_h, pad_w)
    dx_pad = xp.zeros(x_pad.shape, dtype=dtype)
    dw = xp.zeros(w.shape, dtype=dtype)
    db = xp.zeros(b.shape, dtype=dtype)
    for n in range(num_images):
        for f in range(num_filters):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    top, left = i * stride_h, j * stride_w
                    rows, cols = slice(top, top + kernel_h), slice(left, left + kernel_w)
                    g = dout[n, f, i, j]
                    db[f] += g
                    dw[f] += g * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += g * w[f]
    dx = dx_pad[:, :, pad_h : pad_h + height, pad_w : pad_w + width]
    return xp.ascontiguousarray(dx), dw, db


# --- the vectorised reference --------------------------------------------------------------------


def conv_forward(x: Any, w: Any, b: Any, conv_param: dict) -> tuple[Any, tuple]:
    """Convolve a batch of images with a bank of filters (cross-correlation, as CS231n and PyTorch).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input images, float32 or float64.
    w : ndarray, shape (F, C, HH, WW)
        Filters.
    b : ndarray, shape (F,)
        Biases.
    conv_param : dict
        ``'stride'`` (int >= 1, default 1) and ``'pad'`` (int >= 0, default 0): zero padding on each
        side of the height and width axes. Optional ``'stride_h'``, ``'stride_w'``, ``'pad_h'``,
        ``'pad_w'`` override them per axis.

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
        In the inputs' dtype; ``H'`` and ``W'`` as in the Notes.
    cache : tuple
        ``(x, w, b, (stride_h, stride_w, pad_h, pad_w), cols)`` for :func:`conv_backward`.

    Raises
    ------
    ValueError
        Wrong number of dimensions (a 1-D or 2-D filter gets a message saying how to reshape it
        to (F, C, HH, WW)), channel count of ``x`` and ``w`` differ, ``b`` is not (F,),
        stride < 1, pad < 0, or the filter does not fit in the padded input.
    TypeError
        An input is not a floating-point array: a uint8 image is refused, not converted; pass
        ``x.astype(np.float64)``.

    Notes
    -----
    ``out[n, f, i, j] = b[f] + sum_{c, p, q} x_pad[n, c, i*s_h + p, j*s_w + q] * w[f, c, p, q]``
    with ``H' = 1 + (H + 2 pad_h - HH) // s_h`` and ``W' = 1 + (W + 2 pad_w - WW) // s_w`` (floor,
    as PyTorch: rows and columns that do not fill a last window are ignored).

    im2col: for a fixed filter offset (p, q), the input element every window sees there is the
    strided slice ``x_pad[:, :, p + s_h * i, q + s_w * j]`` over all (i, j), an (N, C, H', W')
    array. Stacking the HH * WW slices and moving the axes gives ``cols`` of shape
    (N * H' * W', C * HH * WW): one row per output position, holding its receptive field in the
    order of ``w.reshape(F, C * HH * WW)``. The sum over (c, p, q) is then one matrix product,
    ``out = cols @ w.reshape(F, -1).T + b``, reshaped to (N, F, H', W').
    """
    settings = check_conv_args(x, w, b, conv_param)
    stride_h, stride_w, pad_h, pad_w = settings
    xp = get_array_module(x, w, b)
    num_images, channels, height, width = x.shape
    num_filters, _, kernel_h, kernel_w = w.shape
    out_h = output_size(height, kernel_h, stride_h, pad_h)
    out_w = output_size(width, kernel_w, stride_w, pad_w)
    x_pad = _pad(xp, x, pad_h, pad_w)
    slices = [
        x_pad[:, :, window_slice(p, stride_h, out_h), window_slice(q, stride_w, out_w)]
        for p in range(kernel_h)
        for q in range(kernel_w)
    ]
    windows = xp.stack(slices, axis=-1)  # (N, C, H', W', HH * WW)
    cols = windows.transpose(0, 2, 3, 1, 4).reshape(num_images * out_h * out_w, -1)
    out = cols @ w.reshape(num_filters, -1).T + b  # (N * H' * W', F)
    out = out.reshape(num_images, out_h, out_w, num_filters).transpose(0, 3, 1, 2)
    return xp.ascontiguousarray(out), (x, w, b, settings, cols)


def conv_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    r"""Backward pass of :func:`conv_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
        Upstream gradient dL/dout.
    cache : tuple
        The cache returned by :func:`conv_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Gradient with respect to ``x``.
    dw : ndarray, shape (F, C, HH, WW)
        Gradient with respect to ``w``.
    db : ndarray, shape (F,)
        Gradient with respect to ``b``.

    Raises
    ------
    ValueError
        ``dout`` does not have the forward output's shape.

    Notes
    -----
    With ``out[n,f,i,j] = b[f] + \sum_{c,p,q} x_pad[n, c, i s_h + p, j s_w + q] w[f,c,p,q]``,
    the chain rule sums ``dout`` times the derivative of each output over all outputs:

    * ``db[f] = \sum_{n,i,j} dout[n,f,i,j]``: b[f] enters every output of filter f.
    * ``dw[f,c,p,q] = \sum_{n,i,j} dout[n,f,i,j] x_pad[n, c, i s_h + p, j s_w + q]``: the
      correlation of the input with ``dout``. With ``dout_mat`` the (N * H' * W', F) matrix of
      ``dout`` (rows in the order of ``cols``' rows), that is ``dw = dout_mat.T @ cols``.
    * ``dx_pad[n,c,h,v] = \sum_{f,i,j,p,q: i s_h + p = h, j s_w + q = v} dout[n,f,i,j]
      w[f,c,p,q]``: every window that contains (h, v) sends back ``dout`` times the weight above
      it (a full convolution of the stride-dilated ``dout`` with the flipped filter).
      ``dcols = dout_mat @ w.reshape(F, -1)`` holds, for each output position, the gradient of its
      receptive field. col2im adds it back where the forward read it: with ``dcols`` laid out as
      the forward's windows, (N, C, H', W', HH, WW), for each offset (p, q)
      ``dx_pad[:, :, p + s_h * i, q + s_w * j] += dwindows[..., p, q]`` over all (i, j): the same
      strided slices, HH * WW slice-adds (overlapping windows add up).

    ``dx`` is ``dx_pad`` with the padding cropped.
    """
    check_conv_dout(dout, cache)
    x, w, _, (stride_h, stride_w, pad_h, pad_w), cols = cache
    xp = get_array_module(dout, x, w)
    num_images, channels, height, width = x.shape
    num_filters, _, kernel_h, kernel_w = w.shape
    out_h, out_w = dout.shape[2], dout.shape[3]
    db = dout.sum(axis=(0, 2, 3))
    dout_mat = dout.transpose(0, 2, 3, 1).reshape(-1, num_filters)  # (N * H' * W', F)
    dw = (dout_mat.T @ cols).reshape(w.shape)
    dcols = dout_mat @ w.reshape(num_filters, -1)  # (N * H' * W', C * HH * WW)
    dwindows = dcols.reshape(num_images, out_h, out_w, channels, kernel_h, kernel_w)
    dwindows = dwindows.transpose(0, 3, 1, 2, 4, 5)  # (N, C, H', W', HH, WW), as the forward's
    dx_pad = xp.zeros((num_images, channels, height + 2 * pad_h, width + 2 * pad_w), dcols.dtype)
    for p in range(kernel_h):
        for q in range(kernel_w):
            rows, columns = window_slice(p, stride_h, out_h), window_slice(q, stride_w, out_w)
            dx_pad[:, :, rows, columns] += dwindows[..., p, q]
    dx = dx_pad[:, :, pad_h : pad_h + height, pad_w : pad_w + width]
    return xp.ascontiguousarray(dx), dw, db
