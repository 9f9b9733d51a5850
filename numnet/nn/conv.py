"""``Conv2d``: a 2-D convolution layer with filters ``W`` (F, C, HH, WW) and biases ``b`` (F,)."""

from __future__ import annotations

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional.conv import check_conv_args, check_conv_dout
from numnet.init import init_weight
from numnet.kernels._utils import conv_output_size
from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward
from numnet.kernels.conv_winograd import winograd_backward, winograd_forward
from numnet.nn.module import Module

# From this many input channels on, 'auto' picks Winograd. Measured on 2 cores, float32, batch 64,
# one forward + backward (`python -m bench.conv_algorithms`, Winograd time / im2col time, two
# runs): C=128 (7x7) 0.84-0.85, C=64 (14x14, 128 filters) 0.64-0.65, C=32 (14x14, 64 filters)
# 0.73-0.75, C=32 (28x28) 0.81, C=16 (28x28) 0.84-0.86, C=8 1.03 (earlier versions of the
# Winograd kernels: 0.84, 0.65, 0.82, 0.91, 1.01, 1.28, and before that 0.9, 0.75, 0.93-1.0, 1.0,
# 1.2, 1.7). Below 16 channels the 16 GEMMs are too thin (K = C) and the transforms' memory
# traffic eats the saved multiplications.
WINOGRAD_MIN_CHANNELS = 16
ALGORITHMS = ("auto", "im2col", "winograd")


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
    algorithm : {'auto', 'im2col', 'winograd'}
        How the products are computed: ``'im2col'`` (one GEMM over all receptive fields),
        ``'winograd'`` (F(2x2, 3x3), 2.25x fewer multiplications; 3x3 filters with stride 1 only,
        see :mod:`numnet.kernels.conv_winograd`), or ``'auto'``: Winograd for 3x3 stride-1
        layers with at least :data:`WINOGRAD_MIN_CHANNELS` input channels, else im2col. Both give
        the same results up to rounding.

    Attributes
    ----------
    channels_last_in, channels_last_out : bool
        Whether the input (output) is channel-last (N, H, W, C) instead of (N, C, H, W). False by
        default; a ``ConvNet`` sets them so its activations stay channel-last between layers.
    pool_blocks_out : bool
        With ``channels_last_out``: give the output as the four positions of 2x2 pooling windows,
        (4, N, H'/2, W'/2, F), for a following ``MaxPool2d(2)`` (when H' and W' are even;
        otherwise the output is as usual). False by default; a ``ConvNet`` sets it on every
        convolution that a 2x2, stride-2 max pool follows.

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
        algorithm: str = "auto",
    ) -> None:
        super().__init__()
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
        if algorithm == "winograd" and (kernel_size != 3 or stride != 1):
            raise ValueError(
                "algorithm='winograd' needs 3x3 filters with stride 1; use 'im2col' or 'auto'"
            )
        self.algorithm = algorithm
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.conv_param = {"stride": stride, "pad": pad}
        self.channels_last_in = False
        self.channels_last_out = False
        self.pool_blocks_out = False
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
        x_nhwc = x_nchw.transpose(0, 2, 3, 1)
        blocks = self.pool_blocks_out and self.channels_last_out
        if blocks:
            stride_h, stride_w, pad_h, pad_w = settings
            out_h = conv_output_size(x_nhwc.shape[1], self.kernel_size, stride_h, pad_h)
            out_w = conv_output_size(x_nhwc.shape[2], self.kernel_size, stride_w, pad_w)
            blocks = out_h % 2 == 0 and out_w % 2 == 0
        if self._use_winograd(settings):
            out, cache = winograd_forward(x_nhwc, w, b, settings[2], self.workspace, blocks)
            cache = ("winograd", cache)
        else:
            out, cache = conv_nhwc_forward(x_nhwc, w, b, settings, self.workspace, blocks)
            cache = ("im2col", cache)
        self._cache = cache if train else None
        if self.channels_last_out:
            return out if self.workspace is not None else out.copy()
        return get_array_module(out).ascontiguousarray(out.transpose(0, 3, 1, 2))

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads['W']`` (F, C, HH, WW) and ``grads['b']`` (F,); return dx (or None).

        dx has the input's layout; with ``input_grad=False`` it is not computed.
        """
        algorithm, cache = self._take_cache()
        w_shape = cache[1]
        if self.channels_last_out:
            dout_nhwc = dout
        else:
            check_conv_dout(dout, cache)
            dout_nhwc = dout.transpose(0, 2, 3, 1)
        dtype = np.result_type(dout, cache[3])
        dw_out = self._take_grad_out("W", w_shape, dtype)
        db_out = self._take_grad_out("b", (w_shape[0],), dtype)
        self.grad_out = None
        backward = winograd_backward if algorithm == "winograd" else conv_nhwc_backward
        dx, dw, db = backward(dout_nhwc, cache, input_grad, dw_out, db_out)
        self.grads["W"] = dw
        self.grads["b"] = db
        if dx is None:
            return None
        xp = get_array_module(dx)
        if not self.channels_last_in:
            return xp.ascontiguousarray(dx.transpose(0, 3, 1, 2))
        return dx if self.workspace is not None else xp.ascontiguousarray(dx)

    def _use_winograd(self, settings: tuple[int, int, int, int]) -> bool:
        """Whether this forward runs the Winograd kernels (see ``algorithm``)."""
        if self.algorithm == "im2col":
            return False
        stride_h, stride_w, pad_h, pad_w = settings
        square_3x3 = self.kernel_size == 3 and stride_h == stride_w == 1 and pad_h == pad_w
        if self.algorithm == "winograd":
            return square_3x3
        return square_3x3 and self.in_channels >= WINOGRAD_MIN_CHANNELS

    def extra_repr(self) -> str:
        stride, pad = self.conv_param["stride"], self.conv_param["pad"]
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={stride}, pad={pad}"
            + ("" if self.algorithm == "auto" else f", algorithm={self.algorithm!r}")
        )
