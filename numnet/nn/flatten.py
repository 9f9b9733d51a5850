"""``Flatten``: (N, d_1, ..., d_k) -> (N, d_1 * ... * d_k), a view when the input is contiguous."""

from __future__ import annotations

import numpy as np

from numnet.kernels import dense_layer
from numnet.nn.module import Module


class Flatten(Module):
    """Reshape each sample to one row; backward reshapes the gradient back.

    Rows are always in (C, H, W) order, as for an (N, C, H, W) input, so the next layer's weights
    do not depend on the layout: when the plan gives this layer a channel-last (N, H, W, C) input
    (the end of a channel-last run), it transposes into its workspace.
    """

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if x.ndim < 1:
            raise ValueError(
                f"Flatten needs an input of shape (N, ...), got shape {tuple(x.shape)}"
            )
        self._remember(tuple(x.shape), train)
        return dense_layer.flatten_forward(self.plan, x)

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        plan, shape = self._recall()
        return dense_layer.flatten_backward(plan, dout, shape)
