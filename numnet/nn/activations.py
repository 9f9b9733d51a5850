"""Element-wise activation layers ``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid`` (no parameters)."""

from __future__ import annotations

import numpy as np

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
from numnet.kernels import dense_layer
from numnet.kernels.plan import REFERENCE
from numnet.nn.module import Module


class ReLU(Module):
    """``out = max(x, 0)``; any input shape, output of the same shape.

    On its kernel plan the output is a reused array and the backward multiplies ``dout`` by the
    mask in place.
    """

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if self.plan.is_reference or not hasattr(x, "dtype"):  # not an array: the reference's error
            out, cache = relu_forward(x)
            self._cache = (REFERENCE, cache) if train else None
            return out
        out, cache = dense_layer.relu_forward(self.plan, x)
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        plan, cache = self._recall()
        if plan.is_reference:
            return relu_backward(dout, cache)
        return dense_layer.relu_backward(plan, dout, cache)


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
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return leaky_relu_backward(dout, self._recall()[1])

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """``out = tanh(x)``; any shape."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, cache = tanh_forward(x)
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return tanh_backward(dout, self._recall()[1])


class Sigmoid(Module):
    """``out = 1 / (1 + exp(-x))``; any shape."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, cache = sigmoid_forward(x)
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return sigmoid_backward(dout, self._recall()[1])
