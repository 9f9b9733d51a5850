"""``ConvNet``: blocks of conv - [spatial batchnorm] - relu - [max pool], then an MLP head."""

from __future__ import annotations

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
from numnet.nn import (
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
)

IntOrSeq = int | Sequence[int]


def _per_block(name: str, value: Any, blocks: int, minimum: int, allow_none: bool = False) -> list:
    """Expand an int (or None) to one value per block, or check a per-block sequence."""
    values = list(value) if isinstance(value, list | tuple) else [value] * blocks
    if len(values) != blocks:
        raise ConfigError(
            f"{name} has {len(values)} entries but conv_channels has {blocks}; give one per block"
        )
    for v in values:
        if v is None and allow_none:
            continue
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
            raise ConfigError(
                f"{name} must be an integer >= {minimum} (or one per block), got {v!r}"
            )
    return [None if v is None else int(v) for v in values]


def _json_setting(value: Any) -> Any:
    """A per-block setting as given, made JSON-able (sequence -> list of int)."""
    if isinstance(value, list | tuple):
        return [None if v is None else int(v) for v in value]
    return None if value is None else int(value)


class ConvNet(Classifier):
    """Convolutional network for (C, H, W) images.

    Architecture: for each entry of ``conv_channels``, conv - [spatial batchnorm] - relu - [max pool
    ``pool_size x pool_size`` with stride ``pool_size``]; then flatten; then ``{affine - [dropout] -
    relu}`` for each of ``hidden_dims``; then a final affine layer giving class scores
    (softmax loss). The layers run as conv - [batchnorm] - max pool - relu, which computes exactly
    the same function and gradients with the ReLU on a quarter of the data.

    Parameters
    ----------
    input_dim : tuple of int
        ``(C, H, W)`` of one image.
    conv_channels : sequence of int
        Number of filters of each convolution block.
    kernel_size, stride, pad : int or sequence of int
        Square filter size, stride and zero padding, for all blocks or one per block.
    pool_size : int, sequence or None
        Max-pool window (and stride) after each block; None, 0 or 1 means no pooling.
    hidden_dims : sequence of int
        Sizes of the fully connected hidden layers.
    num_classes : int
        Number of classes.
    normalization : {None, 'batchnorm'}
        Spatial batch normalisation after each convolution.
    dropout_keep_ratio : float
        Keep probability of the dropout after each hidden affine layer; 1 means none.
    reg : float
        L2 strength over all weight arrays (filters and matrices, not biases or gammas).
    weight_scale : float, optional
        Standard deviation of Gaussian initial weights; only with ``init=None``.
    init : {'he', 'xavier', None}
        Weight initialisation (None: Gaussian with ``weight_scale``).
    dtype : {np.float32, np.float64}
        dtype of everything; inputs are cast to it.
    seed : int, optional
        Seeds ``np.random.default_rng(seed)`` for the initial weights and the dropout generators.

    label_smoothing : float
        epsilon in [0, 1) of the smoothed softmax targets ``(1 - epsilon) * onehot + epsilon / C``
        (see :func:`numnet.functional.losses.softmax_loss`); 0 means plain cross-entropy.
    kernels : {'fast', 'reference'}
        Fast kernels chosen by one planning step, or the reference functions throughout (see
        :meth:`~numnet.models.classifier.Classifier.set_kernels`); not part of the saved config.

    Attributes
    ----------
    params : ParameterView
        ``W1, b1, ...`` numbered over all weight layers in order (convolutions, then affine layers);
        ``gammaK, betaK`` for the batch norm after convolution K.
    buffers : ParameterView
        ``running_meanK, running_varK`` with batch normalisation.
    bn_params : list of dict
        The spatial batch norms' ``bn_param`` dicts.
    output_shapes : list of tuple
        (C, H, W) after each convolution block.

    Notes
    -----
    ``loss(X, y)`` accepts ``X`` of shape (N, C, H, W) or flattened (N, C * H * W).
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_channels: Sequence[int] = (32, 64),
        kernel_size: IntOrSeq = 3,
        stride: IntOrSeq = 1,
        pad: IntOrSeq = 1,
        pool_size: IntOrSeq | None = 2,
        hidden_dims: Sequence[int] = (128,),
        num_classes: int = 10,
        normalization: str | None = None,
        dropout_keep_ratio: float = 1,
        reg: float = 0.0,
        weight_scale: float | None = None,
        init: str | None = "he",
        dtype: Any = np.float32,
        seed: int | None = None,
        label_smoothing: float = 0.0,
        *,
        kernels: str = "fast",
    ) -> None:
        if not isinstance(input_dim, list | tuple) or len(input_dim) != 3:
            raise ConfigError(f"input_dim must be (C, H, W), got {input_dim!r}")
        self.input_dim = tuple(check_positive_int("input_dim", d) for d in input_dim)
        if not isinstance(conv_channels, list | tuple):
            raise ConfigError(
                f"conv_channels must be a list of filter counts, got {conv_channels!r}"
            )
        self.conv_channels = [
            check_positive_int(f"conv_channels[{i}]", c) for i, c in enumerate(conv_channels)
        ]
        if not isinstance(hidden_dims, list | tuple):
            raise ConfigError(f"hidden_dims must be a list of layer sizes, got {hidden_dims!r}")
        self.hidden_dims = [
            check_positive_int(f"hidden_dims[{i}]", h) for i, h in enumerate(hidden_dims)
        ]
        blocks = len(self.conv_channels)
        self.kernel_sizes = _per_block("kernel_size", kernel_size, blocks, 1)
        self.strides = _per_block("stride", stride, blocks, 1)
        self.pads = _per_block("pad", pad, blocks, 0)
        self.pool_sizes = _per_block("pool_size", pool_size, blocks, 0, allow_none=True)
        self._settings = {
            "kernel_size": _json_setting(kernel_size),
            "stride": _json_setting(stride),
            "pad": _json_setting(pad),
            "pool_size": _json_setting(pool_size),
        }
        self.num_classes = check_positive_int("num_classes", num_classes)
        if normalization not in (None, "batchnorm"):
            raise ConfigError(
                f"ConvNet normalization must be None or 'batchnorm', got {normalization!r}"
            )
        self.normalization = normalization
        self.dropout_keep_ratio = check_keep_ratio(dropout_keep_ratio)
        self.reg = check_reg(reg)
        self.label_smoothing = check_smoothing(label_smoothing)
        if init not in (None, "he", "xavier"):
            raise ConfigError(f"init must be 'he', 'xavier' or None, got {init!r}")
        self.weight_scale = check_weight_scale(weight_scale)
        if init is None and self.weight_scale is None:
            raise ConfigError("init=None draws Gaussian weights: give weight_scale (e.g. 1e-2)")
        if init is not None and self.weight_scale is not None:
            raise ConfigError(
                f"weight_scale is only used with init=None, but init={init!r}; drop one of them"
            )
        self.init = init
        self.dtype = resolve_dtype(dtype)
        self.seed = check_seed(seed)
        self.output_shapes = self._block_shapes()
        self.net = Sequential(self._build_layers(np.random.default_rng(self.seed)))
        self.bn_params: list[dict] = [
            layer.bn_param for layer in self.net.layers if isinstance(layer, BatchNorm2d)
        ]
        self.set_kernels(kernels)

    def _block_shapes(self) -> list[tuple[int, int, int]]:
        """(C, H, W) after each block; ``ConfigError`` names a block whose output would be empty."""
        _, height, width = self.input_dim
        shapes = []
        for index, channels in enumerate(self.conv_channels):
            block = index + 1
            k, s, p = self.kernel_sizes[index], self.strides[index], self.pads[index]
            if height + 2 * p < k or width + 2 * p < k:
                raise ConfigError(
                    f"conv block {block}: kernel_size {k} does not fit its {height}x{width} input "
                    f"with pad {p}; use a smaller kernel_size, more pad, or fewer pooling steps"
                )
            height, width = 1 + (height + 2 * p - k) // s, 1 + (width + 2 * p - k) // s
            pool = self.pool_sizes[index]
            if pool is not None and pool > 1:
                if height < pool or width < pool:
                    raise ConfigError(
                        f"conv block {block}: pool_size {pool} is larger than the {height}x{width} "
                        "conv output; use a smaller pool_size or stride, or fewer blocks"
                    )
                height, width = 1 + (height - pool) // pool, 1 + (width - pool) // pool
            shapes.append((channels, height, width))
        return shapes

    def _build_layers(self, rng: np.random.Generator) -> list[Module]:
        """The layer list; weights drawn from ``rng`` in layer order, then the dropout seeds."""
        options = {"init": self.init, "weight_scale": self.weight_scale, "dtype": self.dtype}
        layers: list[Module] = []
        channels = self.input_dim[0]
        for index, filters in enumerate(self.conv_channels):
            k, s, p = self.kernel_sizes[index], self.strides[index], self.pads[index]
            layers.append(Conv2d(channels, filters, k, s, p, rng=rng, **options))
            pool = self.pool_sizes[index]
            pooled = pool is not None and pool > 1
            if self.normalization == "batchnorm":
                layers.append(BatchNorm2d(filters, dtype=self.dtype))
            if pooled:
                # max(relu(x)) = relu(max(x)), gradients included (a window whose maximum is
                # <= 0 gets zero either way): pooling first runs the ReLU on a quarter of the data.
                layers.append(MaxPool2d(pool))
            layers.append(ReLU())
            channels = filters
        layers.append(Flatten())
        width = (
            int(np.prod(self.output_shapes[-1]))
            if self.output_shapes
            else int(np.prod(self.input_dim))
        )
        for hidden in self.hidden_dims:
            layers.append(Linear(width, hidden, rng=rng, **options))
            if self.dropout_keep_ratio != 1.0:
                layers.append(Dropout(self.dropout_keep_ratio))
            layers.append(ReLU())
            width = hidden
        layers.append(Linear(width, self.num_classes, rng=rng, **options))
        for layer in layers:
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(rng.integers(2**63))
        return layers

    def _prepare_input(self, X: Any) -> np.ndarray:
        """Validate ``X`` (N, C, H, W) or (N, C*H*W); return (N, C, H, W) in the model's dtype."""
        X = as_float_batch(X, self.dtype)
        flat = int(np.prod(self.input_dim))
        if X.ndim == 4 and X.shape[1:] == self.input_dim:
            return X
        if X.ndim == 2 and X.shape[1] == flat:
            return X.reshape(X.shape[0], *self.input_dim)
        raise ValueError(
            f"X must have shape (N, C, H, W) = (N, {', '.join(map(str, self.input_dim))}) or "
            f"(N, {flat}) flattened, got shape {X.shape}"
        )

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments plus ``"class": "ConvNet"``."""
        return {
            "class": "ConvNet",
            "input_dim": list(self.input_dim),
            "conv_channels": list(self.conv_channels),
            **self._settings,
            "hidden_dims": list(self.hidden_dims),
            "num_classes": self.num_classes,
            "normalization": self.normalization,
            "dropout_keep_ratio": self.dropout_keep_ratio,
            "reg": self.reg,
            "label_smoothing": self.label_smoothing,
            "weight_scale": self.weight_scale,
            "init": self.init,
            "dtype": np.dtype(self.dtype).name,
            "seed": self.seed,
        }
