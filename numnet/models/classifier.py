"""``Classifier``: what both numnet models share (``loss``, ``scores``, ``predict``, the views).

A subclass builds ``self.net`` (a :class:`~numnet.nn.Sequential` ending in class scores) and
implements ``_prepare_input(X)`` (validate, reshape and cast a batch) and ``get_config()``.
"""

from __future__ import annotations

import numbers
from collections.abc import MutableMapping
from typing import Any

import numpy as np

from numnet.errors import ConfigError
from numnet.functional._backend import get_array_module
from numnet.functional._checks import check_labels
from numnet.functional.losses import check_label_smoothing, softmax_loss_unchecked
from numnet.kernels.flat import FlatArrays
from numnet.kernels.plan import check_mode
from numnet.nn import Dropout, Sequential

DTYPES = {"float32": np.float32, "float64": np.float64}


def resolve_dtype(dtype: Any) -> type:
    """Return ``np.float32`` or ``np.float64`` for a dtype given as a type, dtype or name."""
    try:
        name = np.dtype(dtype).name
    except TypeError as exc:
        raise ConfigError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if name not in DTYPES:
        raise ConfigError(f"dtype must be float32 or float64, got {name}")
    return DTYPES[name]


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise ``ConfigError`` unless it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_keep_ratio(value: Any) -> float:
    """Return the dropout keep ratio as a float in (0, 1], or raise ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
        raise ConfigError(
            f"dropout_keep_ratio must be a number in (0, 1] (1 = no dropout), got {value!r}"
        )
    return float(value)


def check_reg(value: Any) -> float:
    """Return the L2 strength as a float >= 0, or raise ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ConfigError(f"reg must be a number >= 0, got {value!r}")
    return float(value)


def check_smoothing(value: Any) -> float:
    """Return the label smoothing epsilon as a float in [0, 1), or raise ``ConfigError``."""
    try:
        return check_label_smoothing(value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def check_weight_scale(value: Any) -> float | None:
    """Return the Gaussian init scale as a float > 0 (or None), or raise ``ConfigError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < np.inf:
        raise ConfigError(f"weight_scale must be a positive number, got {value!r}")
    return float(value)


def check_seed(value: Any) -> int | None:
    """Return the seed as an int (or None), or raise ``ConfigError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"seed must be a non-negative integer or None, got {value!r}")
    return int(value)


def as_float_batch(X: Any, dtype: type) -> np.ndarray:
    """Return ``X`` as an array of the model's dtype (no copy when it already is one)."""
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X must be a numeric array, got dtype {X.dtype}")
    return X.astype(dtype, copy=False)


