"""Pooling layers ``MaxPool2d`` and ``AvgPool2d`` over (N, C, H, W) inputs (no parameters)."""

from __future__ import annotations

import numpy as np

from numnet.functional.pooling import (
    _output_size,
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)
from numnet.kernels.pool_nhwc import (
    max_pool_blocks_backward,
    max_pool_blocks_forward,
    max_pool_nhwc_backward,
    max_pool_nhwc_forward,
)
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

    Attributes
    ----------
    channels_last : bool
        Input and output are channel-last (N, H, W, C); False by default (a ``ConvNet`` sets it).
        Then a 2x2, stride-2 pool also takes the 5-d window blocks (4, N, H/2, W/2, C) of a
        ``Conv2d`` with ``pool_blocks_out`` (and returns its input gradient in that layout).
    input_grad_in_place : bool
        On the pooling-blocks path, write the input gradient into the input array itself instead
        of a buffer of its own (the backward reads only ``dout`` and the routing masks). Only for
        an input that nothing else reads after this layer's forward; False by default (a
        ``ConvNet`` sets it for the pools after its convolutions, whose outputs only the pool
        reads: one 4 x N x H' x W' x C array less to sweep through; benchmark CNN training step,
        interleaved A/B over three model copies each: 12.73 -> 12.48 ms and 10.85 -> 10.61 ms).

    Notes
    -----
    Input (N, C, H, W); output (N, C, 1 + (H - pool_size) // stride, 1 + (W - pool_size) // stride).
    """

    def __init__(self, pool_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.pool_param = _pool_param(pool_size, stride)
        self.channels_last = False
        self.input_grad_in_place = False

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if not self.channels_last:
            out, cache = max_pool_forward(x, self.pool_param)
        elif getattr(x, "ndim", 0) == 5 and self.is_2x2_stride_2():
            out, cache = max_pool_blocks_forward(x, self.workspace, train=train)
            cache = ("blocks", cache, x if self.input_grad_in_place else None)
        else:
            x_nchw = x.transpose(0, 3, 1, 2) if getattr(x, "ndim", 0) == 4 else x
            pool_h, pool_w, stride, _, _ = _output_size(x_nchw, self.pool_param)
            out, cache = max_pool_nhwc_forward(
                x, (pool_h, pool_w, stride), self.workspace, train=train
            )
        self._cache = cache if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        cache = self._take_cache()
        if not self.channels_last:
            return max_pool_backward(dout, cache)
        if isinstance(cache[0], str):  # ("blocks", cache, input or None) from the 5-d path
            _, blocks_cache, x = cache
            return max_pool_blocks_backward(dout, blocks_cache, out=x)
        return max_pool_nhwc_backward(dout, cache)

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
        self._cache = cache if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return avg_pool_backward(dout, self._take_cache())

    def extra_repr(self) -> str:
        return f"{self.pool_param['pool_height']}, stride={self.pool_param['stride']}"
