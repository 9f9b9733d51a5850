"""CallbackList: fixed documented order, hook sequence, state round trip."""

from __future__ import annotations

import pytest

from numnet.callbacks import (
    Callback,
    CallbackList,
    Checkpoint,
    EarlyStopping,
    MetricsCSV,
    Plots,
    PrintLog,
    ProgressBar,
    ReduceLROnPlateau,
)
from numnet.solver import Solver
from tests.callbacks.helpers import blobs, small_net


class Log(Callback):
    def __init__(self, events):
        self.events = events

    def on_train_begin(self, solver):
        self.events.append("train_begin")

    def on_epoch_begin(self, solver):
        self.events.append(f"epoch_begin {solver.epoch}")

    def on_batch_end(self, solver):
        self.events.append("batch")

    def on_epoch_end(self, solver):
        self.events.append(f"epoch_end {solver.epoch} {len(solver.history)}")

    def on_train_end(self, solver):
        self.events.append("train_end")


def test_fixed_order_regardless_of_given_order(tmp_path):
    custom = Callback()
    given = [
        ProgressBar(),
        Plots(tmp_path),
        EarlyStopping(2),
        custom,
        PrintLog(),
        Checkpoint(tmp_path),
        ReduceLROnPlateau(),
        MetricsCSV(tmp_path / "m.csv"),
    ]
    ordered = [type(cb) for cb in CallbackList(given)]
    assert ordered == [
        MetricsCSV,
        ReduceLROnPlateau,
        Checkpoint,
        EarlyStopping,
        Callback,
        Plots,
        PrintLog,
        ProgressBar,
    ]


def test_ties_keep_given_order_and_non_callbacks_are_refused():
    first, second = Callback(), Callback()
    assert list(CallbackList([first, second])) == [first, second]
    with pytest.raises(TypeError, match="Callback"):
        CallbackList([object()])


def test_hook_sequence_during_training():
    events = []
    solver = Solver(
        small_net(),
        blobs(n_train=50),
        optim_config={"learning_rate": 0.1},
        batch_size=20,
        num_epochs=2,
        verbose=False,
        callbacks=[Log(events)],
    )
    solver.train()
    epoch = ["batch"] * 3
    assert events == [
        "train_begin",
        "epoch_begin 0",
        *epoch,
        "epoch_end 1 1",
        "epoch_begin 1",
        *epoch,
        "epoch_end 2 2",
        "train_end",
    ]


def test_states_are_keyed_by_position_and_class():
    stop = EarlyStopping(3)
    stop.best, stop.wait = 0.7, 2
    states = CallbackList([Callback(), stop]).get_states()  # sorted: EarlyStopping (40) first
    assert states == {"0:EarlyStopping": {"best": 0.7, "wait": 2}}
    fresh = EarlyStopping(3)
    CallbackList([Callback(), fresh]).set_states(states)
    assert (fresh.best, fresh.wait) == (0.7, 2)
