"""Input validation shared by the layer functions: clear ``ValueError``/``TypeError`` messages.

Integer inputs are refused, not converted. A layer returns its result in its inputs' dtype and
its backward trusts the cache its forward made; converting a uint8 image silently would pick a
dtype (float64, eight times the memory) and a scale (0-255 or 0-1) for the caller. So
:func:`check_float` refuses an integer, boolean or object array with a message that says how to
convert it (``x.astype(np.float64)``, after dividing by 255 if the caller wants pixels in [0, 1]).

Every backward checks its ``dout`` against the shape its forward produced with
:func:`check_dout`, so a ``dout`` of another shape is never broadcast into a gradient of the
right shape.
"""

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
    """Raise ``TypeError`` unless ``a`` holds floating-point numbers.

    The message says how to convert: integers are refused, not converted (see the module's
    docstring for why).
    """
    dtype = getattr(a, "dtype", None)
    if getattr(dtype, "kind", None) != "f":
        got = dtype if dtype is not None else type(a).__name__
        raise TypeError(
            f"{name} must be a float32 or float64 array, got dtype {got}: "
            f"convert it with {name.split()[-1]}.astype(np.float64)"
        )


def check_shape(name: str, a: Any, expected: tuple[int, ...], layout: str) -> None:
    """Raise ``ValueError`` unless ``a.shape == expected``."""
    if tuple(a.shape) != tuple(expected):
        raise ValueError(
            f"{name} must have shape {layout} = {tuple(expected)}, got shape {tuple(a.shape)}"
        )


def check_dout(dout: Any, expected: tuple[int, ...], layout: str) -> None:
    """Raise unless ``dout`` is an array of the shape the forward produced.

    ``expected`` is the forward's output shape, ``layout`` names its axes for the message, e.g.
    ``'(N, M)'`` or ``'(same as x)'``. Elementwise backwards would otherwise broadcast a ``dout``
    of another shape without a word.
    """
    if not hasattr(dout, "shape"):
        raise TypeError(f"dout must be an array of shape {layout}, got {type(dout).__name__}")
    check_shape("dout", dout, expected, layout)


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
