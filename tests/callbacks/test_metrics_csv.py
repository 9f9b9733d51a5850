"""MetricsCSV: content equals the history, flushed each epoch, no duplicate rows on resume."""

from __future__ import annotations

import csv

import pytest

from numnet.callbacks import Callback, Checkpoint, MetricsCSV
from numnet.callbacks.metrics_csv import COLUMNS
from numnet.solver import Solver
from tests.callbacks.helpers import KillAfter, Killed, blobs, small_net


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


class ReadBack(Callback):
    """Runs after MetricsCSV: reads the file mid-training to prove the row is already on disk."""

    order = 11

    def __init__(self, path):
        self.path = path
        self.row_counts = []

    def on_epoch_end(self, solver):
        self.row_counts.append(len(read_rows(self.path)))


def make_solver(tmp_path, callbacks, **kwargs):
    return Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 0.1},
        batch_size=40,
        num_epochs=3,
        seed=0,
        verbose=False,
        callbacks=callbacks,
        **kwargs,
    )


def test_rows_match_history_and_are_flushed_each_epoch(tmp_path):
    path = tmp_path / "metrics.csv"
    reader = ReadBack(path)
    solver = make_solver(tmp_path, [MetricsCSV(path), reader])
    solver.train()
    assert reader.row_counts == [1, 2, 3]
    rows = read_rows(path)
    assert tuple(rows[0]) == COLUMNS
    for row, record in zip(rows, solver.history, strict=True):
        assert int(row["epoch"]) == record["epoch"]
        for key in COLUMNS[1:]:
            assert float(row[key]) == pytest.approx(record[key], rel=1e-9)


def test_fresh_run_truncates_an_old_file(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("old,junk\n1,2\n")
    make_solver(
        tmp_path,
        [MetricsCSV(path)],
    ).train()
    assert [int(r["epoch"]) for r in read_rows(path)] == [1, 2, 3]


def test_resume_does_not_duplicate_rows(tmp_path):
    path = tmp_path / "metrics.csv"
    with pytest.raises(Killed):
        make_solver(tmp_path, [MetricsCSV(path), Checkpoint(tmp_path), KillAfter(2)]).train()
    assert [int(r["epoch"]) for r in read_rows(path)] == [1, 2]
    resumed = make_solver(
        tmp_path, [MetricsCSV(path), Checkpoint(tmp_path)], resume_from=tmp_path / "last.npz"
    )
    resumed.train()
    rows = read_rows(path)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[2]["val_acc"]) == pytest.approx(resumed.history[2]["val_acc"])
