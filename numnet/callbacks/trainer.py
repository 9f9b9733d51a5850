"""What a callback may see of the training loop: the :class:`Trainer` protocol.

Callbacks receive the object that runs them (the :class:`numnet.solver.Solver`) in every hook. They
name it through this small protocol instead of importing the Solver, so ``numnet.callbacks``
depends only on what it uses and the Solver can import the callbacks without an import circle.
Any object with these attributes can drive the callbacks (a custom training loop, a test double).
"""

from __future__ import annotations

from typing import Any, Protocol


class Trainer(Protocol):
    """The attributes and methods of the training loop that the callbacks use.

    Read by the callbacks: the counters, the histories, ``improved`` and ``diverged``. Written:
    ``stop_training`` (``EarlyStopping``). Called: ``state_dict`` (``Checkpoint``) and
    ``scale_learning_rate`` (``ReduceLROnPlateau``).
    """

    stop_training: bool
    """Set to True by a callback to end training after the current epoch."""

    @property
    def epoch(self) -> int:
        """Epochs completed."""

    @property
    def num_epochs(self) -> int:
        """Epochs the run trains in total."""

    @property
    def iteration(self) -> int:
        """Updates completed."""

    @property
    def iterations_per_epoch(self) -> int:
        """Updates in one epoch."""

    @property
    def num_iterations(self) -> int:
        """Updates of the whole run."""

    @property
    def loss_history(self) -> list[float]:
        """The loss of every update so far."""

    @property
    def history(self) -> list[dict[str, Any]]:
        """One record per finished epoch: ``epoch, lr, train_loss, train_acc, val_loss, val_acc,
        seconds``."""

    @property
    def improved(self) -> bool:
        """Whether the last finished epoch set a new best validation accuracy."""

    @property
    def diverged(self) -> bool:
        """Whether training is ending because the loss or a parameter became NaN or Inf."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume training exactly (what a checkpoint stores)."""

    def scale_learning_rate(self, factor: float) -> None:
        """Multiply the learning rate of all further updates by ``factor``."""
