"""Checkpoint: last/best files, best only on improvement, atomic writes, loadable as a model."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.callbacks import Callback, Checkpoint
from numnet.serialization import load_checkpoint, load_model
from numnet.solver import Solver
from tests.callbacks.helpers import blobs, small_net


class BestEpochs(Callback):
    order = 35  # after Checkpoint

    def __init__(self, directory):
        self.directory = directory
        self.seen = []

    def on_epoch_end(self, solver):
        best = load_checkpoint(self.directory / "best.npz")["meta"]
        last = load_checkpoint(self.directory / "last.npz")["meta"]
        self.seen.append((solver.improved, best["epoch"], last["epoch"]))


def test_last_every_epoch_best_on_improvement(tmp_path):
    spy = BestEpochs(tmp_path)
    model = small_net(normalization="batchnorm")
    solver = Solver(
        model,
        blobs(),
        optim_config={"learning_rate": 0.1},
        batch_size=40,
        num_epochs=4,
        seed=0,
        verbose=False,
        callbacks=[Checkpoint(tmp_path, metadata={"class_names": ["a", "b", "c"]}), spy],
    )
    solver.train()
    best_epoch = 0
    for epoch, (improved, best, last) in enumerate(spy.seen, start=1):
        best_epoch = epoch if improved else best_epoch
        assert (best, last) == (best_epoch, epoch)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "last.npz"]  # no temp files
    restored, metadata = load_model(tmp_path / "best.npz")
    assert metadata == {"class_names": ["a", "b", "c"]}
    for name, value in model.params.items():  # the model ends at its best weights = best.npz
        assert np.array_equal(restored.params[name], value)
    for name, value in model.buffers.items():
        assert np.array_equal(restored.buffers[name], value)


def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path, monkeypatch):
    solver = Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 0.1},
        num_epochs=1,
        seed=0,
        verbose=False,
        callbacks=[Checkpoint(tmp_path)],
    )
    solver.train()
    before = (tmp_path / "last.npz").read_bytes()

    def broken_savez(handle, **arrays):
        handle.write(b"PK\x03\x04partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    solver.num_epochs = 2
    with pytest.raises(OSError, match="disk full"):
        solver.train()
    assert (tmp_path / "last.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "last.npz"]
