"""On a terminal, every epoch's line stays on screen above the progress bars.

The bars redraw themselves in place (carriage returns, cursor-up escapes), so the output is
replayed on a small model of a terminal screen and the test reads what is left on it at the end,
as a user would: a line printed the ordinary way while the bars are drawn is overwritten there.
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys

from numnet.callbacks import EarlyStopping, ProgressBar
from numnet.solver import Solver
from tests.callbacks.helpers import blobs, small_net

_ESCAPE = re.compile(r"\x1b\[(\d*)([A-Za-z])")


def screen(output: str) -> list[str]:
    """The lines a terminal shows after receiving ``output`` (``\\r``, ``\\n``, cursor up/down,
    erase to end of line; other escapes are dropped)."""
    rows: list[list[str]] = [[]]
    row = col = 0
    pos = 0
    while pos < len(output):
        match = _ESCAPE.match(output, pos)
        if match:
            count = int(match.group(1) or 1)
            code = match.group(2)
            if code == "A":
                row = max(0, row - count)
            elif code == "B":
                row += count
            elif code == "K":
                del rows[row][col:]
            pos = match.end()
            continue
        char = output[pos]
        pos += 1
        if char == "\r":
            col = 0
        elif char == "\n":
            row, col = row + 1, 0
        else:
            line = rows[row]
            line.extend(" " * (col - len(line) + 1) if col >= len(line) else "")
            line[col] = char
            col += 1
        while len(rows) <= row:
            rows.append([])
    return ["".join(line).rstrip() for line in rows]


def test_the_screen_model_overwrites_like_a_terminal():
    assert screen("epoch 1\n\rbar 10%\rbar 20%\x1b[A\rxx") == ["xxoch 1", "bar 20%"]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_every_epoch_line_stays_above_the_bars():
    stream = FakeTTY()
    Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 0.1},
        num_epochs=3,
        batch_size=60,
        seed=0,
        verbose=False,
        callbacks=[ProgressBar(file=stream)],
    ).train()
    shown = screen(stream.getvalue())
    epoch_lines = [line for line in shown if re.match(r"epoch +\d+/3  loss", line)]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"], shown
    assert all("train acc" in line and "val acc" in line for line in epoch_lines)
    last = [line for line in shown if line][-1]
    assert last.startswith("epochs: 100%"), shown  # the finished bar stays below the lines


def test_an_early_stop_is_said_on_the_terminal_too():
    stream = FakeTTY()
    stopper = EarlyStopping(patience=1)
    solver = Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 1e-12},  # nothing improves after the first epoch
        num_epochs=5,
        batch_size=60,
        seed=0,
        verbose=False,
        callbacks=[stopper, ProgressBar(file=stream)],
    )
    solver.train()
    assert solver.epoch == 2
    assert "stopped early after epoch 2/5" in screen(stream.getvalue())


def test_numnet_train_on_a_terminal_keeps_every_epoch_line(tmp_path):
    """``numnet train`` with its stdout on a pseudo-terminal (the bars are drawn)."""
    leader, follower = pty.openpty()
    argv = [
        sys.executable,
        "-m",
        "numnet",
        "train",
        "--max-train-samples",
        "300",
        "--hidden-dims",
        "16",
        "--epochs",
        "3",
        "--out-dir",
        str(tmp_path / "run"),
    ]
    env = {**os.environ, "COLUMNS": "200", "MPLBACKEND": "Agg"}
    process = subprocess.Popen(argv, stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    shown = screen(b"".join(chunks).decode("utf-8", "replace"))
    epoch_lines = [line for line in shown if re.match(r"epoch +\d+/3  loss", line)]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"], shown
