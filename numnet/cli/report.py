"""Evaluation output shared by ``train`` and ``evaluate``: confusion matrix CSV/PNG, accuracies."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from numnet.cli.rundir import write_text_atomic


def have_matplotlib() -> bool:
    """Whether matplotlib can be imported (plots are skipped with a note otherwise)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def confusion_csv(cm: np.ndarray, class_names: Sequence[str]) -> str:
    """The matrix as CSV text: header ``true\\predicted,<names>``, then one row per true class."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["true\\predicted", *class_names])
    for name, row in zip(class_names, cm.tolist(), strict=True):
        writer.writerow([name, *row])
    return out.getvalue()


def write_confusion_matrix(
    directory: Path, y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> list[str]:
    """Write ``confusion_matrix.csv`` (and ``.png`` with matplotlib); return the file names.

    The CSV is written last: ``numnet train --resume`` takes its presence as "the run finished".
    """
    from numnet.callbacks import confusion_matrix, plot_confusion_matrix

    cm = confusion_matrix(y_true, y_pred, len(class_names))
    written = ["confusion_matrix.csv"]
    if have_matplotlib():
        plot_confusion_matrix(cm, class_names, directory / "confusion_matrix.png")
        written.append("confusion_matrix.png")
    write_text_atomic(directory / "confusion_matrix.csv", confusion_csv(cm, class_names))
    return written


def per_class_accuracy(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int
) -> list[tuple[int, float]]:
    """``(count, accuracy)`` of each true class (accuracy NaN for a class with no samples)."""
    rows = []
    for k in range(num_classes):
        mask = y_true == k
        count = int(mask.sum())
        rows.append((count, float(np.mean(y_pred[mask] == k)) if count else float("nan")))
    return rows
