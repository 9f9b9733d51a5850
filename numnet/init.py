"""Weight initialisers. Every function takes the random generator explicitly (never the global RNG).

The numbers are always drawn in float64 and then cast to ``dtype``, so one seed gives the same
initial weights (up to rounding) whether a model is built in float32 or float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from numnet.errors import ConfigError

INIT_SCHEMES = (None, "he", "xavier", "xavier_uniform")


def _check_fan(name: str, fan: int) -> None:
    """Raise ``ConfigError`` unless ``fan`` is a positive integer."""
    if isinstance(fan, bool) or not isinstance(fan, int | np.integer) or fan <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {fan!r}")


def gaussian(
    rng: np.random.Generator,
    shape: Sequence[int],
    scale: float,
    dtype: np.dtype | type = np.float32,
) -> np.ndarray:
    """Gaussian weights with standard deviation ``scale`` (CS231n's ``weight_scale * randn``).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    shape : tuple of int
        Shape of the weight array, e.g. ``(D, M)`` or ``(F, C, HH, WW)``.
    scale : float
        Standard deviation (must be > 0).
    dtype : dtype
        Output dtype.

    Returns
    -------
    ndarray, shape ``shape``
    """
    if not scale > 0 or not math.isfinite(scale):
        raise ConfigError(f"weight_scale must be a positive number, got {scale!r}")
    return (rng.standard_normal(tuple(shape)) * scale).astype(dtype, copy=False)


def he_normal(
    rng: np.random.Generator, fan_in: int, shape: Sequence[int], dtype: np.dtype | type = np.float32
) -> np.ndarray:
    """He (Kaiming) normal initialisation for ReLU networks: std ``sqrt(2 / fan_in)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    fan_in : int
        Inputs per output unit (``D`` for an affine layer, ``C * HH * WW`` for a convolution).
    shape : tuple of int
        Shape of the weight array.
    dtype : dtype
        Output dtype.

    Returns
    -------
    ndarray, shape ``shape``
    """
    _check_fan("fan_in", fan_in)
    return gaussian(rng, shape, math.sqrt(2.0 / fan_in), dtype)


def xavier_normal(
    rng: np.random.Generator,
    fan_in: int,
    fan_out: int,
    shape: Sequence[int],
    dtype: np.dtype | type = np.float32,
) -> np.ndarray:
    """Xavier (Glorot) normal initialisation: std ``sqrt(2 / (fan_in + fan_out))``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    fan_in, fan_out : int
        Inputs per output unit and outputs per input unit (``M`` for an affine layer,
        ``F * HH * WW`` for a convolution).
    shape : tuple of int
        Shape of the weight array.
    dtype : dtype
        Output dtype.

    Returns
    -------
    ndarray, shape ``shape``
    """
    _check_fan("fan_in", fan_in)
    _check_fan("fan_out", fan_out)
    return gaussian(rng, shape, math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def xavier_uniform(
    rng: np.random.Generator,
    fan_in: int,
    fan_out: int,
    shape: Sequence[int],
    dtype: np.dtype | type = np.float32,
) -> np.ndarray:
    """Xavier (Glorot) uniform initialisation on ``[-a, a]``, ``a = sqrt(6 / (fan_in + fan_out))``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    fan_in, fan_out : int
        As in :func:`xavier_normal`.
    shape : tuple of int
        Shape of the weight array.
    dtype : dtype
        Output dtype.

    Returns
    -------
    ndarray, shape ``shape``
    """
    _check_fan("fan_in", fan_in)
    _check_fan("fan_out", fan_out)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=tuple(shape)).astype(dtype, copy=False)


def init_weight(
    rng: np.random.Generator,
    shape: Sequence[int],
    fan_in: int,
    fan_out: int,
    init: str | None,
    weight_scale: float | None,
    dtype: np.dtype | type = np.float32,
) -> np.ndarray:
    """Draw one weight array by scheme name (what the layers and models call).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    shape : tuple of int
        Shape of the weight array.
    fan_in, fan_out : int
        Fan-in and fan-out of the layer.
    init : {None, 'he', 'xavier', 'xavier_uniform'}
        ``None`` means Gaussian with standard deviation ``weight_scale`` (CS231n).
    weight_scale : float or None
        Only used when ``init`` is None.
    dtype : dtype
        Output dtype.

    Returns
    -------
    ndarray, shape ``shape``
    """
    if init is None:
        if weight_scale is None:
            raise ConfigError("init=None needs a weight_scale (e.g. 1e-2); or choose init='he'")
        return gaussian(rng, shape, weight_scale, dtype)
    if init == "he":
        return he_normal(rng, fan_in, shape, dtype)
    if init == "xavier":
        return xavier_normal(rng, fan_in, fan_out, shape, dtype)
    if init == "xavier_uniform":
        return xavier_uniform(rng, fan_in, fan_out, shape, dtype)
    raise ConfigError(f"init must be one of None, 'he', 'xavier', 'xavier_uniform'; got {init!r}")
