"""Evaluation output shared by ``train`` and ``evaluate``: confusion matrix CSV/PNG, the most
confidently misclassified images, accuracies, and the titles that say what a picture shows.

Every picture names the run (or model file), the model and the data in its title, and the split
it shows: ``"test"``, ``"validation"`` or ``"training data"`` (:data:`SPLIT_NAMES`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from numnet.cli.rundir import write_text_atomic
from numnet.predictor import softmax_rows
from numnet.words import count

# How pictures name the split their numbers come from (keys as ``evaluate`` and ``train`` use).
SPLIT_NAMES = {"test": "test", "validation": "validation", "training": "training data"}
MISCLASSIFIED_FILE = "misclassified.png"
MISCLASSIFIED_SHOWN = 16  # images in the grid (4 x 4)


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


def model_label(config: dict[str, Any]) -> str:
    """A model in a few words: ``"mlp 256-128"``, ``"cnn conv 32-64, fc 128"``.

    ``config`` is ``model.get_config()`` (``class``, ``hidden_dims``, ``conv_channels``) or
    ``numnet train``'s settings (``model``, ``hidden_dims``, ``conv_channels``).
    """
    from numnet.cli.build import resolved_hidden_dims

    kinds = {"FullyConnectedNet": "mlp", "ConvNet": "cnn"}
    kind = config.get("model") or kinds.get(str(config.get("class")), str(config.get("class")))
    if "model" in config and "class" not in config:
        hidden = resolved_hidden_dims(config)
    else:
        hidden = list(config.get("hidden_dims") or [])
    fc = "-".join(str(d) for d in hidden)
    if kind != "cnn":
        return f"{kind} {fc}".strip()
    conv = "-".join(str(c) for c in config.get("conv_channels") or [])
    return f"cnn conv {conv}" + (f", fc {fc}" if fc else "")


def picture_title(where: str | Path, model: dict[str, Any], data: str) -> str:
    """``"<run or model file>: <model_label> on <data>"``, the first title line of pictures."""
    return f"{where}: {model_label(model)} on {data}"


def history_labels(
    config: dict[str, Any], run_dir: Path, metadata: dict[str, Any], train_sample: int
) -> dict[str, Any]:
    """Keywords for :class:`~numnet.callbacks.Plots` in ``numnet train``: the title (run, model,
    data), the name of the validation curve's split and the training-accuracy sample size."""
    rows = metadata.get("data_rows") or {}
    trained = rows.get("train")
    validated = rows.get("validation", config.get("val_fraction", 1))
    return {
        "title": picture_title(run_dir, config, str(metadata.get("dataset") or config["data"])),
        "val_name": SPLIT_NAMES["validation" if validated else "training"],
        "train_sample": train_sample if trained is None or trained > train_sample else None,
    }


def write_confusion_matrix(
    directory: Path,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str | None = None,
    split: str | None = None,
    pictures: bool = True,
) -> list[str]:
    """Write ``confusion_matrix.csv`` (and ``.png`` with matplotlib); return the file names.

    ``pictures=False`` (``numnet train --no-plots``) writes the CSV only.

    The picture's title is ``title`` over the accuracy on ``split`` (a key of
    :data:`SPLIT_NAMES`, or any words). The CSV is written last: ``numnet train --resume`` takes
    its presence as "the run finished".
    """
    from numnet.callbacks import confusion_matrix, plot_confusion_matrix

    cm = confusion_matrix(y_true, y_pred, len(class_names))
    written = ["confusion_matrix.csv"]
    if pictures and have_matplotlib():
        plot_confusion_matrix(
            cm,
            class_names,
            directory / "confusion_matrix.png",
            title=title,
            split=SPLIT_NAMES.get(split, split) if split else None,
        )
        written.append("confusion_matrix.png")
    write_text_atomic(directory / "confusion_matrix.csv", confusion_csv(cm, class_names))
    return written


