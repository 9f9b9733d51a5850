"""Normalisation layers ``BatchNorm1d``, ``BatchNorm2d`` (spatial) and ``LayerNorm``.

The batch-norm layers keep their running statistics where CS231n keeps them, in the layer's
``bn_param`` dict, and expose them as ``buffers`` (a view of that dict, so both always agree).
"""

from __future__ import annotations

import numpy as np

from numnet.functional.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from numnet.kernels.batchnorm_rows import batchnorm_rows_backward, batchnorm_rows_forward
from numnet.nn.module import KeySubsetView, Module


class _Normalization(Module):
    """Shared parts: ``gamma`` (ones) and ``beta`` (zeros) of shape (D,), and the backward."""

    _backward = staticmethod(batchnorm_backward)

    def __init__(self, num_features: int, eps: float, dtype: np.dtype | type) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.params["gamma"] = np.ones(num_features, dtype=dtype)
        self.params["beta"] = np.zeros(num_features, dtype=dtype)

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads['gamma']`` and ``grads['beta']`` (D,); return dx shaped like x."""
        dx, dgamma, dbeta = self._backward(dout, self._take_cache())
        self.grads["gamma"] = dgamma
        self.grads["beta"] = dbeta
        return dx

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


class BatchNorm1d(_Normalization):
    """Batch normalisation of (N, D) inputs over the batch axis (CS231n ``batchnorm_forward``).

    Parameters
    ----------
    num_features : int
        ``D``.
    eps : float
        Added to the variance before the square root.
    momentum : float
        CS231n convention: ``running = momentum * running + (1 - momentum) * batch_stat`` (the
        weight of the *old* value; PyTorch's 0.1 corresponds to 0.9 here).
    dtype : dtype
        dtype of parameters and running statistics.

    Notes
    -----
    ``buffers``: ``running_mean`` and ``running_var`` (D,), starting at 0 and 1 (as PyTorch; CS231n
    starts the variance at 0); training mode uses the batch statistics and updates them, test mode
    uses them.
    """

    _forward = staticmethod(batchnorm_forward)
    _backward = staticmethod(batchnorm_backward)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.9,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().__init__(num_features, eps, dtype)
        self.bn_param: dict = {
            "mode": "test",
            "eps": eps,
            "momentum": momentum,
            "running_mean": np.zeros(num_features, dtype=dtype),
            "running_var": np.ones(num_features, dtype=dtype),
        }
        self.buffers = KeySubsetView(self.bn_param, ("running_mean", "running_var"))

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self.bn_param["mode"] = "train" if train else "test"
        out, cache = self._forward(x, self.params["gamma"], self.params["beta"], self.bn_param)
        self._cache = cache if train else None
        return out


class BatchNorm2d(BatchNorm1d):
    """Spatial batch normalisation of (N, C, H, W) inputs, per channel over N, H and W.

    Same parameters and buffers as :class:`BatchNorm1d` with ``num_features = C``.

    Attributes
    ----------
    channels_last : bool
        Input and output are channel-last, (..., C) with any leading axes: (N, H, W, C), or the
        pooling blocks (4, N, H/2, W/2, C) of a ``Conv2d`` with ``pool_blocks_out``. Then the
        statistics are :func:`~numnet.functional.normalization.batchnorm_forward`'s over the rows of
        ``x.reshape(-1, C)`` (:mod:`numnet.kernels.batchnorm_rows`: the same numbers, with
        BLAS column sums and long inner loops). False by default (a ``ConvNet`` sets it).
    """

    _forward = staticmethod(spatial_batchnorm_forward)
    _backward = staticmethod(spatial_batchnorm_backward)
    channels_last = False  # the class default; set per layer

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if not self.channels_last:
            return super().forward(x, train)
        if getattr(x, "ndim", 0) < 2 or x.shape[-1] != self.num_features:
            raise ValueError(
                f"channel-last BatchNorm2d({self.num_features}) expects inputs (..., "
                f"{self.num_features}), got shape {getattr(x, 'shape', None)}"
            )
        self.bn_param["mode"] = "train" if train else "test"
        rows = x.reshape(-1, self.num_features)
        gamma, beta = self.params["gamma"], self.params["beta"]
        out, cache = batchnorm_rows_forward(rows, gamma, beta, self.bn_param, self.workspace)
        self._cache = (cache, x.shape) if train else None
        return out.reshape(x.shape)

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        if not self.channels_last:
            return super().backward(dout, input_grad)
        cache, shape = self._take_cache()
        dx, dgamma, dbeta = batchnorm_rows_backward(dout.reshape(-1, self.num_features), cache)
        self.grads["gamma"] = dgamma
        self.grads["beta"] = dbeta
        return dx.reshape(shape)


class LayerNorm(_Normalization):
    """Layer normalisation of (N, D) inputs over the feature axis (CS231n ``layernorm_forward``).

    Parameters
    ----------
    num_features : int
        ``D``.
    eps : float
        Added to the variance before the square root.
    dtype : dtype
        dtype of ``gamma`` and ``beta``.

    Notes
    -----
    Identical in training and test mode; no buffers.
    """

    _backward = staticmethod(layernorm_backward)

    def __init__(
        self, num_features: int, eps: float = 1e-5, dtype: np.dtype | type = np.float32
    ) -> None:
        super().__init__(num_features, eps, dtype)
        self.ln_param: dict = {"eps": eps}

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, cache = layernorm_forward(x, self.params["gamma"], self.params["beta"], self.ln_param)
        self._cache = cache if train else None
        return out
