"""``Flatten``: (N, d_1, ..., d_k) -> (N, d_1 * ... * d_k), a view when the input is contiguous."""

from __future__ import annotations

import numpy as np

from numnet.nn.module import Module


class Flatten(Module):
    """Reshape each sample to one row; backward reshapes the gradient back."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if x.ndim < 1:
            raise ValueError(
                f"Flatten needs an input of shape (N, ...), got shape {tuple(x.shape)}"
            )
        self._cache = tuple(x.shape) if train else None
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return dout.reshape(self._take_cache())
