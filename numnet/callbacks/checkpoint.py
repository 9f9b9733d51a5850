"""Checkpoint callbacks: ``last.npz`` every epoch, ``best.npz`` when validation accuracy
improves."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from numnet.callbacks.base import Callback
from numnet.callbacks.trainer import Trainer
from numnet.serialization import save_checkpoint


def _solver_state(solver: Trainer, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    state = solver.state_dict()
    if metadata:
        state["meta"]["metadata"] = dict(metadata)
    return state


class Checkpoint(Callback):
    """Save the full training state to ``directory/last.npz`` after every epoch, and to
    ``directory/best.npz`` whenever the epoch's validation accuracy is a new best.

    Both are checkpoints (see :mod:`numnet.serialization`): ``Solver(..., resume_from=path)``
    resumes from either, and ``numnet.serialization.load_model`` loads the model from either.
    Checkpoints are per epoch; a run killed mid-epoch resumes from the start of that epoch. Writes
    are atomic (temp file in ``directory``, fsync, ``os.replace``). A diverged model is never
    saved: the Solver raises ``TrainingDiverged`` before ``on_epoch_end`` when a parameter is not
    finite.

    Parameters
    ----------
    directory : str or PathLike
        Created if missing.
    metadata : dict, optional
        JSON-serialisable extras stored in both files (e.g. ``preprocessing``, ``class_names``);
        ``load_model`` returns them.
    """

    order = 30

    def __init__(
        self, directory: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None
    ) -> None:
        self.directory = Path(directory)
        self.metadata = dict(metadata) if metadata else None

    @property
    def last_path(self) -> Path:
        return self.directory / "last.npz"

    @property
    def best_path(self) -> Path:
        return self.directory / "best.npz"

    def on_train_begin(self, solver: Trainer) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def state(self, solver: Trainer) -> dict[str, Any]:
        """The solver's full training state with this callback's metadata attached."""
        return _solver_state(solver, self.metadata)

    def on_epoch_end(self, solver: Trainer) -> None:
        state = self.state(solver)
        save_checkpoint(self.last_path, state)
        if solver.improved:
            save_checkpoint(self.best_path, state)


class EpochCheckpoint(Callback):
    """CS231n's ``checkpoint_name``: save ``{prefix}_epoch_{epoch}.npz`` after every epoch.

    Unlike CS231n's pickles these are numnet checkpoints holding optimizer state, RNG state and
    batchnorm statistics, so training can resume from any of them.
    """

    order = 30

    def __init__(self, prefix: str | os.PathLike[str]) -> None:
        self.prefix = str(prefix)

    def on_epoch_end(self, solver: Trainer) -> None:
        save_checkpoint(f"{self.prefix}_epoch_{solver.epoch}.npz", _solver_state(solver, None))
