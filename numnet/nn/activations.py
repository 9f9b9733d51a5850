"""Element-wise activation layers ``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid`` (no parameters)."""

from __future__ import annotations

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional.activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from numnet.nn.module import Module


class ReLU(Module):
    """``out = max(x, 0)``; any input shape, output of the same shape.

    In speed mode (:meth:`~numnet.nn.Module.use_workspace`) the output is a reused array and the
    backward multiplies ``dout`` by the mask in place.
    """

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out = None
        if self.workspace is not None and hasattr(x, "dtype"):
            out = self.workspace.get("out", x.shape, x.dtype, get_array_module(x))
        out, cache = relu_forward(x, out=out)
        # The output is positive exactly where the input is, so it serves as the mask's source
        # (and, unlike the input, it belongs to this layer in speed mode).
        self._cache = (out if self.workspace is not None else cache) if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        cache = self._take_cache()
        if self.workspace is None:
            return relu_backward(dout, cache)
        xp = get_array_module(dout, cache)
        mask = self.workspace.get("mask", cache.shape, bool, xp)
        xp.greater(cache, 0, out=mask)
        return xp.multiply(dout, mask, out=dout)


class LeakyReLU(Module):
    """``out = x`` where ``x > 0``, else ``negative_slope * x``; any shape.

    Parameters
    ----------
    negative_slope : float
        Slope for negative inputs (0.01 by default, as PyTorch).
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, cache = leaky_relu_forward(x, self.negative_slope)
        self._cache = cache if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return leaky_relu_backward(dout, self._take_cache())

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """``out = tanh(x)``; any shape."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, cache = tanh_forward(x)
        self._cache = cache if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return tanh_backward(dout, self._take_cache())


class Sigmoid(Module):
    """``out = 1 / (1 + exp(-x))``; any shape."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, cache = sigmoid_forward(x)
        self._cache = cache if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return sigmoid_backward(dout, self._take_cache())
