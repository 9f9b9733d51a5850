"""``Conv2d``: a 2-D convolution layer with filters ``W`` (F, C, HH, WW) and biases ``b`` (F,)."""

from __future__ import annotations

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional._conv_nhwc import conv_nhwc_backward, conv_nhwc_forward
from numnet.functional.conv import check_conv_args, check_conv_dout
from numnet.init import init_weight
from numnet.nn.module import Module


class Conv2d(Module):
    """Convolution (cross-correlation) with square filters, as CS231n's ``conv_forward``.

    Parameters
    ----------
    in_channels : int
        ``C``.
    out_channels : int
        ``F``, the number of filters.
    kernel_size : int
        Filter height and width (``HH = WW``).
    stride : int
        Step between receptive fields.
    pad : int
        Zero padding on each side of height and width.
    rng : numpy.random.Generator, optional
        Generator for the initial filters (a fresh unseeded one if omitted).
    init : {'he', 'xavier', 'xavier_uniform', None}
        Filter initialisation; None means Gaussian with standard deviation ``weight_scale``.
    weight_scale : float, optional
        Standard deviation for ``init=None``.
    dtype : dtype
        dtype of the parameters (float32 by default).

    Attributes
    ----------
    channels_last_in, channels_last_out : bool
        Whether the input (output) is channel-last (N, H, W, C) instead of (N, C, H, W). False by
        default; a ``ConvNet`` sets them so its activations stay channel-last between layers.

    Notes
    -----
    Input (N, C, H, W); output (N, F, H', W') with ``H' = 1 + (H + 2 pad - HH) // stride``.
    Fan-in is ``C * HH * WW``, fan-out ``F * HH * WW``. ``backward(dout, input_grad=False)`` skips
    the input gradient (half the backward's products), as for the first layer of a network.
    """

    starts_block = True
    decayed = ("W",)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        pad: int = 0,
        *,
        rng: np.random.Generator | None = None,
        init: str | None = "he",
        weight_scale: float | None = None,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.conv_param = {"stride": stride, "pad": pad}
        self.channels_last_in = False
        self.channels_last_out = False
        area = kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.params["W"] = init_weight(
            rng, shape, in_channels * area, out_channels * area, init, weight_scale, dtype
        )
        self.params["b"] = np.zeros(out_channels, dtype=dtype)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Return the (N, F, H', W') convolution of the (N, C, H, W) input (or channel-last)."""
        w, b = self.params["W"], self.params["b"]
        if self.channels_last_in and getattr(x, "ndim", 0) == 4:
            x_nchw = x.transpose(0, 3, 1, 2)  # a view, only for the checks
        else:
            x_nchw = x
        settings = check_conv_args(x_nchw, w, b, self.conv_param)
        out, cache = conv_nhwc_forward(x_nchw.transpose(0, 2, 3, 1), w, b, settings, self.workspace)
        self._cache = cache if train else None
        if self.channels_last_out:
            return out if self.workspace is not None else out.copy()
        return get_array_module(out).ascontiguousarray(out.transpose(0, 3, 1, 2))

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads['W']`` (F, C, HH, WW) and ``grads['b']`` (F,); return dx (or None).

        dx has the input's layout; with ``input_grad=False`` it is not computed.
        """
        cache = self._take_cache()
        if self.channels_last_out:
            dout_nhwc = dout
        else:
            check_conv_dout(dout, cache)
            dout_nhwc = dout.transpose(0, 2, 3, 1)
        w_shape = cache[1]
        dtype = np.result_type(dout, cache[3])
        dw_out = self._take_grad_out("W", w_shape, dtype)
        db_out = self._take_grad_out("b", (w_shape[0],), dtype)
        self.grad_out = None
        dx, dw, db = conv_nhwc_backward(dout_nhwc, cache, input_grad, dw_out, db_out)
        self.grads["W"] = dw
        self.grads["b"] = db
        if dx is None:
            return None
        xp = get_array_module(dx)
        if not self.channels_last_in:
            return xp.ascontiguousarray(dx.transpose(0, 3, 1, 2))
        return dx if self.workspace is not None else xp.ascontiguousarray(dx)

    def extra_repr(self) -> str:
        stride, pad = self.conv_param["stride"], self.conv_param["pad"]
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={stride}, pad={pad}"
        )
