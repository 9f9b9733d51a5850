"""``numnet evaluate``: accuracy, per-class accuracy and confusion matrix of a saved model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from numnet.cli.inputs import InputPipeline, read_images
from numnet.cli.report import per_class_accuracy, write_confusion_matrix
from numnet.cli.rundir import prepare_run_dir
from numnet.errors import ConfigError, DataError


def _labelled_data(args: argparse.Namespace, metadata: dict[str, Any]) -> tuple[Any, Any, str]:
    """``(X, y, description)`` of the evaluation data: a dataset's test split or a labelled file."""
    from numnet.data import load_dataset, read_idx

    if args.labels is not None:
        if args.data is None:
            raise ConfigError("--labels needs --data IMAGES (an IDX images file)")
        X, _ = read_images(args.data)
        y = read_idx(args.labels, expect_ndim=1).astype(np.int64)
        if len(y) != len(X):
            raise DataError(
                f"{args.data} holds {len(X)} images but {args.labels} holds {len(y)} labels; "
                "use matching files"
            )
        return X, y, str(args.data)
    source = args.data if args.data is not None else metadata.get("train_config", {}).get("data")
    if source is None:
        raise ConfigError("the model file does not name its training data; pass --data")
    path = Path(source)
    if path.is_file() and (path.suffix.lower() == ".csv" or args.data is not None):
        X, y = read_images(path)
        if y is None:
            raise DataError(
                f"{path} has no labels to evaluate against; give a labelled train-format CSV, "
                "or IDX images with --labels"
            )
        return X, y, str(path)
    dataset = load_dataset(source, args.data_dir)
    if dataset.y_test is None or dataset.X_test is None:
        raise DataError(
            f"dataset {dataset.name} has no labelled test split; pass a labelled file with --data"
        )
    return dataset.X_test, dataset.y_test, f"{dataset.name} test split"


def run_evaluate(args: argparse.Namespace) -> int:
    """Run ``numnet evaluate``; returns 0."""
    from numnet.serialization import load_model

    model, metadata = load_model(args.model)
    model.set_kernels(args.kernels)
    pipeline = InputPipeline(model.get_config(), metadata)
    X, y, description = _labelled_data(args, metadata)
    inputs = pipeline(X, description)
    num_classes = len(pipeline.class_names)
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise DataError(
            f"{description} has labels up to {int(y.max())} but the model knows {num_classes} "
            "classes; evaluate it on data with the same classes"
        )
    out_dir = Path(args.out_dir) if args.out_dir else Path(args.model).parent / "evaluate"
    prepare_run_dir(out_dir, allow_existing=True)
    predictions = model.predict(inputs)
    accuracy = float(np.mean(predictions == y)) if len(y) else float("nan")
    print(f"{args.model} on {description} ({len(y)} images): accuracy {accuracy:.4f}")
    width = max(len("class"), *(len(name) for name in pipeline.class_names))
    print(f"{'class':<{width}}  {'count':>6}  accuracy")
    rows = per_class_accuracy(y, predictions, num_classes)
    for name, (count, class_acc) in zip(pipeline.class_names, rows, strict=True):
        shown = f"{class_acc:.4f}" if count else "-"
        print(f"{name:<{width}}  {count:>6}  {shown}")
    written = write_confusion_matrix(out_dir, y, predictions, pipeline.class_names)
    print(f"wrote {', '.join(str(out_dir / name) for name in written)}")
    return 0
