"""Plateau detection: the pure logic behind reduce-on-plateau.

:class:`PlateauDetector` watches one metric per epoch and says by what factor to cut the learning
rate. It is not a schedule (it depends on metrics, not on the step) and it changes nothing by
itself: it is a small state machine whose state is a flat dict that checkpoints store like the
optimizer state (see :mod:`numnet.optim.state`). The training-loop face of the same idea is the
callback :class:`numnet.callbacks.ReduceLROnPlateau` (Keras's name), which feeds it the metric and
applies the factor. ``ReduceOnPlateau`` is the detector's former name, kept as an alias.

How the callback wires it (once per epoch, after validation)::

    plateau = PlateauDetector(factor=0.5, patience=3, mode="max")   # hyperparameters
    plateau_state = plateau.init()                                   # checkpointable dict
    ...
    factor, plateau_state = plateau.step(val_acc, plateau_state)
    if factor != 1.0:
        scale_learning_rate(opt_state, factor)                       # multiplies "lr_scale"

``plateau.to_dict()`` / ``PlateauDetector.from_dict(d)`` round-trip the hyperparameters
(JSON-able).
With ``min_delta`` as an absolute threshold this matches PyTorch's ``ReduceLROnPlateau(mode,
factor, patience, threshold=min_delta, threshold_mode='abs', cooldown=0, min_lr=lr * min_scale)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from numnet.errors import ConfigError
from numnet.optim._validate import check_count, check_non_negative, check_positive

PlateauState = dict[str, "int | float"]


@dataclass(frozen=True)
class PlateauDetector:
    """Hyperparameters of reduce-on-plateau and its pure transition function :meth:`step`.

    Parameters
    ----------
    factor : float
        Multiplier applied to the learning rate on a plateau, ``0 < factor < 1``.
    patience : int
        Number of epochs without improvement tolerated; the ``patience + 1``-th such epoch in a row
        reduces the learning rate (PyTorch's convention).
    min_delta : float
        Absolute amount by which the metric must beat the best value to count as an improvement.
    mode : {'min', 'max'}
        ``'min'`` for losses, ``'max'`` for accuracies.
    min_scale : float
        Lower bound of the accumulated scale (``lr_scale`` never goes below it), ``0 <= min_scale``.
    """

    factor: float = 0.1
    patience: int = 10
    min_delta: float = 0.0
    mode: str = "min"
    min_scale: float = 0.0

    def __post_init__(self) -> None:
        factor = check_positive("factor", self.factor)
        if factor >= 1.0:
            raise ConfigError(f"reduce-on-plateau factor must be in (0, 1), got {self.factor!r}")
        check_count("patience", self.patience)
        check_non_negative("min_delta", self.min_delta)
        check_non_negative("min_scale", self.min_scale)
        if self.mode not in ("min", "max"):
            raise ConfigError(f"reduce-on-plateau mode must be 'min' or 'max', got {self.mode!r}")

    def init(self) -> PlateauState:
        """Return the initial state: no best value yet, no bad epochs, accumulated scale 1."""
        best = math.inf if self.mode == "min" else -math.inf
        return {"best": best, "bad_epochs": 0, "scale": 1.0}

    def _improved(self, metric: float, best: float) -> bool:
        if self.mode == "min":
            return metric < best - self.min_delta
        return metric > best + self.min_delta

    def step(self, metric: float, state: PlateauState) -> tuple[float, PlateauState]:
        """Feed one epoch's metric; return the factor for the learning rate and the new state.

        Parameters
        ----------
        metric : float
            The monitored value this epoch. NaN counts as no improvement.
        state : dict
            From :meth:`init` or a previous :meth:`step` (not modified).

        Returns
        -------
        factor : float
            ``1.0`` normally; ``factor`` (or less, bounded by ``min_scale``) on a plateau. Multiply
            the optimizer's learning rate by it with
            :func:`numnet.optim.learning_rate.scale_learning_rate`.
        new_state : dict
            ``{"best": float, "bad_epochs": int, "scale": float}``; ``scale`` is the product of all
            factors returned so far.
        """
        value = float(metric)
        best = float(state["best"])
        bad_epochs = int(state["bad_epochs"])
        scale = float(state["scale"])
        if not math.isnan(value) and self._improved(value, best):
            best, bad_epochs = value, 0
        else:
            bad_epochs += 1
        applied = 1.0
        if bad_epochs > self.patience:
            new_scale = max(scale * self.factor, self.min_scale)
            if new_scale < scale:
                applied = new_scale / scale
                scale = new_scale
            bad_epochs = 0
        return applied, {"best": best, "bad_epochs": bad_epochs, "scale": scale}

    def to_dict(self) -> dict[str, Any]:
        """Return the hyperparameters as a JSON-able dict (for checkpoint metadata)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> PlateauDetector:
        """Rebuild from :meth:`to_dict`'s output; unknown keys raise ``ConfigError``."""
        unknown = sorted(set(config) - {"factor", "patience", "min_delta", "mode", "min_scale"})
        if unknown:
            raise ConfigError(f"unknown reduce-on-plateau option(s) {', '.join(unknown)}")
        return cls(**config)


ReduceOnPlateau = PlateauDetector
"""Former name of :class:`PlateauDetector` (kept so that existing code keeps working)."""
