"""Input validation shared by the layer functions: clear ``ValueError``/``TypeError`` messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def check_ndim(name: str, a: Any, ndim: int | Sequence[int], layout: str) -> None:
    """Raise ``ValueError`` unless ``a.ndim`` is ``ndim`` (or one of them).

    ``layout`` names the expected axes for the message, e.g. ``'(N, C, H, W)'``.
    """
    if not hasattr(a, "ndim") or not hasattr(a, "shape"):
        raise TypeError(f"{name} must be an array of shape {layout}, got {type(a).__name__}")
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if a.ndim not in allowed:
        raise ValueError(f"{name} must have shape {layout}, got shape {tuple(a.shape)}")


def check_float(name: str, a: Any) -> None:
    """Raise ``TypeError`` unless ``a`` holds floating-point numbers."""
    kind = getattr(getattr(a, "dtype", None), "kind", None)
    if kind != "f":
        dtype = getattr(a, "dtype", type(a).__name__)
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {dtype}")


def check_shape(name: str, a: Any, expected: tuple[int, ...], layout: str) -> None:
    """Raise ``ValueError`` unless ``a.shape == expected``."""
    if tuple(a.shape) != tuple(expected):
        raise ValueError(
            f"{name} must have shape {layout} = {tuple(expected)}, got shape {tuple(a.shape)}"
        )


def check_labels(y: Any, num_samples: int, num_classes: int) -> None:
    """Raise unless ``y`` is a vector of ``num_samples`` integer labels in ``[0, num_classes)``."""
    if not hasattr(y, "ndim") or y.ndim != 1 or y.shape[0] != num_samples:
        shape = tuple(getattr(y, "shape", ()))
        raise ValueError(f"labels y must have shape (N,) = ({num_samples},), got shape {shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels y must be an integer array, got dtype {y.dtype}")
    if num_samples and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}] for {num_classes} classes, "
            f"got values from {int(y.min())} to {int(y.max())}"
        )
