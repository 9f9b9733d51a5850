"""CS231n's ``TwoLayerNet`` and ``ThreeLayerConvNet`` with the assignment's keywords and names.

A notebook that builds ``TwoLayerNet(input_dim=..., hidden_dim=..., weight_scale=...)`` or
``ThreeLayerConvNet(num_filters=..., filter_size=..., hidden_dim=...)`` runs unchanged on these
classes: same constructor keywords and defaults, same parameter names (``W1, b1, W2, b2`` and
``W1 .. W3, b1 .. b3``), Gaussian ``weight_scale`` initialisation with zero biases (not numnet's He
default, so the assignment's initial-loss check reads about log 10), ``loss(X, y=None)`` returning
scores or ``(loss, grads)`` with ``0.5 * reg * sum(W**2)``. Both are ordinary numnet models
(``FullyConnectedNet`` and ``ConvNet`` with the assignment's architecture), so the Solver, the fast
kernels and ``numnet.save`` / ``numnet.load`` work on them.

Two keywords the assignment does not have are accepted after its own: ``seed`` (the assignment
draws from NumPy's global generator; numnet never touches it) and ``kernels``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numnet.models.classifier import check_positive_int
from numnet.models.conv_net import ConvNet
from numnet.models.fc_net import FullyConnectedNet


class TwoLayerNet(FullyConnectedNet):
    """affine - relu - affine - softmax, CS231n's ``TwoLayerNet``.

    Parameters
    ----------
    input_dim : int
        ``D``, the size of one flattened input.
    hidden_dim : int
        ``H``, the size of the hidden layer.
    num_classes : int
        ``C``.
    weight_scale : float
        Standard deviation of the Gaussian initial weights; biases start at zero.
    reg : float
        L2 strength.
    dtype : {np.float64, np.float32}
        float64 by default, as the assignment's arrays (``np.random.randn``) are.
    seed : int, optional
        Seeds the generator of the initial weights.

    Attributes
    ----------
    params : ParameterView
        ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,); assignable, as in the assignment.
    """

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        dtype: Any = np.float64,
        seed: int | None = None,
        *,
        kernels: str = "fast",
    ) -> None:
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        super().__init__(
            [self.hidden_dim],
            input_dim=input_dim,
            num_classes=num_classes,
            reg=reg,
            weight_scale=weight_scale,
            dtype=dtype,
            seed=seed,
            init=None,
            kernels=kernels,
        )

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments plus ``"class": "TwoLayerNet"``."""
        return {
            "class": "TwoLayerNet",
            "input_dim": self.input_dim,
            "hidden_dim": self.hidden_dim,
            "num_classes": self.num_classes,
            "weight_scale": self.weight_scale,
            "reg": self.reg,
            "dtype": np.dtype(self.dtype).name,
            "seed": self.seed,
        }


class ThreeLayerConvNet(ConvNet):
    """CS231n's ``ThreeLayerConvNet``: conv - relu - 2x2 max pool - affine - relu - affine.

    The convolution has stride 1 and zero padding ``(filter_size - 1) // 2``, which keeps the
    height and width for an odd ``filter_size``, as the assignment's does.

    Parameters
    ----------
    input_dim : tuple of int
        ``(C, H, W)`` of one image.
    num_filters : int
        Number of filters of the convolution.
    filter_size : int
        Width and height of the (square) filters.
    hidden_dim : int
        Size of the hidden affine layer.
    num_classes : int
        Number of classes.
    weight_scale : float
        Standard deviation of the Gaussian initial weights; biases start at zero.
    reg : float
        L2 strength (on ``W1``, ``W2``, ``W3``).
    dtype : {np.float32, np.float64}
        float32 by default, as in the assignment; use float64 for a gradient check.
    seed : int, optional
        Seeds the generator of the initial weights.

    Attributes
    ----------
    params : ParameterView
        ``W1`` (F, C, HH, WW), ``b1`` (F,), ``W2`` (F * H' * W', hidden_dim), ``b2``, ``W3``
        (hidden_dim, num_classes), ``b3``.
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (3, 32, 32),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        dtype: Any = np.float32,
        seed: int | None = None,
        *,
        kernels: str = "fast",
    ) -> None:
        self.num_filters = check_positive_int("num_filters", num_filters)
        self.filter_size = check_positive_int("filter_size", filter_size)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        super().__init__(
            input_dim=input_dim,
            conv_channels=[self.num_filters],
            kernel_size=self.filter_size,
            stride=1,
            pad=(self.filter_size - 1) // 2,
            pool_size=2,
            hidden_dims=[self.hidden_dim],
            num_classes=num_classes,
            reg=reg,
            weight_scale=weight_scale,
            init=None,
            dtype=dtype,
            seed=seed,
            kernels=kernels,
        )

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments plus ``"class": "ThreeLayerConvNet"``."""
        return {
            "class": "ThreeLayerConvNet",
            "input_dim": list(self.input_dim),
            "num_filters": self.num_filters,
            "filter_size": self.filter_size,
            "hidden_dim": self.hidden_dim,
            "num_classes": self.num_classes,
            "weight_scale": self.weight_scale,
            "reg": self.reg,
            "dtype": np.dtype(self.dtype).name,
            "seed": self.seed,
        }
