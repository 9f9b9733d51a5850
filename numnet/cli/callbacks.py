"""Callbacks only the command line uses: a checkpoint before the first epoch, one line per epoch."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

from numnet.callbacks import Callback, Checkpoint

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
    """Print one line per epoch: loss, accuracies, learning rate and time (for logs, not terminals).

    Parameters
    ----------
    file : text stream, optional
        Defaults to ``sys.stdout`` at print time.
    """

    order = 75

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file

    def on_epoch_end(self, solver: Solver) -> None:
        record = solver.history[-1]
        lr = record.get("lr")
        lr_text = f"  lr {lr:.2e}" if lr is not None else ""
        print(
            f"epoch {record['epoch']:>3}/{solver.num_epochs}  loss {record['train_loss']:.4f}  "
            f"train acc {record['train_acc']:.4f}  val acc {record['val_acc']:.4f}{lr_text}  "
            f"{record['seconds']:.1f}s",
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
