"""EarlyStopping: stops at the right epoch, honours min_delta and loss monitors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from numnet.callbacks import EarlyStopping
from numnet.errors import ConfigError
from numnet.solver import Solver
from tests.callbacks.helpers import blobs, small_net


def feed(callback, values, key="val_acc"):
    """Feed epoch values; return the epoch (1-based) at which stop_training was set, or None."""
    solver = SimpleNamespace(history=[], stop_training=False, epoch=0)
    callback.on_train_begin(solver)
    for value in values:
        solver.epoch += 1
        solver.history.append({key: value})
        callback.on_epoch_end(solver)
        if solver.stop_training:
            return solver.epoch
    return None


def test_patience_counts_epochs_without_improvement():
    assert feed(EarlyStopping(patience=2), [0.5, 0.6, 0.6, 0.55, 0.9]) == 4
    assert feed(EarlyStopping(patience=2), [0.5, 0.6, 0.6, 0.7, 0.65, 0.8]) is None
    assert feed(EarlyStopping(patience=1), [0.5, 0.5]) == 2


def test_min_delta_and_loss_monitor():
    assert feed(EarlyStopping(patience=2, min_delta=0.05), [0.5, 0.52, 0.54, 0.9]) == 3
    stopper = EarlyStopping(patience=2, monitor="val_loss")
    assert feed(stopper, [1.0, 0.8, 0.85, 0.81], key="val_loss") == 4
    assert stopper.best == 0.8 and stopper.stopped_epoch == 4


def test_bad_arguments():
    with pytest.raises(ConfigError):
        EarlyStopping(patience=0)
    with pytest.raises(ConfigError, match="monitor"):
        EarlyStopping(patience=1, monitor="accuracy")


def test_stops_training_in_the_solver():
    # a learning rate too small to change anything: validation accuracy never improves after epoch 1
    stopper = EarlyStopping(patience=2)
    solver = Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 1e-12},
        num_epochs=10,
        seed=0,
        verbose=False,
        callbacks=[stopper],
    )
    solver.train()
    assert solver.epoch == 3 and len(solver.history) == 3 and stopper.stopped_epoch == 3
