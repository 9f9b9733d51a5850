"""``Conv2d``: a 2-D convolution layer with filters ``W`` (F, C, HH, WW) and biases ``b`` (F,)."""

from __future__ import annotations

import numpy as np

from numnet.functional.conv import conv_backward, conv_forward
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

    Notes
    -----
    Input (N, C, H, W); output (N, F, H', W') with ``H' = 1 + (H + 2 pad - HH) // stride``.
    Fan-in is ``C * HH * WW``, fan-out ``F * HH * WW``.
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
        area = kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.params["W"] = init_weight(
            rng, shape, in_channels * area, out_channels * area, init, weight_scale, dtype
        )
        self.params["b"] = np.zeros(out_channels, dtype=dtype)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Return the (N, F, H', W') convolution of the (N, C, H, W) input."""
        out, cache = conv_forward(x, self.params["W"], self.params["b"], self.conv_param)
        self._cache = cache if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads['W']`` (F, C, HH, WW) and ``grads['b']`` (F,); return dx (N, C, H, W)."""
        dx, dw, db = conv_backward(dout, self._take_cache())
        self.grads["W"] = dw
        self.grads["b"] = db
        return dx if input_grad else None

    def extra_repr(self) -> str:
        stride, pad = self.conv_param["stride"], self.conv_param["pad"]
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={stride}, pad={pad}"
        )
