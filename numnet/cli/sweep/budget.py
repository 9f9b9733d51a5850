"""Exactly N finished trials across any number of workers.

Optuna's ``MaxTrialsCallback(N)`` checks the count after each trial, so two workers that both start
a trial at ``N - 1`` finished end with ``N + 1``. Here the storage refuses to create a trial once
the study's finished, running and waiting trials already make ``N``: the count and the creation
happen under one lock (an ``flock`` beside a journal file, a PostgreSQL advisory lock), so workers
on one machine or many never overshoot. A worker whose refusal leaves trials running elsewhere
waits for them: one of them may fail (a killed worker) and need a retry.

The storages that gate (:mod:`numnet.cli.sweep.journal`, :mod:`numnet.cli.sweep.database`) call
:func:`check_budget`; :func:`optimize_until` is the worker loop that sets the budget and stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

# How often a worker whose budget is taken by trials running elsewhere looks again.
POLL_S = 1.0


class BudgetSpent(Exception):
    """The study has its N finished trials: the worker stops."""


class BudgetBusy(Exception):
    """The other N - finished trials are running or waiting elsewhere: the worker waits."""


def check_budget(storage: Any, study_id: int) -> None:
    """Raise unless one more trial fits ``storage.numnet_budget`` (no budget set: always fits).

    Call it under the storage's creation lock, with ``storage`` the undecorated backend.
    """
    budget = getattr(storage, "numnet_budget", None)
    if budget is None:
        return
    from optuna.trial import TrialState

    trials = storage.get_all_trials(study_id, deepcopy=False)
    finished = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    active = sum(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials)
    if finished >= budget:
        raise BudgetSpent(f"{finished} of {budget} trials finished")
    if finished + active >= budget:
        raise BudgetBusy(f"{finished} finished, {active} running or waiting, of {budget}")


def backend(storage: Any) -> Any:
    """The storage under Optuna's cache wrapper (``optuna.create_study`` wraps an RDBStorage)."""
    from optuna.storages import _CachedStorage

    return storage._backend if isinstance(storage, _CachedStorage) else storage


def optimize_until(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    *,
    callbacks: Iterable[Callable[[optuna.Study, Any], None]] = (),
    timeout: float | None = None,
    catch: tuple[type[Exception], ...] = (),
    poll_s: float = POLL_S,
) -> None:
    """Run trials until the study has ``n_trials`` COMPLETE or PRUNED trials in total (over all
    workers and earlier runs), or ``timeout`` seconds of this worker have passed.

    Each round is ``study.optimize(objective, n_trials=1)``, so Optuna fails the trials of dead
    workers (its heartbeat check, also on the journal here) and hands their retries out first.
    ``KeyboardInterrupt`` propagates after Optuna has marked the interrupted trial failed.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    store = backend(study._storage)
    store.numnet_budget = n_trials
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                study.optimize(objective, n_trials=1, callbacks=list(callbacks), catch=catch)
            except BudgetSpent:
                return
            except BudgetBusy:
                time.sleep(poll_s)
    finally:
        store.numnet_budget = None
