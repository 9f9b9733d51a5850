"""Where a sweep's study lives: a journal file (default) or a database (any SQLAlchemy URL).

- No ``--storage``: an Optuna journal file ``SWEEP_DIR/study.journal``, no server; several worker
  processes on one machine share it (:mod:`numnet.cli.sweep.journal`: a worker killed with
  ``kill -9`` is noticed through its lock file and its trial retried once).
- ``--storage postgresql+psycopg2://user@host:port/db`` (anything with ``://``): ``RDBStorage``
  with Optuna's heartbeat, so ``numnet sweep`` on several machines shares one study and a silent
  worker's trial is failed after ``3 * heartbeat`` seconds and retried once
  (:mod:`numnet.cli.sweep.database`).
- Any other value: the path of a journal file.

The study is created once by the parent before workers start (:func:`create_study_once`; workers
only :func:`load_study`): several processes creating one study at once race. The study keeps the
space it was created with (a digest and the space in its user attributes), so a rerun with the
same study continues it and one with another space is refused. Optuna is imported only inside the
functions (``numnet sweep`` without it says how to install it).
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from numnet.cli.sweep import budget
from numnet.errors import ConfigError, NumnetError

if TYPE_CHECKING:
    import optuna

__all__ = [
    "JOURNAL_FILE",
    "StorageError",
    "create_study_once",
    "fail_stale_trials",
    "load_study",
    "mask_url",
    "open_storage",
    "optimize_until",
    "retry_callbacks",
    "storage_label",
    "study_exists",
]

JOURNAL_FILE = "study.journal"
DIGEST_ATTR = "numnet_space_digest"
SPACE_ATTR = "numnet_space"
# A database heartbeat: a running trial silent for GRACE_FACTOR heartbeats is failed and retried.
HEARTBEAT_S = 10
GRACE_FACTOR = 3
MAX_RETRY = 1
# Seconds to wait for a database server to answer before calling it unreachable.
CONNECT_TIMEOUT_S = 10
INSTALL_HINT = "pip install -e '.[sweep]'"


class StorageError(NumnetError):
    """The study's storage cannot be reached or opened (a database that does not answer)."""


