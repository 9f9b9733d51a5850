"""``Flatten``: (N, d_1, ..., d_k) -> (N, d_1 * ... * d_k), a view when the input is contiguous."""

from __future__ import annotations

import numpy as np

from numnet.nn.module import Module


class Flatten(Module):
    """Reshape each sample to one row; backward reshapes the gradient back.

    Attributes
    ----------
    channels_last : bool
        The input is channel-last (N, H, W, C) but rows are laid out in (C, H, W) order, as for an
        (N, C, H, W) input (so the next layer's weights do not depend on the layout). False by
        default; a ``ConvNet`` sets it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.channels_last = False

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if x.ndim < 1:
            raise ValueError(
                f"Flatten needs an input of shape (N, ...), got shape {tuple(x.shape)}"
            )
        self._cache = tuple(x.shape) if train else None
        if not self.channels_last or x.ndim != 4:
            return x.reshape(x.shape[0], -1)
        nchw = x.transpose(0, 3, 1, 2)
        if self.workspace is None:
            return nchw.reshape(x.shape[0], -1)  # a copy: the view is not contiguous
        out = self.workspace.get("out", (x.shape[0], x[0].size), x.dtype)
        out.reshape(nchw.shape)[...] = nchw
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        shape = self._take_cache()
        if not self.channels_last or len(shape) != 4:
            return dout.reshape(shape)
        n, h, w, c = shape
        nhwc = dout.reshape(n, c, h, w).transpose(0, 2, 3, 1)
        if self.workspace is None:
            return np.ascontiguousarray(nhwc)
        dx = self.workspace.get("dx", shape, dout.dtype)
        dx[...] = nhwc
        return dx
