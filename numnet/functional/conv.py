"""2-D convolution (cross-correlation, as CS231n and PyTorch) by im2col and one GEMM.

Layout inside (:mod:`numnet.kernels.conv_im2col`): the padded input is copied once to channel-last
(N, Hp, Wp, C); the im2col matrix is built by ``HH * WW`` strided slice copies into a
(N, H', W', HH, WW, C) buffer, so one row of it is a receptive field and the forward is one matrix
product with the (F, HH * WW * C) filter matrix.
The backward reuses the same matrices: ``dw`` is one GEMM, ``dx`` (col2im) is ``HH * WW`` small
GEMMs whose results are slice-added into a padded channel-last buffer. No Python loop runs over
the batch, channels or output positions, and nothing uses ``np.add.at``.
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_float, check_ndim, check_shape
from numnet.kernels._utils import conv_output_size
from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward


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
    out_h = conv_output_size(height, kernel_h, stride_h, pad_h)
    out_w = conv_output_size(width, kernel_w, stride_w, pad_w)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            f"filter {kernel_h}x{kernel_w} does not fit input {height}x{width} with pad "
            f"({pad_h}, {pad_w}): output would be {out_h}x{out_w}; "
            "increase 'pad' or use a smaller filter"
        )
    return stride_h, stride_w, pad_h, pad_w


def check_conv_dout(dout: Any, cache: tuple) -> None:
    """Raise ``ValueError`` unless ``dout`` is (N, F, H', W') for the forward behind ``cache``."""
    x_shape, w_shape, _, _, settings, _ = cache
    stride_h, stride_w, pad_h, pad_w = settings
    num_images, height, width, _ = x_shape  # the cache holds the channel-last shape
    num_filters, _, kernel_h, kernel_w = w_shape
    out_h = conv_output_size(height, kernel_h, stride_h, pad_h)
    out_w = conv_output_size(width, kernel_w, stride_w, pad_w)
    check_ndim("dout", dout, 4, "(N, F, H', W')")
    check_shape("dout", dout, (num_images, num_filters, out_h, out_w), "(N, F, H', W')")


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
    settings = check_conv_args(x, w, b, conv_param)
    xp = get_array_module(x, w, b)
    out, cache = conv_nhwc_forward(x.transpose(0, 2, 3, 1), w, b, settings)
    return xp.ascontiguousarray(out.transpose(0, 3, 1, 2)), cache


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
    check_conv_dout(dout, cache)
    xp = get_array_module(dout)
    dx, dw, db = conv_nhwc_backward(dout.transpose(0, 2, 3, 1), cache)
    return xp.ascontiguousarray(dx.transpose(0, 3, 1, 2)), dw, db
