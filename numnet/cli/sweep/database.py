"""A database study (any SQLAlchemy URL) whose new trials stay within the sweep's budget.

Dead workers are Optuna's own business here: ``RDBStorage``'s heartbeat (a row per running trial,
refreshed every ``heartbeat_interval`` seconds) marks a trial silent for ``grace_period`` failed,
and the retry callback queues it once more. This class adds the budget gate of
:mod:`numnet.cli.sweep.budget`: on PostgreSQL the count and the creation run under a transaction
advisory lock, so workers on several machines never overshoot N. Other databases get the count
without the lock (MySQL's locks differ; SQLite is not meant for parallel workers).
"""

from __future__ import annotations

import zlib
from typing import Any

import sqlalchemy
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial

from numnet.cli.sweep.budget import check_budget

# Advisory-lock keys are 64-bit integers: numnet's namespace plus the study id.
_LOCK_NAMESPACE = zlib.crc32(b"numnet sweep budget") << 31


class BudgetedRDBStorage(RDBStorage):
    """``RDBStorage`` whose ``study.ask`` refuses a new trial past ``numnet_budget``."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.numnet_budget: int | None = None

    def _create_new_trial(
        self, study_id: int, template_trial: FrozenTrial | None = None
    ) -> FrozenTrial:
        if template_trial is not None or self.numnet_budget is None:
            return super()._create_new_trial(study_id, template_trial)
        if self.engine.dialect.name != "postgresql":
            check_budget(self, study_id)
            return super()._create_new_trial(study_id, template_trial)
        with self.engine.connect() as connection, connection.begin():
            # Held until this transaction ends, after the new trial's own commit.
            connection.execute(
                sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": _LOCK_NAMESPACE + study_id},
            )
            check_budget(self, study_id)
            return super()._create_new_trial(study_id, template_trial)
