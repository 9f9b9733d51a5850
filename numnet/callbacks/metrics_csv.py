"""MetricsCSV: one CSV row per epoch, flushed to disk as soon as the epoch ends."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO, Any

from numnet.callbacks.base import Callback
from numnet.callbacks.trainer import Trainer

COLUMNS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")


def _cell(value: Any) -> str:
    """CSV text for one value: integers as is, floats with 10 significant digits, None as ''."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return format(float(value), ".10g")


class MetricsCSV(Callback):
    """Write ``epoch, lr, train_loss, train_acc, val_loss, val_acc, seconds`` per epoch to ``path``.

    A fresh run (``solver.epoch == 0`` at train begin) truncates the file. A resumed run rewrites it
    from ``solver.history`` (the epochs the checkpoint holds) and then appends, so no epoch is ever
    duplicated, even when resuming from an earlier checkpoint than the file's last row. Each row is
    flushed and fsync'ed when its epoch ends, so the file is current even if the run is killed.
    ``lr`` is empty when it is unknown (a user-built optimizer without a schedule). The values are
    the Solver's: ``train_acc`` is measured on a random sample of ``num_train_samples`` training
    rows (1,000 by default and in ``numnet train``; all rows when there are fewer), ``train_loss``
    is the mean loss of the epoch's batches, ``val_loss`` and ``val_acc`` are measured on the
    validation data (all of it unless ``num_val_samples`` is set).

    Parameters
    ----------
    path : str or PathLike
        The CSV file; its directory must exist.
    """

    order = 10

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def _write_row(self, record: dict[str, Any]) -> None:
        assert self._writer is not None and self._handle is not None
        self._writer.writerow([_cell(record.get(column)) for column in COLUMNS])
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def on_train_begin(self, solver: Trainer) -> None:
        self._close()
        self._handle = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._handle)
        self._writer.writerow(COLUMNS)
        self._handle.flush()
        for record in solver.history:
            self._write_row(record)

    def on_epoch_end(self, solver: Trainer) -> None:
        if self._handle is None:
            self.on_train_begin(solver)
            return
        self._write_row(solver.history[-1])

    def on_train_end(self, solver: Trainer) -> None:
        self._close()

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle = None
        self._writer = None
