"""Training plots (loss and accuracy curves), a NumPy confusion matrix, and its plot.

matplotlib is optional (``pip install -e '.[plot]'``) and imported only when drawing, with the
non-interactive ``Agg`` backend. Decision: the :class:`Plots` callback *warns and skips* when
matplotlib is missing (a finished training run must not fail because of an optional extra), while
:func:`plot_confusion_matrix`, which a user calls explicitly to get a picture, raises
:class:`~numnet.errors.NumnetError` saying how to install it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from numnet.callbacks.base import Callback
from numnet.callbacks.trainer import Trainer
from numnet.errors import NumnetError
from numnet.files import temp_file_beside

_INSTALL_HINT = (
    "matplotlib is not installed; run `pip install -e '.[plot]'` in the checkout to draw plots"
)


def _pyplot() -> Any:
    """Import ``matplotlib.pyplot`` with the Agg backend, or raise NumnetError with the install
    hint."""
    try:
        import matplotlib
    except ImportError as exc:
        raise NumnetError(_INSTALL_HINT) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Count matrix ``cm[i, j]`` = number of samples of true class ``i`` predicted as ``j``.

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (N,)
        Labels in ``[0, num_classes)``.
    num_classes : int

    Returns
    -------
    ndarray of int64, shape (num_classes, num_classes)
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be vectors of equal shape (N,), got {y_true.shape} and "
            f"{y_pred.shape}"
        )
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and labels.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer labels, got dtype {labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"{name} must lie in [0, {num_classes - 1}], got values from {labels.min()} to "
                f"{labels.max()}"
            )
    flat = y_true.astype(np.int64) * num_classes + y_pred.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def plot_confusion_matrix(
    cm: np.ndarray, class_names: Sequence[str], path: str | os.PathLike[str]
) -> None:
    """Draw the confusion matrix ``cm`` (rows: true class, columns: predicted) to a PNG at ``path``.

    Raises
    ------
    NumnetError
        If matplotlib is not installed (the message says ``pip install -e '.[plot]'``).
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(class_names):
        raise ValueError(
            f"cm must be square with one row per class name ({len(class_names)}), got shape "
            f"{cm.shape}"
        )
    plt = _pyplot()
    size = max(4.0, 0.6 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        ax.imshow(cm, cmap="Blues")
        ticks = np.arange(len(class_names))
        ax.set_xticks(ticks, labels=list(class_names), rotation=45, ha="right")
        ax.set_yticks(ticks, labels=list(class_names))
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        threshold = cm.max() / 2 if cm.size else 0
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                color = "white" if cm[i, j] > threshold else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=8)
        fig.tight_layout()
        _save_figure(fig, path)
    finally:
        plt.close(fig)


def _save_figure(fig: Any, path: str | os.PathLike[str]) -> None:
    """``fig.savefig(path)`` through a temporary file in the same directory and ``os.replace``:
    an interrupted or failed save leaves any earlier picture at ``path`` as it was."""
    path = Path(path)
    fd, tmp_name = temp_file_beside(path)  # mode 0644 under umask 022, not mkstemp's 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            fig.savefig(handle, format=path.suffix.lstrip(".") or "png", dpi=100)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def plot_history(
    history: Sequence[dict[str, Any]], directory: str | os.PathLike[str]
) -> list[Path]:
    """Write ``loss.png`` and ``accuracy.png`` (train and validation per epoch) into ``directory``.

    Returns the written paths. Raises NumnetError if matplotlib is missing.
    """
    plt = _pyplot()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    epochs = [record["epoch"] for record in history]
    written = []
    for name, keys, ylabel in (
        ("loss.png", ("train_loss", "val_loss"), "loss"),
        ("accuracy.png", ("train_acc", "val_acc"), "accuracy"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        try:
            for key in keys:
                values = [np.nan if r.get(key) is None else r[key] for r in history]
                ax.plot(epochs, values, marker="o", label=key.replace("_", " "))
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            ax.grid(True, alpha=0.3)
            ax.legend()
            fig.tight_layout()
            _save_figure(fig, out / name)
        finally:
            plt.close(fig)
        written.append(out / name)
    return written


class Plots(Callback):
    """At train end, draw ``loss.png`` and ``accuracy.png`` into ``directory``.

    If matplotlib is missing it emits a ``UserWarning`` with the install hint and skips.
    """

    order = 60

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.written: list[Path] = []

    def on_train_end(self, solver: Trainer) -> None:
        if not solver.history:
            return
        try:
            self.written = plot_history(solver.history, self.directory)
        except NumnetError as exc:
            warnings.warn(f"Plots skipped: {exc}", UserWarning, stacklevel=2)
