"""Input drawing shared by the rows: sizes, and values kept away from kinks and ties.

Central differences see a function through a step of ``h = 1e-5``; where the function has a kink
inside that step (ReLU at 0, a hinge at its margin, two equal values of a max) the numerical
derivative is an average of two slopes and the check fails for no fault of the backward. These
helpers draw inputs that stay clear of them.
"""

from __future__ import annotations

import numpy as np


def between(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer drawn uniformly from ``[low, high]``."""
    return int(rng.integers(low, high + 1))


def input_size(rng: np.random.Generator, window: int, stride: int, pad: int = 0) -> int:
    """An input size giving 1 to 3 outputs, often with rows left over that no window covers."""
    outputs = between(rng, 1, 3)
    smallest = max(1, window - 2 * pad + stride * (outputs - 1))
    return smallest + between(rng, 0, stride - 1)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard-normal values pushed at least 0.1 away from 0 (the ReLU kink)."""
    u = rng.standard_normal(shape)
    return np.sign(u) * (0.1 + np.abs(u))


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values 0.1 apart in random order, plus a little noise, centred: no ties for a max."""
    size = int(np.prod(shape))
    x = 0.1 * rng.permutation(size).reshape(shape) + 0.01 * rng.random(shape)
    return x - x.mean()
