"""Pooling layers ``MaxPool2d`` and ``AvgPool2d`` over (N, C, H, W) inputs (no parameters)."""

from __future__ import annotations

import numpy as np

from numnet.functional.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)
from numnet.kernels import pool_layer
from numnet.nn.module import Module


def _pool_param(pool_size: int, stride: int | None) -> dict[str, int]:
    """CS231n ``pool_param`` for a square window; the stride defaults to the window size."""
    return {
        "pool_height": pool_size,
        "pool_width": pool_size,
        "stride": pool_size if stride is None else stride,
    }


class MaxPool2d(Module):
    """Max over ``pool_size x pool_size`` windows.

    Parameters
    ----------
    pool_size : int
        Window height and width.
    stride : int, optional
        Step between windows; ``pool_size`` if omitted (non-overlapping windows).

    Notes
    -----
    Input (N, C, H, W); output (N, C, 1 + (H - pool_size) // stride, 1 + (W - pool_size) // stride).
    """

    def __init__(self, pool_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.pool_param = _pool_param(pool_size, stride)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if self.plan.is_reference:
            out, cache = max_pool_forward(x, self.pool_param)
        else:
            out, cache = pool_layer.forward(self.plan, x, self.pool_param, train)
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        plan, cache = self._recall()
        if plan.is_reference:
            return max_pool_backward(dout, cache)
        return pool_layer.backward(plan, dout, cache)

    def is_2x2_stride_2(self) -> bool:
        """Whether the windows are 2x2 and do not overlap (the pooling-blocks path)."""
        param = self.pool_param
        return param["pool_height"] == param["pool_width"] == param["stride"] == 2

    def extra_repr(self) -> str:
        return f"{self.pool_param['pool_height']}, stride={self.pool_param['stride']}"


class AvgPool2d(Module):
    """Mean over ``pool_size x pool_size`` windows; shapes as :class:`MaxPool2d`."""

    def __init__(self, pool_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.pool_param = _pool_param(pool_size, stride)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, cache = avg_pool_forward(x, self.pool_param)
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return avg_pool_backward(dout, self._recall()[1])

    def extra_repr(self) -> str:
        return f"{self.pool_param['pool_height']}, stride={self.pool_param['stride']}"
