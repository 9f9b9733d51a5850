"""A NumPy confusion matrix and its picture: counts in the cells, shading by row fraction.

:func:`plot_confusion_matrix` is called explicitly by a user (or ``numnet train``/``evaluate``) to
get a picture, so a missing matplotlib raises :class:`~numnet.errors.NumnetError` with the install
hint instead of being skipped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from numnet.callbacks.figures import pyplot, save_figure
from numnet.words import count

# Class names longer than this are drawn rotated under the columns; shorter ones stay upright.
UPRIGHT_LABEL_CHARS = 3


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


def row_fractions(cm: np.ndarray) -> np.ndarray:
    """``cm`` with each row divided by its sum (the fraction of each true class predicted as
    each class); a row without samples stays 0."""
    cm = np.asarray(cm, dtype=np.float64)
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


def plot_confusion_matrix(
    cm: np.ndarray,
    class_names: Sequence[str],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    split: str | None = None,
) -> None:
    """Draw the confusion matrix ``cm`` (rows: true class, columns: predicted) to a PNG at ``path``.

    Each cell shows its count; its shade is the count's fraction of the true class (the row), with
    a colour bar for that scale, so a small class's errors show as clearly as a large one's. The
    title holds ``title`` (e.g. run, model and data) and a line with the accuracy, the number of
    images and ``split`` (e.g. ``"test"``, ``"validation"``, ``"training data"``). Column labels
    stay upright unless a class name is longer than :data:`UPRIGHT_LABEL_CHARS` characters.

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
    names = [str(name) for name in class_names]
    plt = pyplot()
    size = max(4.5, 0.6 * len(names) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    try:
        fractions = row_fractions(cm)
        image = ax.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
        colorbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        colorbar.set_label("fraction of the true class")
        ticks = np.arange(len(names))
        if max((len(name) for name in names), default=0) > UPRIGHT_LABEL_CHARS:
            ax.set_xticks(ticks, labels=names, rotation=45, ha="right", rotation_mode="anchor")
        else:
            ax.set_xticks(ticks, labels=names)
        ax.set_yticks(ticks, labels=names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                color = "white" if fractions[i, j] > 0.5 else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=8)
        ax.set_title(_title(cm, title, split), fontsize=10)
        fig.tight_layout()
        save_figure(fig, path)
    finally:
        plt.close(fig)


def _title(cm: np.ndarray, title: str | None, split: str | None) -> str:
    """``title`` over ``"<split>: accuracy 0.9500 on 360 images"``."""
    total = int(cm.sum())
    line = (
        f"accuracy {np.trace(cm) / total:.4f} on {count(total, 'image')}" if total else "no images"
    )
    if split:
        line = f"{split}: {line}"
    return f"{title}\n{line}" if title else line
