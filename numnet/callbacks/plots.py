"""Training curves: ``loss.png`` and ``accuracy.png`` per epoch, and the :class:`Plots` callback.

Each picture is titled with what it shows (e.g. run, model and data, given by the caller), has
whole-number epoch ticks, names the split its second curve was measured on (``"validation"``, or
``"training data"`` when there is no validation split) and marks the best epoch (highest
validation accuracy, the epoch whose model a run keeps) with a dashed line and a label.

matplotlib is optional (``pip install -e '.[plot]'``). Decision: the :class:`Plots` callback *warns
and skips* when it is missing (a finished training run must not fail because of an optional
extra), while :func:`plot_history`, which a user calls explicitly, raises
:class:`~numnet.errors.NumnetError` saying how to install it.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from numnet.callbacks.base import Callback
from numnet.callbacks.figures import pyplot, save_figure
from numnet.callbacks.trainer import Trainer
from numnet.errors import NumnetError

__all__ = ["Plots", "best_epoch", "plot_history"]


def best_epoch(history: Sequence[dict[str, Any]]) -> tuple[int, float] | None:
    """``(epoch, val_acc)`` of the first epoch with the highest validation accuracy (the Solver
    keeps that epoch's parameters), or None when no epoch has a finite one."""
    best: tuple[int, float] | None = None
    for record in history:
        value = record.get("val_acc")
        if value is None or not math.isfinite(value):
            continue
        if best is None or value > best[1]:
            best = (int(record["epoch"]), float(value))
    return best


def _values(history: Sequence[dict[str, Any]], key: str) -> list[float]:
    return [np.nan if record.get(key) is None else float(record[key]) for record in history]


def plot_history(
    history: Sequence[dict[str, Any]],
    directory: str | os.PathLike[str],
    *,
    title: str | None = None,
    val_name: str = "validation",
    train_sample: int | None = None,
) -> list[Path]:
    """Write ``loss.png`` and ``accuracy.png`` (both curves per epoch) into ``directory``.

    Parameters
    ----------
    history : sequence of dict
        The Solver's records (``epoch``, ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``).
    directory : path
        Created if missing.
    title : str, optional
        First title line of both pictures (e.g. ``"runs/003: mlp 256-128 on digits"``).
    val_name : str
        What the second curve was measured on (``"validation"``, ``"training data"``).
    train_sample : int, optional
        The training accuracy was measured on a sample of this many rows (the Solver's
        ``num_train_samples``); the legend says so.

    Returns the written paths. Raises NumnetError if matplotlib is missing.
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    epochs = [int(record["epoch"]) for record in history]
    best = best_epoch(history)
    written = []
    for name, keys, what in (
        ("loss.png", ("train_loss", "val_loss"), "loss"),
        ("accuracy.png", ("train_acc", "val_acc"), "accuracy"),
    ):
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        try:
            train_label = f"training {what}"
            if what == "accuracy" and train_sample is not None:
                train_label += f" (sample of {train_sample} rows)"
            ax.plot(epochs, _values(history, keys[0]), marker="o", label=train_label)
            ax.plot(epochs, _values(history, keys[1]), marker="o", label=f"{val_name} {what}")
            if best is not None:
                ax.axvline(
                    best[0],
                    color="grey",
                    linestyle="--",
                    label=f"best epoch {best[0]} ({val_name} accuracy {best[1]:.4f})",
                )
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch")
            ax.set_ylabel(what)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
            per_epoch = f"{what} per epoch"
            ax.set_title(f"{title}\n{per_epoch}" if title else per_epoch, fontsize=10)
            fig.tight_layout()
            save_figure(fig, out / name)
        finally:
            plt.close(fig)
        written.append(out / name)
    return written


class Plots(Callback):
    """At train end, draw ``loss.png`` and ``accuracy.png`` into ``directory``.

    ``title``, ``val_name`` and ``train_sample`` go to :func:`plot_history`. If matplotlib is
    missing it emits a ``UserWarning`` with the install hint and skips.
    """

    order = 60

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        title: str | None = None,
        val_name: str = "validation",
        train_sample: int | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.title = title
        self.val_name = val_name
        self.train_sample = train_sample
        self.written: list[Path] = []

    def on_train_end(self, solver: Trainer) -> None:
        if not solver.history:
            return
        try:
            self.written = plot_history(
                solver.history,
                self.directory,
                title=self.title,
                val_name=self.val_name,
                train_sample=self.train_sample,
            )
        except NumnetError as exc:
            warnings.warn(f"Plots skipped: {exc}", UserWarning, stacklevel=2)
