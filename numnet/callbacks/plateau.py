"""ReduceLROnPlateau (Keras's name): lower the learning rate when a metric stops improving.

The decision is :class:`numnet.optim.plateau.PlateauDetector`'s, a pure state machine; this
callback feeds it one metric per epoch and applies the factor it returns to the trainer.
"""

from __future__ import annotations

from typing import Any

from numnet.callbacks.base import Callback
from numnet.callbacks.early_stopping import MONITORS
from numnet.callbacks.trainer import Trainer
from numnet.errors import ConfigError
from numnet.optim.plateau import PlateauDetector


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    Each epoch end feeds ``solver.history[-1][monitor]`` to a
    :class:`~numnet.optim.plateau.PlateauDetector` state machine (PyTorch semantics: the
    ``patience + 1``-th epoch in a row without an improvement larger than ``min_delta`` reduces the
    rate) and applies the returned factor with ``solver.scale_learning_rate``. It runs before
    ``Checkpoint`` so the reduced rate and the machine's state are saved with the epoch.

    Parameters
    ----------
    factor, patience, min_delta, min_scale
        As in :class:`~numnet.optim.plateau.PlateauDetector`.
    monitor : {'val_loss', 'val_acc', 'train_loss', 'train_acc'}
        Accuracies are maximised, losses minimised.
    """

    order = 20

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 0.0,
        monitor: str = "val_loss",
        min_scale: float = 0.0,
    ) -> None:
        if monitor not in MONITORS:
            raise ConfigError(
                f"ReduceLROnPlateau monitor must be one of {MONITORS}, got {monitor!r}"
            )
        mode = "max" if monitor.endswith("acc") else "min"
        self.monitor = monitor
        self.plateau = PlateauDetector(
            factor=factor, patience=patience, min_delta=min_delta, mode=mode, min_scale=min_scale
        )
        self.state = self.plateau.init()

    def on_epoch_end(self, solver: Trainer) -> None:
        value = solver.history[-1].get(self.monitor)
        if value is None:
            return
        factor, self.state = self.plateau.step(float(value), self.state)
        if factor != 1.0:
            solver.scale_learning_rate(factor)

    def get_state(self) -> dict[str, Any]:
        return dict(self.state)

    def set_state(self, state: dict[str, Any]) -> None:
        self.state = {
            "best": float(state["best"]),
            "bad_epochs": int(state["bad_epochs"]),
            "scale": float(state["scale"]),
        }
