"""ProgressBar (disabled when quiet or not a TTY) and PrintLog."""

from __future__ import annotations

import io

from numnet.callbacks import PrintLog, ProgressBar
from numnet.solver import Solver
from tests.callbacks.helpers import blobs, small_net


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def train_with(callback):
    solver = Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 0.1},
        num_epochs=2,
        batch_size=60,
        seed=0,
        verbose=False,
        callbacks=[callback],
    )
    solver.train()
    return solver


def test_quiet_progress_bar_draws_nothing(capsys):
    stream = FakeTTY()
    bar = ProgressBar(quiet=True, file=stream)
    train_with(bar)
    assert not bar.enabled and stream.getvalue() == ""
    assert capsys.readouterr().out == ""


def test_progress_bar_disabled_when_not_a_tty():
    stream = io.StringIO()
    bar = ProgressBar(file=stream)
    train_with(bar)
    assert not bar.enabled and stream.getvalue() == ""


def test_progress_bar_draws_on_a_terminal():
    stream = FakeTTY()
    bar = ProgressBar(file=stream)
    train_with(bar)
    text = stream.getvalue()
    assert bar.enabled and "epochs" in text and "2/2" in text and "val_acc" in text


def test_verbose_false_and_progress_bar_suppress_print_log(capsys):
    Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 0.1},
        num_epochs=1,
        callbacks=[ProgressBar(quiet=True)],
    ).train()
    assert capsys.readouterr().out == ""


def test_print_log_lines():
    stream = io.StringIO()
    solver = train_with(PrintLog(print_every=3, file=stream))
    lines = stream.getvalue().splitlines()
    iterations = [line for line in lines if line.startswith("(Iteration")]
    assert [line.split()[1] for line in iterations] == ["1", "4", "7"]
    assert lines[-1].startswith(f"(Epoch 2 / 2) train acc: {solver.history[-1]['train_acc']:f}")
