"""A journal-file study that notices dead workers: Optuna's heartbeat, made of lock files.

Optuna 5's ``JournalStorage`` has no heartbeat, so a worker killed with ``kill -9`` would leave its
trial RUNNING for ever. Here every process that opens the journal holds an exclusive ``flock`` on
its own file ``<journal>.workers/<uuid>.lock`` for as long as it lives; the kernel releases it when
the process dies, however it dies. Each trial a process runs carries that uuid (a system attribute
written with the trial's creation, or right after a retried trial is handed out). A RUNNING trial
whose owner's lock can be taken is stale.

The class implements Optuna's own heartbeat interface, so ``study.optimize`` fails stale trials
before every new trial and gives them to the retry callback, as it does for a database. Unlike a
database heartbeat there is no grace period to wait out: a dead owner is seen at once. A trial that
has no owner yet (the instant between handing out a retry and tagging it) counts as stale only
after :data:`UNOWNED_GRACE_S`.

One machine only: ``flock`` on a network file system is not to be trusted; use a database there.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import os
import uuid
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import JournalStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from numnet.cli.sweep.budget import check_budget

OWNER_ATTR = "numnet_worker"
# Seconds a RUNNING trial without an owner may stay so before it counts as stale.
UNOWNED_GRACE_S = 60
# Optuna's heartbeat thread wakes this often; it has nothing to record (the lock is the heartbeat).
_THREAD_INTERVAL_S = 3600


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block, waiting for it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _owner_alive(lock: Path) -> bool:
    """Whether the process that made ``lock`` still holds it (a missing file: no). A dead
    owner's file is removed."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        lock.unlink(missing_ok=True)
    finally:
        os.close(fd)
    return False


def _release(fd: int, lock: Path) -> None:
    lock.unlink(missing_ok=True)
    os.close(fd)


class _RetryWithoutOwner:
    """Optuna's retry callback, minus the dead owner's tag (the retry gets its runner's)."""

    def __init__(self, max_retry: int) -> None:
        self._retry = RetryHeartbeatStaleTrialCallback(max_retry=max_retry)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        trial = copy.copy(trial)
        trial.system_attrs = {k: v for k, v in trial.system_attrs.items() if k != OWNER_ATTR}
        self._retry(study, trial)


class LockedJournalStorage(JournalStorage, BaseHeartbeat):
    """``JournalStorage`` on a file, with dead-worker detection and the trial budget gate."""

    def __init__(self, path: Path, max_retry: int = 1) -> None:
        super().__init__(JournalFileBackend(str(path)))
        self.numnet_budget: int | None = None
        self._claim = Path(f"{path}.claim")
        self._workers = Path(f"{path}.workers")
        self._workers.mkdir(exist_ok=True)
        self._owner = uuid.uuid4().hex
        # Held, never written, until this process ends: the kernel drops it on any death; a
        # clean end (or this storage's collection) removes the file.
        lock = self._workers / f"{self._owner}.lock"
        self._owner_fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._owner_fd, fcntl.LOCK_EX)
        weakref.finalize(self, _release, self._owner_fd, lock)
        self._retry_callback = _RetryWithoutOwner(max_retry)

    def __getstate__(self) -> dict[Any, Any]:
        raise TypeError("LockedJournalStorage holds a process's lock: open it in each process")

    # -- trials carry their owner; new ones only within the budget -------------------------------

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        if template_trial is not None:  # add_trial / enqueue_trial (retries): not a new run
            return super().create_new_trial(study_id, template_trial)
        with _flock(self._claim):
            check_budget(self, study_id)
            template = FrozenTrial(
                number=-1,
                state=TrialState.RUNNING,
                value=None,
                datetime_start=datetime.now(),
                datetime_complete=None,
                params={},
                distributions={},
                user_attrs={},
                system_attrs={OWNER_ATTR: self._owner},
                intermediate_values={},
                trial_id=-1,
            )
            return super().create_new_trial(study_id, template)

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        popped = super().set_trial_state_values(trial_id, state, values)
        if state == TrialState.RUNNING and popped:  # a waiting trial (a retry) is now ours
            self.set_trial_system_attr(trial_id, OWNER_ATTR, self._owner)
        return popped

    # -- Optuna's heartbeat interface ------------------------------------------------------------

    def record_heartbeat(self, trial_id: int) -> None:
        """Nothing to record: the owner's lock is held as long as the owner lives."""

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = []
        now = datetime.now()
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            owner = trial.system_attrs.get(OWNER_ATTR)
            if owner is None:
                start = trial.datetime_start or now
                if now - start > timedelta(seconds=UNOWNED_GRACE_S):
                    stale.append(trial._trial_id)
            elif not _owner_alive(self._workers / f"{owner}.lock"):
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int:
        return _THREAD_INTERVAL_S

    def get_heartbeat_stale_trial_callback(
        self,
    ) -> Callable[[optuna.Study, FrozenTrial], None]:
        return self._retry_callback