def viewable_images(
    X: np.ndarray, metadata: dict[str, Any], *, standardized: bool
) -> np.ndarray | None:
    """``X`` as pictures: (N, H, W) grey or (N, H, W, C) colour, each scaled to [0, 1].

    ``metadata`` is the model file's (``image_shape``, ``preprocessing``); ``standardized`` says
    ``X`` went through the stored preprocessing, which is undone first so the pictures look like
    the data (per-pixel standardisation would otherwise scramble them). None when the data are not
    images (no ``image_shape`` of C, H, W with H and W above 1, or a size that does not match).
    """
    shape = metadata.get("image_shape")
    if not isinstance(shape, list | tuple) or len(shape) != 3 or min(shape[1:]) < 2:
        return None
    channels, height, width = (int(d) for d in shape)
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if flat.shape[1] != channels * height * width:
        return None
    record = metadata.get("preprocessing")
    if standardized and isinstance(record, dict):
        flat = flat * _stat(record, "std", channels, height * width)
        flat = flat + _stat(record, "mean", channels, height * width)
    images = flat.reshape(len(X), channels, height, width).transpose(0, 2, 3, 1)
    low = images.min(axis=(1, 2, 3), keepdims=True)
    span = images.max(axis=(1, 2, 3), keepdims=True) - low
    images = np.divide(images - low, span, out=np.zeros_like(images), where=span > 0)
    return images[..., 0] if channels == 1 else images


def _stat(record: dict[str, Any], key: str, channels: int, pixels: int) -> np.ndarray:
    """A Standardizer statistic laid out like one flattened image (C*H*W values, or one)."""
    values = np.asarray(record[key], dtype=np.float64).ravel()
    if record.get("mode") == "channel" and values.size == channels:
        return np.repeat(values, pixels)
    return values if values.size in (1, channels * pixels) else np.ones(1)


def write_misclassified(
    directory: Path,
    X: np.ndarray,
    y_true: np.ndarray,
    scores: np.ndarray,
    class_names: Sequence[str],
    metadata: dict[str, Any],
    *,
    standardized: bool,
    title: str | None = None,
    split: str | None = None,
) -> list[str]:
    """Write ``misclassified.png``: the misclassified images the model was surest about.

    Up to :data:`MISCLASSIFIED_SHOWN` of the rows of ``X`` (drawn by :func:`viewable_images` with
    ``metadata`` and ``standardized``), most confident first, each titled with its true class, the
    predicted class and the predicted class's probability (softmax of ``scores``). Nothing is
    written (``[]``) without matplotlib or for data that are not images.
    """
    if not have_matplotlib():
        return []
    from numnet.callbacks.misclassified import plot_misclassified

    proba = softmax_rows(scores)
    predicted = proba.argmax(axis=1)
    confidence = proba[np.arange(len(predicted)), predicted]
    wrong = np.flatnonzero(predicted != np.asarray(y_true))
    shown = wrong[np.argsort(-confidence[wrong], kind="stable")][:MISCLASSIFIED_SHOWN]
    images = viewable_images(np.asarray(X)[shown], metadata, standardized=standardized)
    if images is None:
        return []
    names = [str(name) for name in class_names]
    where = SPLIT_NAMES.get(split, split) if split else None
    line = f"most confidently misclassified: {len(shown)} of {count(len(wrong), 'error')}"
    line += f" on {len(y_true)} {where} images" if where else f" on {len(y_true)} images"
    plot_misclassified(
        images,
        [names[int(y_true[i])] for i in shown],
        [names[int(predicted[i])] for i in shown],
        [float(confidence[i]) for i in shown],
        directory / MISCLASSIFIED_FILE,
        title=f"{title}\n{line}" if title else line,
    )
    return [MISCLASSIFIED_FILE]


def write_results(
    directory: Path,
    X: np.ndarray,
    y_true: np.ndarray,
    scores: np.ndarray,
    class_names: Sequence[str],
    metadata: dict[str, Any],
    *,
    standardized: bool,
    title: str | None = None,
    split: str | None = None,
    pictures: bool = True,
) -> list[str]:
    """:func:`write_misclassified`, then :func:`write_confusion_matrix` (its CSV last) for the
    predictions of ``scores``; returns the file names written (the CSV only without
    ``pictures``)."""
    written: list[str] = []
    if pictures:
        written = write_misclassified(
            directory,
            X,
            y_true,
            scores,
            class_names,
            metadata,
            standardized=standardized,
            title=title,
            split=split,
        )
    predictions = np.asarray(scores).argmax(axis=1)
    confusion = write_confusion_matrix(
        directory, y_true, predictions, class_names, title=title, split=split, pictures=pictures
    )
    return confusion + written


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