def _is_url(storage: str) -> bool:
    return "://" in storage


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and labels)."""
    return re.sub(r"^([\w+.-]+://[^:@/]*):.*@", r"\1:***@", url)


def storage_label(storage: str | None, sweep_dir: Path) -> str:
    """What to give ``optuna-dashboard`` (and what messages name): the journal path or the URL,
    password masked."""
    if storage is None:
        return str(Path(sweep_dir) / JOURNAL_FILE)
    return mask_url(storage) if _is_url(storage) else storage


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ConfigError(f"numnet sweep needs Optuna: {INSTALL_HINT}") from None
    return optuna


def open_storage(
    storage: str | None, sweep_dir: Path, *, heartbeat_s: int = HEARTBEAT_S
) -> optuna.storages.BaseStorage:
    """The Optuna storage for ``--storage`` (None: the journal file in ``sweep_dir``)."""
    _optuna()
    if storage is None or not _is_url(storage):
        from numnet.cli.sweep.journal import LockedJournalStorage

        path = Path(sweep_dir) / JOURNAL_FILE if storage is None else Path(storage)
        if not path.parent.is_dir():
            raise ConfigError(f"journal file {path}: its folder {path.parent} does not exist")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning on the retry callback
            store = LockedJournalStorage(path, max_retry=MAX_RETRY)
        store.numnet_label = str(path)
        return store
    if heartbeat_s < 1:
        raise ConfigError(f"--heartbeat must be at least 1 second, got {heartbeat_s}")
    store = _open_database(storage, heartbeat_s)
    store.numnet_label = mask_url(storage)
    return store


def _open_database(url: str, heartbeat_s: int) -> optuna.storages.BaseStorage:
    import sqlalchemy.exc
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    label = mask_url(url)
    try:
        dialect = sqlalchemy.engine.make_url(url).get_backend_name()
    except sqlalchemy.exc.ArgumentError:
        raise ConfigError(
            f"--storage {label} is not a database URL (e.g. postgresql+psycopg2://user@host:5432/db)"
        ) from None
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if dialect == "postgresql":
        engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning on the heartbeat
        from numnet.cli.sweep.database import BudgetedRDBStorage

        retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
        for attempt in range(3):
            try:
                return BudgetedRDBStorage(
                    url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=heartbeat_s,
                    grace_period=GRACE_FACTOR * heartbeat_s,
                    heartbeat_stale_trial_callback=retry,
                )
            except (ImportError, sqlalchemy.exc.NoSuchModuleError) as e:
                raise ConfigError(
                    f"--storage {label}: no database driver for it ({_first_line(e)}); "
                    f"PostgreSQL's comes with {INSTALL_HINT}"
                ) from None
            except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
                # Another process created Optuna's tables at the same moment: look again.
                if attempt == 2:
                    raise
                time.sleep(0.5 * (attempt + 1))
            except sqlalchemy.exc.SQLAlchemyError as e:
                raise StorageError(
                    f"cannot reach the database {label} ({_first_line(e)}): check that the server "
                    "runs and accepts connections from this machine, and the URL's host, port, "
                    "user, password and database name"
                ) from None
    raise AssertionError("unreachable")


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


def _label(storage_obj: Any) -> str:
    """The storage as the user named it, for messages."""
    label = getattr(storage_obj, "numnet_label", None)
    return label if label is not None else type(storage_obj).__name__


def study_exists(storage_obj: Any, study_name: str) -> bool:
    """Whether ``storage_obj`` holds a study named ``study_name``."""
    try:
        storage_obj.get_study_id_from_name(study_name)
    except KeyError:
        return False
    return True


def create_study_once(
    storage_obj: Any,
    study_name: str,
    space_digest: str,
    direction: str = "maximize",
    space: dict[str, Any] | None = None,
) -> None:
    """Create the study unless it exists (call once, before any worker starts), and tie it to
    its space: a study made with another space or direction is refused with one line."""
    optuna = _optuna()
    study = optuna.create_study(
        storage=storage_obj, study_name=study_name, direction=direction, load_if_exists=True
    )
    made = study.direction.name.lower()
    if made != direction:
        raise ConfigError(
            f"study {study_name} in {_label(storage_obj)} was created to {made}, not {direction}: "
            "use another --study"
        )
    if DIGEST_ATTR not in study.user_attrs:
        study.set_user_attr(DIGEST_ATTR, space_digest)
        if space is not None:
            study.set_user_attr(SPACE_ATTR, space)
    _check_digest(study, storage_obj, space_digest)


def _check_digest(study: optuna.Study, storage_obj: Any, space_digest: str) -> None:
    stored = study.user_attrs.get(DIGEST_ATTR)
    if stored != space_digest:
        raise ConfigError(
            f"study {study.study_name} in {_label(storage_obj)} was created with another space "
            f"(or other fixed train settings) than this one: use another --study, or the space "
            f"file and settings it was created with"
        )


def load_study(
    storage_obj: Any, study_name: str, space_digest: str, sampler: Any = None, pruner: Any = None
) -> optuna.Study:
    """The existing study, checked against the space (what each worker calls)."""
    optuna = _optuna()
    if not study_exists(storage_obj, study_name):
        raise ConfigError(f"no study {study_name} in {_label(storage_obj)}")
    study = optuna.load_study(
        study_name=study_name, storage=storage_obj, sampler=sampler, pruner=pruner
    )
    _check_digest(study, storage_obj, space_digest)
    return study


def fail_stale_trials(study: optuna.Study) -> None:
    """Fail (and queue once more) the running trials of dead workers now; ``study.optimize`` and
    :func:`optimize_until` do it before every trial anyway."""
    optuna = _optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def optimize_until(study: optuna.Study, objective: Any, n_trials: int, **kwargs: Any) -> None:
    """:func:`numnet.cli.sweep.budget.optimize_until`, with a database lost mid-sweep as one
    line (:class:`StorageError`) instead of SQLAlchemy's traceback."""
    try:
        budget.optimize_until(study, objective, n_trials, **kwargs)
    except Exception as error:
        sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
        if sqlalchemy_exc is None or not isinstance(error, sqlalchemy_exc.DBAPIError):
            raise
        label = _label(budget.backend(study._storage))
        raise StorageError(
            f"lost the database {label} during the sweep ({_first_line(error)}); the study keeps "
            "its finished trials: run the same command again once the server answers"
        ) from None


def retry_callbacks(storage_obj: Any) -> list[Any]:
    """Extra ``study.optimize`` callbacks the storage needs: none (retries are the storage's)."""
    return []
