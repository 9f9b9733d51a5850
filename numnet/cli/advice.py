"""Warnings for settings that are almost surely a mistake: one line each on stderr, never silent.

* ``--dropout`` below 0.5: numnet's dropout is the *keep* probability (CS231n); a PyTorch or Keras
  user who types ``--dropout 0.2`` means "drop 20 %" and gets a network that keeps 20 %.
* A learning rate that diverged in the first epoch: the first epoch's batch losses average more
  than twice the loss of its first batch (taken before any update); a healthy run falls below it
  within a few updates. A NaN loss stops the run with its own error, which says the same: lower
  the learning rate.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from numnet.callbacks.base import Callback

# A keep probability below this is taken for a drop rate typed the PyTorch way.
LOW_KEEP = 0.5
# The first epoch diverged when its batch losses average this many times the first batch's loss
# (noise from dropout and small batches stays well below it; a too-high rate goes far above).
RISE_FACTOR = 2.0
MIN_BATCHES = 4  # fewer updates in the first epoch say nothing about a trend


def warn(text: str) -> None:
    """Print ``numnet: warning: <text>`` as one line on stderr."""
    print(f"numnet: warning: {' '.join(text.split())}", file=sys.stderr, flush=True)


def dropout_warning(keep: float) -> str | None:
    """The warning for a keep probability ``keep`` below :data:`LOW_KEEP`, else None."""
    if not keep < LOW_KEEP:
        return None
    kept = f"{keep * 100:.4g} %"
    dropped = f"{(1 - keep) * 100:.4g} %"
    return (
        f"--dropout is the keep probability (CS231n convention, not PyTorch's drop rate): you "
        f"asked to keep {kept} of the units and drop {dropped}; pass {1 - keep:.4g} to drop "
        f"{kept}"
    )


class FirstEpochDivergence(Callback):
    """Warns once when the training loss rose during the first epoch (the learning rate is high).

    Looks only at a run's first epoch (a resumed run that has done it is not judged again).
    """

    order = 15  # after MetricsCSV, before the checkpoint; it only watches

    def __init__(self, lr: float, flag: str = "--lr") -> None:
        self.lr = lr
        self.flag = flag
        self.losses: list[float] = []
        self.warned = False

    def on_batch_end(self, solver: Any) -> None:
        if solver.epoch == 0:
            self.losses.append(float(solver.loss_history[-1]))

    def on_epoch_end(self, solver: Any) -> None:
        if solver.epoch != 1 or self.warned:
            return
        message = rising_loss_warning(self.losses, self.lr, self.flag)
        if message is not None:
            self.warned = True
            warn(message)


def rising_loss_warning(losses: list[float], lr: float, flag: str = "--lr") -> str | None:
    """The warning when the first epoch's batch ``losses`` rose (see :data:`RISE_FACTOR`)."""
    if len(losses) < MIN_BATCHES:
        return None
    first = losses[0]
    mean = sum(losses[1:]) / (len(losses) - 1)
    if math.isfinite(mean) and mean <= RISE_FACTOR * first:
        return None
    return (
        f"the training loss rose during the first epoch (from {first:.3g} at the start to a "
        f"mean of {mean:.3g}, peak {max(losses):.3g}): the learning rate {lr:g} diverged; lower "
        f"it, e.g. {flag} {lr / 10:g}"
    )
