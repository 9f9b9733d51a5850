"""``numnet evaluate``: accuracy, per-class accuracy and confusion matrix of a saved model.

Honest about what it scored. Every result names the data (dataset or file), the number of rows
and the split, and a score on rows the model has seen is never called a test score:

* without ``--data``: the test split of the model's training dataset when it has a labelled one
  (``digits``, ``mnist``, a directory of IDX files); otherwise (a Kaggle ``train.csv``) the
  validation rows that training held out of that file, rebuilt from the stored seed and fraction
  and called a validation score (they chose the best epoch), or the training rows themselves when
  training kept none back (``--val-fraction 0``);
* with ``--data``: that file or dataset. A file whose content (SHA-256) is one the model was
  trained on (the training data's identity is stored in the model file) is reported as the
  training data, "not a test score".

Output files go to ``MODEL's directory/evaluate``, or ``evaluate-2``, ``evaluate-3``, ... when
that already holds files: an evaluation never overwrites an earlier one. An ``--out-dir`` that
already holds a confusion matrix is refused unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from numnet.cli.inputs import InputPipeline, model_file, read_images
from numnet.cli.report import per_class_accuracy, picture_title, write_results
from numnet.cli.rundir import is_nonempty_dir, prepare_run_dir
from numnet.errors import ConfigError, DataError
from numnet.words import count

OUTPUT_FILES = ("confusion_matrix.csv", "confusion_matrix.png", "misclassified.png")
TEST, VALIDATION, TRAINING, OTHER = "test", "validation", "training", "other"


@dataclass
class Scored:
    """The labelled rows an evaluation scores and what they are.

    Attributes
    ----------
    X, y : ndarray
        Raw inputs (as the files hold them) and labels; ``prepared`` says X is already the model's.
    data : str
        The dataset or file, e.g. ``"digits test split"`` or ``/data/train.csv``.
    split : str
        :data:`TEST`, :data:`VALIDATION`, :data:`TRAINING` or :data:`OTHER` (a file that is not
        the training data: the model file cannot say whether it saw those rows).
    note : str
        Said after the result when the rows are not a test set ("" otherwise).
    """

    X: np.ndarray
    y: np.ndarray
    data: str
    split: str
    note: str = ""
    prepared: bool = False


def _is_test_file(entry: dict[str, Any]) -> bool:
    name = Path(entry["path"]).name
    return name.startswith("t10k") or name == "test.csv"


def _identity_files(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    from numnet.cli.data_identity import check_identity_form

    identity = metadata.get("data_identity")
    if identity is None:
        return []
    return list(check_identity_form(identity, "the model file")["files"])


def training_files(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored identity entries of the files the model trained on (test files left out)."""
    return [entry for entry in _identity_files(metadata) if not _is_test_file(entry)]


def _role(path: Path, metadata: dict[str, Any]) -> str | None:
    """:data:`TRAINING` when ``path``'s content is a file the model trained on, :data:`TEST` when
    it is its dataset's test file, :data:`OTHER` otherwise; None without a stored identity."""
    from numnet.cli.data_identity import file_sha256

    if "data_identity" not in metadata:
        return None
    _, sha = file_sha256(path)
    for entry in _identity_files(metadata):
        if entry["sha256"] == sha:
            return TEST if _is_test_file(entry) else TRAINING
    return OTHER


def _rows_note(metadata: dict[str, Any]) -> str:
    rows = metadata.get("data_rows")
    if not isinstance(rows, dict):
        return "the model trained on rows of this file"
    trained, validated = rows.get("train"), rows.get("validation")
    if not validated:
        return f"the model trained on {count(int(trained), 'row')} of this file"
    return (
        f"the model trained on {count(int(trained), 'row')} of this file and chose its best "
        f"epoch on {count(int(validated), 'other row')}"
    )


def _file_split(path: Path, metadata: dict[str, Any]) -> tuple[str, str]:
    """``(split, note)`` of a labelled file given with ``--data``."""
    role = _role(path, metadata)
    if role == TRAINING:
        return TRAINING, f"this is the model's training data ({_rows_note(metadata)})"
    if role == TEST:
        return TEST, ""
    if role is None:
        return OTHER, (
            "the model file does not record its training data, so numnet cannot tell whether "
            "these rows were used in training"
        )
    return OTHER, ""


def _stored_config(metadata: dict[str, Any]) -> dict[str, Any]:
    from numnet.cli.config import defaults

    stored = metadata.get("train_config")
    if not isinstance(stored, dict) or not isinstance(stored.get("data"), str):
        raise ConfigError("the model file does not name its training data; pass --data")
    config = defaults()
    config.update({key: value for key, value in stored.items() if key in config})
    return config


def _held_out_rows(config: dict[str, Any], metadata: dict[str, Any]) -> Scored:
    """The validation rows a run held out of its training file (or its training rows)."""
    from numnet.cli.build import prepare_data
    from numnet.cli.data_identity import data_identity

    source = config["data"]
    stored = training_files(metadata)
    current = data_identity(source, config["data_dir"])["files"]
    if stored and [f["sha256"] for f in current[: len(stored)]] != [f["sha256"] for f in stored]:
        raise ConfigError(
            f"{source} is no longer the file the model was trained on (its content changed or it "
            "is missing), so its held-out rows cannot be rebuilt; pass --data with labelled data"
        )
    data = prepare_data(config)  # the same seed and fraction give the same split as in training
    if data.val_is_train:
        note = "the run kept no validation rows (--val-fraction 0): these are its training rows"
        return Scored(data.X_train, data.y_train, source, TRAINING, note, prepared=True)
    note = (
        f"{source} has no labelled test split; these rows were held out from training but chose "
        "the best epoch"
    )
    return Scored(data.X_val, data.y_val, source, VALIDATION, note, prepared=True)