class Classifier:
    """Base of the models: softmax classifier over ``self.net``'s scores with L2 on the weights.

    Attributes
    ----------
    net : Sequential
        The layers; the last one outputs (N, num_classes) scores.
    num_classes : int
    reg : float
        L2 strength: the loss gets ``0.5 * reg * sum(W**2)`` per weight array, its gradient
        ``reg * W``.
    label_smoothing : float
        epsilon of the softmax loss's smoothed targets (0: plain cross-entropy).
    dtype : type
        ``np.float32`` or ``np.float64``; inputs are cast to it.
    """

    net: Sequential
    num_classes: int
    reg: float
    label_smoothing: float = 0.0
    dtype: type

    def _prepare_input(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def set_kernels(self, mode: str = "fast") -> None:
        """Run the model on its fast kernels (``'fast'``, the default) or on the reference.

        ``'fast'``: one planning step (:func:`numnet.kernels.plan.plan_layers`) picks every
        layer's kernel and layout, the parameters move into one flat array (``params`` entries
        become views of it, values unchanged) and ``loss(X, y)`` writes the gradients into views of
        one fresh flat array, so the Solver's fused update touches everything in one call.
        ``'reference'``: every layer runs its :mod:`numnet.functional` pair and returns fresh
        arrays. Both compute the same function and gradients up to rounding. Not saved with the
        model (a loaded model runs fast).
        """
        check_mode(mode)
        self.net.set_kernels(mode)
        if mode == "fast" and self.net.params.flat_buffer() is None:
            self.net.params.make_flat()

    @property
    def kernels(self) -> str:
        """``'fast'`` or ``'reference'``: what :meth:`set_kernels` last set."""
        return self.net.kernels

    def use_workspace(self, enabled: bool = True) -> None:
        """Older name: ``set_kernels('fast' if enabled else 'reference')``."""
        self.set_kernels("fast" if enabled else "reference")

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments, including ``"class"``."""
        raise NotImplementedError

    @property
    def params(self) -> MutableMapping[str, np.ndarray]:
        """Trainable arrays by CS231n name (``W1``, ``b1``, ``gamma1``, ...); assignable."""
        return self.net.params

    @property
    def buffers(self) -> MutableMapping[str, np.ndarray]:
        """Non-trainable state by name (``running_mean1``, ``running_var1``, ...); assignable."""
        return self.net.buffers

    @property
    def num_layers(self) -> int:
        """Number of weight layers (affine and convolution), CS231n's ``num_layers``."""
        return sum(1 for layer in self.net.layers if getattr(layer, "starts_block", False))

    @property
    def dropout_layers(self) -> list[Dropout]:
        """The dropout layers (each with its own generator ``rng`` and ``dropout_param``)."""
        return [layer for layer in self.net.layers if isinstance(layer, Dropout)]

    def loss(self, X: Any, y: Any = None) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Class scores, or the regularised softmax loss and its gradients.

        Parameters
        ----------
        X : array_like
            A batch of inputs (see the model's class docstring for the accepted shapes).
        y : ndarray of int, shape (N,), optional
            Labels in ``[0, num_classes)``.

        Returns
        -------
        scores : ndarray, shape (N, num_classes)
            If ``y`` is None: test-mode scores (running batch-norm statistics, no dropout).
        loss, grads : float, dict[str, ndarray]
            Otherwise, in training mode: the mean softmax loss (with ``label_smoothing``) plus
            ``0.5 * reg * sum(W**2)`` over the weight arrays, and its gradient for every entry of
            ``params`` (fresh arrays, same keys; on the fast kernels views of one fresh flat
            array, see :meth:`set_kernels`).
        """
        X = self._prepare_input(X)
        net = self.net
        fast = net.sync_kernels() == "fast"
        if y is None:
            scores = net.forward(X, train=False)
            return scores.copy() if fast else scores
        y = np.asarray(y)
        check_labels(y, X.shape[0], self.num_classes)
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one sample to compute a loss, got 0 rows")
        scores = net.forward(X, train=True)
        # y checked above, label_smoothing by the constructor
        loss, dscores = softmax_loss_unchecked(scores, y, self.label_smoothing)
        layout = net.params.flat_layout
        if fast and layout is not None and net.params.flat_buffer() is not None:
            xp = get_array_module(dscores)
            grads = FlatArrays(layout, xp.empty(layout.size, dtype=layout.dtype))
            net.backward_into(dscores, grads, input_grad=False)
        else:
            net.backward(dscores, input_grad=False)
            grads = dict(net.grads)
        if self.reg:
            reg = self.reg
            for name in self.net.weight_names:
                w = self.net.params[name]
                loss += 0.5 * reg * float(np.vdot(w, w))
                grads[name] += w.dtype.type(reg) * w  # in place: flat grads stay flat
        return loss, grads

    def scores(self, X: Any, batch_size: int = 1000) -> np.ndarray:
        """Test-mode class scores (N, num_classes), computed ``batch_size`` rows at a time.

        Raises ``ValueError`` naming the first row when ``X`` holds NaN or Inf: such a row has
        no meaningful scores, and its argmax would be a label like any other (one ``isfinite``
        pass over each batch).
        """
        batch_size = check_positive_int("batch_size", batch_size)
        X = np.asarray(X)
        if X.ndim < 1:
            raise ValueError(f"X must have a leading batch axis N, got shape {X.shape}")
        out = np.empty((X.shape[0], self.num_classes), dtype=self.dtype)
        for start in range(0, X.shape[0], batch_size):
            batch = X[start : start + batch_size]
            _check_finite_rows(batch, start)
            out[start : start + batch_size] = self.loss(batch)
        return out

    def predict(self, X: Any, batch_size: int = 1000) -> np.ndarray:
        """Predicted labels, shape (N,) int64: the argmax of :meth:`scores`."""
        return self.scores(X, batch_size=batch_size).argmax(axis=1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


def _check_finite_rows(batch: np.ndarray, offset: int) -> None:
    """Raise ``ValueError`` naming the first row of ``batch`` (counted from ``offset``) that holds
    NaN or Inf; integer inputs are always finite."""
    if batch.dtype.kind not in "fc":
        return
    finite = np.isfinite(batch).reshape(batch.shape[0], -1).all(axis=1)
    if not finite.all():
        row = offset + int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"X holds NaN or Inf in row {row} (and maybe others); replace or drop those inputs "
            "before calling predict or scores"
        )
