"""EarlyStopping: stop training when a monitored metric has not improved for ``patience`` epochs."""

from __future__ import annotations

import math
from typing import Any

from numnet.callbacks.base import Callback
from numnet.callbacks.trainer import Trainer
from numnet.errors import ConfigError

MONITORS = ("val_acc", "val_loss", "train_acc", "train_loss")


class EarlyStopping(Callback):
    """Set ``solver.stop_training`` once ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when the metric beats the best so far by more than ``min_delta`` (higher is
    better for accuracies, lower for losses). With ``patience=2`` and validation accuracies
    ``0.5, 0.6, 0.6, 0.55`` training stops after epoch 4. The Solver still restores the best
    parameters at the end. The counters are saved in checkpoints, so resuming continues the count
    (and a run resumed from the checkpoint of the epoch that stopped it stops again at once).

    Parameters
    ----------
    patience : int
        Number of epochs without improvement tolerated (>= 1).
    min_delta : float
        Minimum change that counts as an improvement (>= 0).
    monitor : {'val_acc', 'val_loss', 'train_acc', 'train_loss'}
        The ``solver.history`` entry to watch.
    """

    order = 40

    def __init__(self, patience: int, min_delta: float = 0.0, monitor: str = "val_acc") -> None:
        if int(patience) < 1:
            raise ConfigError(f"EarlyStopping patience must be >= 1, got {patience}")
        if min_delta < 0:
            raise ConfigError(f"EarlyStopping min_delta must be >= 0, got {min_delta}")
        if monitor not in MONITORS:
            raise ConfigError(f"EarlyStopping monitor must be one of {MONITORS}, got {monitor!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.monitor = monitor
        self.higher_is_better = monitor.endswith("acc")
        self.best: float | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.higher_is_better:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_train_begin(self, solver: Trainer) -> None:
        self.stopped_epoch = None
        if self.wait >= self.patience:  # resumed from the checkpoint of the epoch that stopped it
            solver.stop_training = True
            self.stopped_epoch = solver.epoch

    def on_epoch_end(self, solver: Trainer) -> None:
        value = solver.history[-1].get(self.monitor)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return
        if self._improved(float(value)):
            self.best = float(value)
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            solver.stop_training = True
            self.stopped_epoch = solver.epoch

    def get_state(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait}

    def set_state(self, state: dict[str, Any]) -> None:
        self.best = state.get("best")
        self.wait = int(state.get("wait", 0))
