"""Normalisation layers ``BatchNorm1d``, ``BatchNorm2d`` (spatial) and ``LayerNorm``.

The batch-norm layers keep their running statistics where CS231n keeps them, in the layer's
``bn_param`` dict, and expose them as ``buffers`` (a view of that dict, so both always agree).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.distributed import BatchSync
from numnet.functional.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from numnet.kernels import batchnorm_layer
from numnet.nn.module import KeySubsetView, Module
from numnet.nn.sync_batchnorm import SyncCache, sync_batchnorm_backward, sync_batchnorm_forward


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
        cache = self._recall()[1]
        if isinstance(cache, SyncCache):
            dx, dgamma, dbeta = sync_batchnorm_backward(dout, cache)
        else:
            dx, dgamma, dbeta = self._backward(dout, cache)
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

    ``sync``: ``None``, or the :class:`~numnet.distributed.BatchSync` of a data-parallel run
    (set by the Solver): training then uses the statistics of the global batch over all ranks
    (:mod:`numnet.nn.sync_batchnorm`).
    """

    _forward = staticmethod(batchnorm_forward)
    _backward = staticmethod(batchnorm_backward)
    _axes: tuple[int, ...] = (0,)

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
        self.sync: BatchSync | None = None

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self.bn_param["mode"] = "train" if train else "test"
        gamma, beta = self.params["gamma"], self.params["beta"]
        if train and self.sync is not None:
            out, cache = sync_batchnorm_forward(
                x, gamma, beta, self.bn_param, self.sync, self._axes
            )
        else:
            out, cache = self._forward(x, gamma, beta, self.bn_param)
        self._remember(cache, train)
        return out


class BatchNorm2d(BatchNorm1d):
    """Spatial batch normalisation of (N, C, H, W) inputs, per channel over N, H and W.

    Same parameters and buffers as :class:`BatchNorm1d` with ``num_features = C``. On its kernel
    plan the statistics are computed over the rows of the channel-last activation
    (:mod:`numnet.kernels.batchnorm_rows`: the same numbers, with BLAS column sums and long inner
    loops); inside a channel-last run the input may be (N, H, W, C) or the pooling blocks
    (4, N, H/2, W/2, C) of the convolution before it.
    """

    _forward = staticmethod(spatial_batchnorm_forward)
    _backward = staticmethod(spatial_batchnorm_backward)
    _axes = (0, 2, 3)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if self.plan.is_reference:
            return super().forward(x, train)
        self.bn_param["mode"] = "train" if train else "test"
        gamma, beta = self.params["gamma"], self.params["beta"]
        sync = self.sync if train else None
        out, cache = batchnorm_layer.forward(self.plan, x, gamma, beta, self.bn_param, sync)
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        plan, cache = self._recall()
        if plan.is_reference:
            return super().backward(dout, input_grad)
        dx, dgamma, dbeta = batchnorm_layer.backward(plan, dout, cache)
        self.grads["gamma"] = dgamma
        self.grads["beta"] = dbeta
        return dx


def set_batchnorm_sync(model: Any, sync: BatchSync | None) -> int:
    """Give every batch-norm layer of ``model`` the ``sync`` of a data-parallel run (or None).

    Looks through ``model.layers``, ``model.net.layers`` and ``model.network.layers`` (and the
    ``layers`` of those layers). Returns the number of batch-norm layers found.
    """
    found = 0
    seen: set[int] = set()
    todo = [model, getattr(model, "net", None), getattr(model, "network", None)]
    while todo:
        container = todo.pop()
        if container is None or id(container) in seen:
            continue
        seen.add(id(container))
        if isinstance(container, BatchNorm1d):
            container.sync = sync
            found += 1
        layers = getattr(container, "layers", None)
        if isinstance(layers, list | tuple):
            todo.extend(layers)
    return found


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
        self._remember(cache, train)
        return out
