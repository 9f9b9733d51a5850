"""``Conv2d``: a 2-D convolution layer with filters ``W`` (F, C, HH, WW) and biases ``b`` (F,)."""

from __future__ import annotations

import numpy as np

from numnet.functional.conv import conv_backward, conv_forward
from numnet.init import init_weight
from numnet.kernels import conv_layer
from numnet.kernels.catalog import WINOGRAD_MIN_CHANNELS
from numnet.nn.module import Module

ALGORITHMS = ("auto", "im2col", "winograd")
__all__ = ["ALGORITHMS", "WINOGRAD_MIN_CHANNELS", "Conv2d"]


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
        area = kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.params["W"] = init_weight(
            rng, shape, in_channels * area, out_channels * area, init, weight_scale, dtype
        )
        self.params["b"] = np.zeros(out_channels, dtype=dtype)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Return the (N, F, H', W') convolution of the (N, C, H, W) input (layouts: the plan)."""
        w, b = self.params["W"], self.params["b"]
        if self.plan.is_reference:
            out, cache = conv_forward(x, w, b, self.conv_param)
        else:
            out, cache = conv_layer.forward(self.plan, x, w, b, self.conv_param, train)
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads['W']`` (F, C, HH, WW) and ``grads['b']`` (F,); return dx (or None).

        dx has the input's layout; with ``input_grad=False`` a kernel does not compute it.
        """
        plan, cache = self._recall()
        if plan.is_reference:
            dx, dw, db = conv_backward(dout, cache)
        else:
            dx, dw, db = conv_layer.backward(plan, dout, cache, input_grad, self.grad_out)
        self.grad_out = None
        self.grads["W"] = dw
        self.grads["b"] = db
        return dx if input_grad else None

    def extra_repr(self) -> str:
        stride, pad = self.conv_param["stride"], self.conv_param["pad"]
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={stride}, pad={pad}"
            + ("" if self.algorithm == "auto" else f", algorithm={self.algorithm!r}")
        )
