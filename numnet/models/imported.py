"""``SequentialNet``: a classifier described by a plain list of layers (what ONNX import builds).

``FullyConnectedNet`` and ``ConvNet`` fix their architecture; a model trained elsewhere (PyTorch,
Keras) may put its layers in any order, use LeakyReLU or average pooling, or normalise after the
activation. ``SequentialNet`` stores the layer list itself in its config, so a model read from an
ONNX file is saved, loaded, trained by the Solver and gradient-checked like any other numnet model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from numnet.errors import ConfigError
from numnet.models.classifier import (
    Classifier,
    as_float_batch,
    check_positive_int,
    check_reg,
    check_seed,
    check_smoothing,
    resolve_dtype,
)
from numnet.nn import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

LAYER_TYPES = (
    "conv",
    "linear",
    "batchnorm1d",
    "batchnorm2d",
    "layernorm",
    "relu",
    "leaky_relu",
    "tanh",
    "sigmoid",
    "maxpool",
    "avgpool",
    "flatten",
    "dropout",
)


def _int(spec: Mapping[str, Any], key: str, index: int, minimum: int = 1) -> int:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(
            f"layers[{index}] ({spec.get('type')}): {key} must be an integer >= "
            f"{minimum}, got {value!r}"
        )
    return int(value)


def _float(spec: Mapping[str, Any], key: str, index: int, default: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(
            f"layers[{index}] ({spec.get('type')}): {key} must be a finite number, got {value!r}"
        )
    return float(value)


def build_layer(
    spec: Mapping[str, Any], index: int, dtype: type, rng: np.random.Generator
) -> Module:
    """One :mod:`numnet.nn` layer from its JSON description (``{"type": ..., ...}``)."""
    if not isinstance(spec, Mapping) or spec.get("type") not in LAYER_TYPES:
        kind = spec.get("type") if isinstance(spec, Mapping) else spec
        raise ConfigError(
            f"layers[{index}] has unknown type {kind!r}; known: {', '.join(LAYER_TYPES)}"
        )
    kind = spec["type"]
    if kind == "conv":
        return Conv2d(
            _int(spec, "in_channels", index),
            _int(spec, "out_channels", index),
            _int(spec, "kernel_size", index),
            _int(spec, "stride", index),
            _int(spec, "pad", index, minimum=0),
            rng=rng,
            dtype=dtype,
        )
    if kind == "linear":
        return Linear(
            _int(spec, "in_features", index),
            _int(spec, "out_features", index),
            rng=rng,
            dtype=dtype,
        )
    if kind in ("batchnorm1d", "batchnorm2d"):
        cls = BatchNorm1d if kind == "batchnorm1d" else BatchNorm2d
        return cls(
            _int(spec, "num_features", index),
            eps=_float(spec, "eps", index, 1e-5),
            momentum=_float(spec, "momentum", index, 0.9),
            dtype=dtype,
        )
    if kind == "layernorm":
        return LayerNorm(
            _int(spec, "num_features", index), eps=_float(spec, "eps", index, 1e-5), dtype=dtype
        )
    if kind in ("maxpool", "avgpool"):
        cls = MaxPool2d if kind == "maxpool" else AvgPool2d
        return cls(_int(spec, "pool_size", index), _int(spec, "stride", index))
    if kind == "leaky_relu":
        return LeakyReLU(_float(spec, "negative_slope", index, 0.01))
    if kind == "dropout":
        keep = _float(spec, "keep_prob", index, 1.0)
        return Dropout(keep, rng=np.random.default_rng(rng.integers(2**63)))
    return {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "flatten": Flatten}[kind]()


class SequentialNet(Classifier):
    """A softmax classifier over an explicit list of layers.

    Parameters
    ----------
    layers : sequence of dict
        Each ``{"type": T, ...settings}`` with T one of :data:`LAYER_TYPES`: ``conv``
        (in_channels, out_channels, kernel_size, stride, pad), ``linear`` (in_features,
        out_features; CS231n (D, M) weights), ``batchnorm1d`` / ``batchnorm2d`` (num_features,
        eps, momentum in numnet's convention), ``layernorm`` (num_features, eps), ``maxpool`` /
        ``avgpool`` (pool_size, stride), ``leaky_relu`` (negative_slope), ``dropout``
        (keep_prob), ``relu``, ``tanh``, ``sigmoid``, ``flatten``. The last layer must output
        ``num_classes`` scores.
    input_dim : int or tuple of int
        Shape of one sample: ``D`` or ``(C, H, W)``.
    num_classes : int
    reg, label_smoothing, dtype, seed
        As for :class:`~numnet.models.FullyConnectedNet`.
    kernels : {'fast', 'reference'}
        Not saved with the model.

    Notes
    -----
    Parameters are named CS231n style by :class:`~numnet.nn.Sequential` (``W1, b1, gamma1, ...``).
    """

    def __init__(
        self,
        layers: Sequence[Mapping[str, Any]],
        input_dim: int | Sequence[int] = 784,
        num_classes: int = 10,
        reg: float = 0.0,
        label_smoothing: float = 0.0,
        dtype: Any = np.float32,
        seed: int | None = None,
        *,
        kernels: str = "fast",
    ) -> None:
        if isinstance(layers, str | Mapping) or not isinstance(layers, Sequence) or not layers:
            raise ConfigError(f"layers must be a non-empty list of layer dicts, got {layers!r}")
        if isinstance(input_dim, list | tuple):
            self.input_dim: int | tuple[int, ...] = tuple(
                check_positive_int("input_dim", d) for d in input_dim
            )
        else:
            self.input_dim = check_positive_int("input_dim", input_dim)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.reg = check_reg(reg)
        self.label_smoothing = check_smoothing(label_smoothing)
        self.dtype = resolve_dtype(dtype)
        self.seed = check_seed(seed)
        self.layer_specs = [dict(spec) if isinstance(spec, Mapping) else spec for spec in layers]
        rng = np.random.default_rng(self.seed)
        self.net = Sequential(
            [build_layer(spec, i, self.dtype, rng) for i, spec in enumerate(self.layer_specs)]
        )
        self.bn_params: list[dict] = [
            layer.ln_param if isinstance(layer, LayerNorm) else layer.bn_param
            for layer in self.net.layers
            if isinstance(layer, BatchNorm1d | LayerNorm)
        ]
        self.set_kernels(kernels)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one input sample."""
        return self.input_dim if isinstance(self.input_dim, tuple) else (self.input_dim,)

    def _prepare_input(self, X: Any) -> np.ndarray:
        """Validate ``X`` (N, *input_dim) or flattened (N, prod(input_dim)); return the former."""
        X = as_float_batch(X, self.dtype)
        shape = self.sample_shape
        if X.ndim >= 2 and math.prod(X.shape[1:]) == math.prod(shape):
            return X.reshape(X.shape[0], *shape)
        raise ValueError(
            f"X must have shape (N, {', '.join(map(str, shape))}) or (N, {math.prod(shape)}) "
            f"flattened, got shape {X.shape}"
        )

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments plus ``"class": "SequentialNet"``."""
        return {
            "class": "SequentialNet",
            "layers": [dict(spec) for spec in self.layer_specs],
            "input_dim": list(self.input_dim)
            if isinstance(self.input_dim, tuple)
            else self.input_dim,
            "num_classes": self.num_classes,
            "reg": self.reg,
            "label_smoothing": self.label_smoothing,
            "dtype": np.dtype(self.dtype).name,
            "seed": self.seed,
        }
