"""Hyperparameter checks shared by optimizers and schedules: one-line ``ConfigError`` messages."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from numnet.errors import ConfigError


def _as_float(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise ``ConfigError`` if it is not a real number."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(number) or math.isinf(number):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return number


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float; raise ``ConfigError`` unless it is finite and > 0."""
    number = _as_float(name, value)
    if number <= 0:
        raise ConfigError(f"{name} must be > 0, got {value!r}")
    return number


def check_non_negative(name: str, value: Any) -> float:
    """Return ``value`` as a float; raise ``ConfigError`` unless it is finite and >= 0."""
    number = _as_float(name, value)
    if number < 0:
        raise ConfigError(f"{name} must be >= 0, got {value!r}")
    return number


def check_unit_interval(name: str, value: Any) -> float:
    """Return ``value`` as a float; raise ``ConfigError`` unless ``0 <= value < 1``."""
    number = _as_float(name, value)
    if not 0.0 <= number < 1.0:
        raise ConfigError(f"{name} must be in [0, 1), got {value!r}")
    return number


def check_count(name: str, value: Any, minimum: int = 0) -> int:
    """Return ``value`` as an int; raise ``ConfigError`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_learning_rate(learning_rate: Any) -> float | Callable[[int], float]:
    """Return a valid learning rate: a finite float > 0, or a schedule ``step -> lr``.

    A schedule is evaluated once at step 0 to catch a broken callable early; its value there must be
    a finite number >= 0 (warmup schedules may start at 0).
    """
    if callable(learning_rate):
        first = learning_rate(0)
        if (
            isinstance(first, bool)
            or not isinstance(first, int | float)
            and not hasattr(first, "__float__")
        ):
            raise ConfigError(
                f"learning-rate schedule must return a number, got {type(first).__name__} at step 0"
            )
        if not math.isfinite(float(first)) or float(first) < 0:
            raise ConfigError(
                f"learning-rate schedule must return a finite lr >= 0, got {first!r} at step 0"
            )
        return learning_rate
    if isinstance(learning_rate, bool) or learning_rate is None:
        raise ConfigError(f"learning rate must be a number > 0, got {learning_rate!r}")
    try:
        number = float(learning_rate)
    except (TypeError, ValueError):
        raise ConfigError(f"learning rate must be a number > 0, got {learning_rate!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(
            f"learning rate must be a finite number > 0, got {learning_rate!r}; try e.g. 1e-3"
        )
    return number
