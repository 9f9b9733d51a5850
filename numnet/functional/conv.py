"""2-D convolution (cross-correlation, as CS231n and PyTorch) by im2col and one GEMM.

Layout inside: the padded input is copied once to channel-last (N, Hp, Wp, C); the im2col matrix
is built by ``HH * WW`` strided slice copies into a (N, H', W', HH, WW, C) buffer, so one row of it
is a receptive field and the forward is one matrix product with the (F, HH * WW * C) filter matrix.
The backward reuses the same matrices: ``dw`` is one GEMM, ``dx`` (col2im) is ``HH * WW`` small
GEMMs whose results are slice-added into a padded channel-last buffer. No Python loop runs over
the batch, channels or output positions, and nothing uses ``np.add.at``.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_float, check_ndim, check_shape


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
        ``H' = 1 + (H + 2 * pad_h - HH) // stride_h``,
        ``W' = 1 + (W + 2 * pad_w - WW) // stride_w``
        (floor, as PyTorch: rows and columns that do not fill a last window are ignored).
    cache : tuple
        What :func:`conv_backward` needs.

    Raises
    ------
    ValueError
        Wrong number of dimensions, channel count of ``x`` and ``w`` differ, ``b`` is not (F,),
        stride < 1, pad < 0, or the filter does not fit in the padded input.
    TypeError
        An input is not a floating-point array.

    Notes
    -----
    ``out[n, f, i, j] = b[f] + sum_{c, p, q} x_pad[n, c, i*s_h + p, j*s_w + q] * w[f, c, p, q]``.
    Computed as ``cols @ w_mat.T``; a row of ``cols`` (N*H'*W', HH*WW*C) is one receptive field.
    """
    check_ndim("x", x, 4, "(N, C, H, W)")
    check_ndim("w", w, 4, "(F, C, HH, WW)")
    check_ndim("b", b, 1, "(F,)")
    for name, a in (("x", x), ("w", w), ("b", b)):
        check_float(name, a)
    num_images, channels, height, width = x.shape
    num_filters, w_channels, kernel_h, kernel_w = w.shape
    if w_channels != channels:
        raise ValueError(
            f"x has {channels} channels (shape {tuple(x.shape)}) but w expects {w_channels} "
            f"(shape {tuple(w.shape)}); w must have shape (F, C, HH, WW) with C = {channels}"
        )
    check_shape("b", b, (num_filters,), "(F,)")
    stride_h, stride_w, pad_h, pad_w = _conv_settings(conv_param)
    out_h = 1 + (height + 2 * pad_h - kernel_h) // stride_h
    out_w = 1 + (width + 2 * pad_w - kernel_w) // stride_w
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            f"filter {kernel_h}x{kernel_w} does not fit input {height}x{width} with pad "
            f"({pad_h}, {pad_w}): output would be {out_h}x{out_w}; "
            "increase 'pad' or use a smaller filter"
        )
    xp = get_array_module(x, w, b)

    # Padded channel-last copy of the input: (N, Hp, Wp, C).
    x_pad = xp.zeros((num_images, height + 2 * pad_h, width + 2 * pad_w, channels), dtype=x.dtype)
    x_pad[:, pad_h : pad_h + height, pad_w : pad_w + width, :] = x.transpose(0, 2, 3, 1)

    # im2col: cols[n, i, j, p, q, c] = x_pad[n, i*s_h + p, j*s_w + q, c].
    cols = xp.empty((num_images, out_h, out_w, kernel_h, kernel_w, channels), dtype=x.dtype)
    for p in range(kernel_h):
        rows = slice(p, p + stride_h * (out_h - 1) + 1, stride_h)
        for q in range(kernel_w):
            columns = slice(q, q + stride_w * (out_w - 1) + 1, stride_w)
            cols[:, :, :, p, q, :] = x_pad[:, rows, columns, :]
    cols = cols.reshape(num_images * out_h * out_w, kernel_h * kernel_w * channels)

    # Filters as a (F, HH*WW*C) matrix in the same (p, q, c) order as a row of cols.
    w_mat = w.transpose(0, 2, 3, 1).reshape(num_filters, -1)
    out = cols @ w_mat.T
    out += b
    out = out.reshape(num_images, out_h, out_w, num_filters).transpose(0, 3, 1, 2)
    settings = (stride_h, stride_w, pad_h, pad_w)
    cache = (tuple(x.shape), tuple(w.shape), cols, w_mat, settings)
    return xp.ascontiguousarray(out), cache


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

    Notes
    -----
    With ``out[n,f,i,j] = b[f] + \sum_{c,p,q} x_pad[n, c, i s_h + p, j s_w + q] w[f,c,p,q]``:

    * ``db[f] = \sum_{n,i,j} dout[n,f,i,j]`` (sum over N, H', W').
    * ``dw[f,c,p,q] = \sum_{n,i,j} dout[n,f,i,j] x_pad[n, c, i s_h + p, j s_w + q]``: the
      correlation of the input with ``dout``; in im2col form ``dw_mat = dout_mat.T @ cols``.
    * ``dx_pad[n,c,h,v] = \sum_{f,i,j,p,q: i s_h + p = h, j s_w + q = v} dout[n,f,i,j] w[f,c,p,q]``:
      the full convolution of the (stride-dilated) ``dout`` with the flipped filter. In im2col form
      each kernel offset (p, q) contributes ``dout_mat @ w[:, :, p, q]`` (N*H'*W', C), added into
      the strided slice ``dx_pad[:, :, p : p + s_h H' : s_h, q : q + s_w W' : s_w]`` (HH*WW
      slice-adds); ``dx`` is ``dx_pad`` with the padding cropped.
    """
    x_shape, w_shape, cols, w_mat, settings = cache
    stride_h, stride_w, pad_h, pad_w = settings
    num_images, channels, height, width = x_shape
    num_filters, _, kernel_h, kernel_w = w_shape
    out_h = 1 + (height + 2 * pad_h - kernel_h) // stride_h
    out_w = 1 + (width + 2 * pad_w - kernel_w) // stride_w
    check_ndim("dout", dout, 4, "(N, F, H', W')")
    check_shape("dout", dout, (num_images, num_filters, out_h, out_w), "(N, F, H', W')")
    xp = get_array_module(dout, cols)

    db = dout.sum(axis=(0, 2, 3))
    dout_mat = dout.transpose(0, 2, 3, 1).reshape(-1, num_filters)  # (N*H'*W', F)
    dw = (dout_mat.T @ cols).reshape(num_filters, kernel_h, kernel_w, channels)
    dw = xp.ascontiguousarray(dw.transpose(0, 3, 1, 2))

    # col2im one kernel offset at a time: dx_pad[:, rows(p), cols(q), :] += dout_mat @ w[:, :, p, q]
    # so the (N*H'*W', HH*WW*C) matrix of column gradients never exists at once.
    w_by_offset = w_mat.reshape(num_filters, kernel_h, kernel_w, channels)
    dx_pad = xp.zeros(
        (num_images, height + 2 * pad_h, width + 2 * pad_w, channels),
        dtype=xp.result_type(dout_mat, w_mat),
    )
    for p in range(kernel_h):
        rows = slice(p, p + stride_h * (out_h - 1) + 1, stride_h)
        for q in range(kernel_w):
            columns = slice(q, q + stride_w * (out_w - 1) + 1, stride_w)
            dcols = dout_mat @ w_by_offset[:, p, q, :]  # (N*H'*W', C)
            dx_pad[:, rows, columns, :] += dcols.reshape(num_images, out_h, out_w, channels)
    dx = dx_pad[:, pad_h : pad_h + height, pad_w : pad_w + width, :].transpose(0, 3, 1, 2)
    return xp.ascontiguousarray(dx), dw, db
