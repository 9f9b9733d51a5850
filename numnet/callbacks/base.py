"""Callback base class and the list that runs callbacks in a fixed, documented order.

Hooks (each receives the trainer running them)
----------------------------------------------
The argument is the :class:`~numnet.solver.Solver` in practice, typed as the
:class:`~numnet.callbacks.trainer.Trainer` protocol, which names everything a callback may use.
``on_train_begin`` -> for each epoch: ``on_epoch_begin``, ``on_batch_end`` after every update,
``on_epoch_end`` after the epoch's evaluation has been appended to ``solver.history`` ->
``on_train_end`` (also called, with ``solver.diverged = True``, before ``TrainingDiverged`` is
raised).

Fixed order
-----------
Within every hook, callbacks run by ascending ``order`` (ties keep the order they were given in):

==========  =====================  ==========================================================
``order``   callback               why it runs there
==========  =====================  ==========================================================
10          ``MetricsCSV``         records the epoch exactly as trained (lr used this epoch)
20          ``ReduceLROnPlateau``  changes the lr for the *next* epoch, before it is saved
30          ``Checkpoint``         saves the epoch including the plateau state
40          ``EarlyStopping``      decides to stop only after the epoch has been saved
50          custom callbacks       default for subclasses that do not set ``order``
60          ``Plots``              draws curves at train end from the complete history
70          ``PrintLog``           CS231n-style text log (``verbose=True``)
80          ``ProgressBar``        display last, so it shows the final state of each epoch
==========  =====================  ==========================================================

Callbacks that keep state across epochs implement ``get_state() -> dict`` (JSON-serialisable) and
``set_state(dict)``; the Solver stores these in checkpoints so a resumed run behaves exactly like an
uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from numnet.callbacks.trainer import Trainer


class Callback:
    """Base class: override any of the ``on_*`` hooks; all default to doing nothing."""

    order: int = 50

    def on_train_begin(self, solver: Trainer) -> None:
        """Called once before the first epoch (also when resuming)."""

    def on_epoch_begin(self, solver: Trainer) -> None:
        """Called before each epoch; ``solver.epoch`` is the number of epochs already finished."""

    def on_batch_end(self, solver: Trainer) -> None:
        """Called after each update; the batch loss is ``solver.loss_history[-1]``."""

    def on_epoch_end(self, solver: Trainer) -> None:
        """Called after each epoch; its record (lr, losses, accuracy) is ``solver.history[-1]``."""

    def on_train_end(self, solver: Trainer) -> None:
        """Called once after training (best parameters already restored), also on divergence."""

    def get_state(self) -> dict[str, Any] | None:
        """JSON-serialisable state to store in checkpoints, or ``None`` for stateless callbacks."""
        return None

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""


class CallbackList:
    """Runs a list of callbacks, sorted once by ``order`` (stable), for every hook.

    Parameters
    ----------
    callbacks : iterable of Callback
        Callbacks in any order; they are run by ascending ``order``.
    """

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        items = list(callbacks)
        for callback in items:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be numnet.callbacks.Callback instances, got "
                    f"{type(callback).__name__}"
                )
        self.callbacks: list[Callback] = sorted(items, key=lambda cb: cb.order)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def append(self, callback: Callback) -> None:
        """Add ``callback`` and keep the list sorted by ``order``."""
        self.callbacks = sorted([*self.callbacks, callback], key=lambda cb: cb.order)

    def on_train_begin(self, solver: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(solver)

    def on_epoch_begin(self, solver: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(solver)

    def on_batch_end(self, solver: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_batch_end(solver)

    def on_epoch_end(self, solver: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(solver)

    def on_train_end(self, solver: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_train_end(solver)

    def get_states(self) -> dict[str, dict[str, Any]]:
        """States of the stateful callbacks, keyed ``"<position>:<ClassName>"``."""
        states = {}
        for position, callback in enumerate(self.callbacks):
            state = callback.get_state()
            if state is not None:
                states[f"{position}:{type(callback).__name__}"] = state
        return states

    def set_states(self, states: dict[str, dict[str, Any]]) -> None:
        """Give each callback the state saved for the callback at the same position and class."""
        for position, callback in enumerate(self.callbacks):
            key = f"{position}:{type(callback).__name__}"
            if key in states:
                callback.set_state(states[key])
