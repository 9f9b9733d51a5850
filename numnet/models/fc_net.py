"""``FullyConnectedNet``: CS231n's multi-layer perceptron built from numnet layers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from numnet.errors import ConfigError
from numnet.models.classifier import (
    Classifier,
    as_float_batch,
    check_keep_ratio,
    check_positive_int,
    check_reg,
    check_seed,
    check_smoothing,
    check_weight_scale,
    resolve_dtype,
)
from numnet.nn import BatchNorm1d, Dropout, LayerNorm, Linear, Module, ReLU, Sequential

NORMALIZATIONS = (None, "batchnorm", "layernorm")
INITS = (None, "he", "xavier")


class FullyConnectedNet(Classifier):
    """Fully connected net ``{affine - [norm] - relu - [dropout]} x (L - 1) - affine - softmax``.

    Parameters
    ----------
    hidden_dims : sequence of int
        Size of each hidden layer (may be empty: a linear softmax classifier).
    input_dim : int
        ``D``, the size of one flattened input sample.
    num_classes : int
        Number of classes ``C``.
    dropout_keep_ratio : float
        Probability of keeping a unit in the dropout layers; 1 means no dropout layers.
    normalization : {None, 'batchnorm', 'layernorm'}
        Normalisation after each hidden affine layer.
    reg : float
        L2 strength; the loss gets ``0.5 * reg * sum(W**2)`` over the weight matrices.
    weight_scale : float
        Standard deviation of the Gaussian initial weights when ``init`` is None (CS231n).
    dtype : {np.float32, np.float64}
        dtype of every parameter, activation and gradient; inputs are cast to it.
    seed : int, optional
        Seeds ``np.random.default_rng(seed)``, which draws the initial weights and seeds the dropout
        layers' own generators (their masks still differ from one training step to the next).
    init : {None, 'he', 'xavier'}
        Weight initialisation; None means Gaussian with ``weight_scale`` (otherwise unused).
    label_smoothing : float
        epsilon in [0, 1) of the smoothed softmax targets ``(1 - epsilon) * onehot + epsilon / C``
        (see :func:`numnet.functional.losses.softmax_loss`); 0 means plain cross-entropy.
    kernels : {'fast', 'reference'}
        Fast kernels chosen by one planning step, or the reference functions throughout (see
        :meth:`~numnet.models.classifier.Classifier.set_kernels`); not part of the saved config.

    Attributes
    ----------
    params : ParameterView
        ``W1, b1, ..., WL, bL`` and, with normalisation, ``gamma1, beta1, ..., gamma{L-1},
        beta{L-1}``.
    buffers : ParameterView
        ``running_mean1, running_var1, ...`` with batch normalisation, else empty.
    bn_params : list of dict
        The normalisation layers' ``bn_param`` (or ``ln_param``) dicts, as CS231n.
    num_layers : int
        ``L = len(hidden_dims) + 1``.

    Notes
    -----
    ``loss(X, y)`` accepts ``X`` of shape (N, D) or (N, d_1, ..., d_k) with ``d_1 * ... * d_k = D``.
    """

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        dropout_keep_ratio: float = 1,
        normalization: str | None = None,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        dtype: Any = np.float32,
        seed: int | None = None,
        init: str | None = None,
        label_smoothing: float = 0.0,
        *,
        kernels: str = "fast",
    ) -> None:
        if isinstance(hidden_dims, int | str) or not isinstance(hidden_dims, Sequence):
            raise ConfigError(f"hidden_dims must be a list of layer sizes, got {hidden_dims!r}")
        self.hidden_dims = [
            check_positive_int(f"hidden_dims[{i}]", h) for i, h in enumerate(hidden_dims)
        ]
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.dropout_keep_ratio = check_keep_ratio(dropout_keep_ratio)
        if normalization not in NORMALIZATIONS:
            raise ConfigError(
                f"normalization must be None, 'batchnorm' or 'layernorm', got {normalization!r}"
            )
        if init not in INITS:
            raise ConfigError(f"init must be None, 'he' or 'xavier', got {init!r}")
        self.normalization = normalization
        self.reg = check_reg(reg)
        self.label_smoothing = check_smoothing(label_smoothing)
        self.weight_scale = check_weight_scale(weight_scale)
        self.dtype = resolve_dtype(dtype)
        self.seed = check_seed(seed)
        self.init = init
        self.use_dropout = self.dropout_keep_ratio != 1.0
        self.net = Sequential(self._build_layers(np.random.default_rng(self.seed)))
        self.bn_params: list[dict] = [
            layer.ln_param if isinstance(layer, LayerNorm) else layer.bn_param
            for layer in self.net.layers
            if isinstance(layer, BatchNorm1d | LayerNorm)
        ]
        self.set_kernels(kernels)

    def _build_layers(self, rng: np.random.Generator) -> list[Module]:
        """The layer list; weights drawn from ``rng`` in layer order, then the dropout seeds."""
        options = {"init": self.init, "weight_scale": self.weight_scale, "dtype": self.dtype}
        dims = [self.input_dim, *self.hidden_dims]
        layers: list[Module] = []
        for fan_in, width in zip(dims[:-1], dims[1:], strict=True):
            layers.append(Linear(fan_in, width, rng=rng, **options))
            if self.normalization == "batchnorm":
                layers.append(BatchNorm1d(width, dtype=self.dtype))
            elif self.normalization == "layernorm":
                layers.append(LayerNorm(width, dtype=self.dtype))
            layers.append(ReLU())
            if self.use_dropout:
                layers.append(Dropout(self.dropout_keep_ratio))
        layers.append(Linear(dims[-1], self.num_classes, rng=rng, **options))
        for layer in layers:
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(rng.integers(2**63))
        return layers

    def _prepare_input(self, X: Any) -> np.ndarray:
        """Validate ``X`` (N, D) or (N, d_1, ..., d_k); return it as (N, D) in the model's dtype."""
        X = as_float_batch(X, self.dtype)
        if X.ndim < 2 or math.prod(X.shape[1:]) != self.input_dim:
            raise ValueError(
                f"X must have shape (N, {self.input_dim}) or (N, d_1, ..., d_k) with "
                f"d_1 * ... * d_k = {self.input_dim}, got shape {X.shape}"
            )
        return X.reshape(X.shape[0], self.input_dim)

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments plus ``"class": "FullyConnectedNet"``."""
        return {
            "class": "FullyConnectedNet",
            "hidden_dims": list(self.hidden_dims),
            "input_dim": self.input_dim,
            "num_classes": self.num_classes,
            "dropout_keep_ratio": self.dropout_keep_ratio,
            "normalization": self.normalization,
            "reg": self.reg,
            "label_smoothing": self.label_smoothing,
            "weight_scale": self.weight_scale,
            "dtype": np.dtype(self.dtype).name,
            "seed": self.seed,
            "init": self.init,
        }
