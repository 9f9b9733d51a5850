"""Callbacks only the command line uses: a checkpoint before the first epoch, one line per epoch."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

from numnet.callbacks import Callback, Checkpoint
from numnet.callbacks.progress import epoch_line

if TYPE_CHECKING:
    from numnet.solver import Solver


class RunCheckpoint(Checkpoint):
    """:class:`~numnet.callbacks.Checkpoint` that also saves ``last.npz`` before the first epoch.

    So a run interrupted during its first epoch can still be resumed (from epoch 0).
    """

    def on_train_begin(self, solver: Solver) -> None:
        super().on_train_begin(solver)
        if solver.epoch == 0 and not self.last_path.exists():
            from numnet.serialization import save_checkpoint

            save_checkpoint(self.last_path, self.state(solver))


class EpochLog(Callback):
    """Print one line per epoch (:func:`~numnet.callbacks.progress.epoch_line`: loss,
    accuracies, learning rate and time) for logs; on a terminal the ProgressBar writes the same
    line above its bars instead.

    Parameters
    ----------
    file : text stream, optional
        Defaults to ``sys.stdout`` at print time.
    """

    order = 75

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file

    def on_epoch_end(self, solver: Solver) -> None:
        print(
            epoch_line(solver.history[-1], solver.num_epochs),
            file=self.file if self.file is not None else sys.stdout,
            flush=True,
        )

    def on_train_end(self, solver: Solver) -> None:
        if solver.stop_training and not getattr(solver, "diverged", False):
            print(
                f"early stopping after epoch {solver.epoch}: no validation improvement",
                file=self.file if self.file is not None else sys.stdout,
                flush=True,
            )
