"""The range of a model's raw training inputs, and the check of new inputs against it.

``numnet train`` stores :func:`input_range` of the raw training inputs (before standardisation) in
the model file's metadata; :func:`range_mismatch` tells when inputs given to the model later are
almost surely not of that kind, e.g. pixels already scaled to 0-1 for a model trained on 0-255.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# How far (as a fraction of the training range's span) inputs may reach beyond the training range.
OVERSHOOT = 0.1
# Inputs whose largest value lies within this fraction of the span above the training minimum look
# rescaled (0-1 after 0-255 is 1/255 of the span); blank inputs (all at the minimum) do not count.
SHRUNK = 0.05


def input_range(X: np.ndarray) -> dict[str, float]:
    """``{"min", "max", "mean"}`` of the raw inputs ``X`` as Python floats (for JSON metadata)."""
    X = np.asarray(X)
    return {
        "min": float(X.min()),
        "max": float(X.max()),
        "mean": float(X.mean(dtype=np.float64)),
    }


def _shown(value: float) -> str:
    return f"{value:.4g}"


def range_mismatch(expected: dict[str, Any], X: np.ndarray) -> str | None:
    """A one-line description of how ``X``'s range differs from ``expected``, or None if it fits.

    ``expected`` is :func:`input_range` of the training inputs. ``X`` does not fit when it holds
    negative values and the training inputs held none, when it reaches beyond the training range
    by more than :data:`OVERSHOOT` of its span, or when all of it lies within :data:`SHRUNK` of
    the span above the training minimum without being blank (rescaled data).
    """
    X = np.asarray(X)
    if X.size == 0:
        return None
    try:
        low, high = float(expected["min"]), float(expected["max"])
    except (KeyError, TypeError, ValueError):
        return None  # no usable record: nothing to compare with
    seen_low, seen_high = float(np.nanmin(X)), float(np.nanmax(X))
    span = high - low
    if span <= 0:
        return None
    negative = low >= 0 > seen_low
    beyond = seen_low < low - OVERSHOOT * span or seen_high > high + OVERSHOOT * span
    shrunk = low < seen_high <= low + SHRUNK * span
    if not (negative or beyond or shrunk):
        return None
    return (
        f"inputs range from {_shown(seen_low)} to {_shown(seen_high)} but the model was trained "
        f"on inputs from {_shown(low)} to {_shown(high)}; the model applies its preprocessing "
        "itself, so give the data as the training files hold it (not rescaled or standardised)"
    )
