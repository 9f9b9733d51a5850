"""ReduceLROnPlateau callback: applies the optim state machine's factor to the solver's lr."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from numnet.callbacks import ReduceLROnPlateau
from numnet.solver import Solver
from tests.callbacks.helpers import blobs, small_net


def test_factor_applied_after_patience_plus_one_bad_epochs():
    factors = []
    solver = SimpleNamespace(history=[], scale_learning_rate=factors.append)
    callback = ReduceLROnPlateau(factor=0.5, patience=1, monitor="val_loss")
    for value in [1.0, 0.9, 0.95, 0.92, 0.91, 0.99]:
        solver.history.append({"val_loss": value})
        callback.on_epoch_end(solver)
    assert factors == [0.5, 0.5]
    restored = ReduceLROnPlateau(factor=0.5, patience=1)
    restored.set_state(callback.get_state())
    assert restored.state == callback.state


@pytest.mark.parametrize("rule", ["sgd", "momentum"])
def test_lr_in_history_drops_in_both_optimizer_paths(rule):
    callback = ReduceLROnPlateau(factor=0.1, patience=0, min_delta=1.0, monitor="val_acc")
    solver = Solver(
        small_net(),
        blobs(),
        update_rule=rule,
        optim_config={"learning_rate": 0.1},
        num_epochs=3,
        seed=0,
        verbose=False,
        callbacks=[callback],
    )
    solver.train()
    assert [r["lr"] for r in solver.history] == pytest.approx([0.1, 0.1, 0.01])