def _labelled_data(args: argparse.Namespace, metadata: dict[str, Any]) -> Scored:
    """The rows to score: a dataset's test split, a labelled file, or the held-out rows."""
    from numnet.data import load_dataset, read_idx

    if args.labels is not None:
        if args.data is None:
            raise ConfigError("--labels needs --data IMAGES (an IDX images file)")
        X, _ = read_images(args.data)
        y = read_idx(args.labels, expect_ndim=1).astype(np.int64)
        if len(y) != len(X):
            raise DataError(
                f"{args.data} holds {count(len(X), 'image')} but {args.labels} holds "
                f"{count(len(y), 'label')}; "
                "use matching files"
            )
        return Scored(X, y, str(args.data), *_file_split(Path(args.data), metadata))
    if args.data is None:
        config = _stored_config(metadata)
        path = Path(config["data"])
        if not path.is_file():  # a dataset name or directory: its test split when it has one
            dataset = load_dataset(config["data"], args.data_dir or config["data_dir"])
            if dataset.X_test is not None and dataset.y_test is not None:
                return Scored(dataset.X_test, dataset.y_test, f"{dataset.name} test split", TEST)
        return _held_out_rows(config, metadata)
    path = Path(args.data)
    if path.is_file():
        X, y = read_images(path)
        if y is None:
            raise DataError(
                f"{path} has no labels to evaluate against; give a labelled train-format CSV, "
                "or IDX images with --labels"
            )
        return Scored(X, y, str(path), *_file_split(path, metadata))
    dataset = load_dataset(args.data, args.data_dir)
    if dataset.y_test is None or dataset.X_test is None:
        raise DataError(
            f"dataset {dataset.name} has no labelled test split; pass a labelled file with --data"
        )
    return Scored(dataset.X_test, dataset.y_test, f"{dataset.name} test split", TEST)


def output_dir(args: argparse.Namespace, model_path: Path) -> Path:
    """Where this evaluation writes: ``--out-dir`` (refused if it holds a confusion matrix and no
    ``--force``), else the first of ``evaluate``, ``evaluate-2``, ... beside the model that is
    missing or empty."""
    if args.out_dir:
        out = Path(args.out_dir)
        taken = [name for name in OUTPUT_FILES if (out / name).exists()]
        if taken and not args.force:
            raise ConfigError(
                f"--out-dir {out} already holds {', '.join(taken)}; pass --force to overwrite, "
                "or choose another --out-dir"
            )
        return out
    base = model_path.parent / "evaluate"
    candidate, k = base, 1
    while is_nonempty_dir(candidate) or (candidate.exists() and not candidate.is_dir()):
        k += 1
        candidate = base.with_name(f"evaluate-{k}")
    return candidate


def headline(model: str, scored: Scored, accuracy: float) -> str:
    """The result line: model, data, rows, split and what the accuracy is."""
    rows = count(len(scored.y), "image")
    if scored.split == TEST:
        return f"{model} on {scored.data} ({rows}): test accuracy {accuracy:.4f}"
    if scored.split == VALIDATION:
        return (
            f"{model} on the validation split of {scored.data} ({rows}): validation accuracy "
            f"{accuracy:.4f} (not a test score)"
        )
    if scored.split == TRAINING:
        return (
            f"{model} on {scored.data} ({rows}): accuracy {accuracy:.4f} on the training data "
            "(not a test score)"
        )
    return (
        f"{model} on {scored.data} ({rows}, not the model's training data): accuracy {accuracy:.4f}"
    )


def run_evaluate(args: argparse.Namespace) -> int:
    """Run ``numnet evaluate``; returns 0."""
    from numnet.serialization import load_model

    model_path = model_file(args.model)
    model, metadata = load_model(model_path)
    model.set_kernels(args.kernels)
    pipeline = InputPipeline(model.get_config(), metadata)
    scored = _labelled_data(args, metadata)
    inputs = scored.X if scored.prepared else pipeline(scored.X, scored.data)
    y = scored.y
    num_classes = len(pipeline.class_names)
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise DataError(
            f"{scored.data} has labels up to {int(y.max())} but the model knows {num_classes} "
            "classes; evaluate it on data with the same classes"
        )
    out_dir = output_dir(args, model_path)
    prepare_run_dir(out_dir, allow_existing=True)
    scores = model.scores(inputs)
    predictions = scores.argmax(axis=1)
    accuracy = float(np.mean(predictions == y)) if len(y) else float("nan")
    print(headline(str(model_path), scored, accuracy))
    if scored.note:
        print(f"note: {scored.note}")
    width = max(len("class"), *(len(name) for name in pipeline.class_names))
    print(f"{'class':<{width}}  {'count':>6}  accuracy")
    rows = per_class_accuracy(y, predictions, num_classes)
    for name, (class_count, class_acc) in zip(pipeline.class_names, rows, strict=True):
        shown = f"{class_acc:.4f}" if class_count else "-"
        print(f"{name:<{width}}  {class_count:>6}  {shown}")
    written = write_results(
        out_dir,
        scored.X,
        y,
        scores,
        pipeline.class_names,
        metadata,
        standardized=scored.prepared,
        title=picture_title(model_path, model.get_config(), scored.data),
        split=None if scored.split == OTHER else scored.split,
    )
    print(f"wrote {', '.join(str(out_dir / name) for name in written)}")
    return 0
