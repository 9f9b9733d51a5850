"""``numnet info MODEL|RUN_DIR``: what a saved model is, and how it was made.

:func:`describe` gives the architecture (each layer with its output shape and parameter count,
and the total), the stored preprocessing, the training data (name, files with their hash, rows)
and the run's results stored in the model file. ``numnet info`` adds the run's ``metrics.csv``
when there is one; ``numnet train`` prints :func:`describe` before it starts.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from numnet.words import count

Shape = tuple[int, ...]


def _shape_text(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


def _output_shape(layer: Any, shape: Shape) -> Shape:
    """The shape of one sample after ``layer``, from the layer's settings (no forward pass)."""
    from numnet.nn import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d

    if isinstance(layer, Linear):
        return (int(layer.out_features),)
    if isinstance(layer, Conv2d) and len(shape) == 3:
        k, stride, pad = layer.kernel_size, layer.conv_param["stride"], layer.conv_param["pad"]
        size = [(d + 2 * pad - k) // stride + 1 for d in shape[1:]]
        return (int(layer.out_channels), *size)
    if isinstance(layer, MaxPool2d | AvgPool2d) and len(shape) == 3:
        pool = layer.pool_param
        height = (shape[1] - pool["pool_height"]) // pool["stride"] + 1
        width = (shape[2] - pool["pool_width"]) // pool["stride"] + 1
        return (shape[0], height, width)
    if isinstance(layer, Flatten):
        return (math.prod(shape),)
    return shape


def layer_rows(model: Any) -> Iterator[tuple[str, str, Shape, int]]:
    """``(block, layer, output shape, parameters)`` for every layer of ``model.net``, in order.

    ``block`` is the suffix of the layer's arrays (``W1``, ``gamma1`` are block 1).
    """
    dims = model.input_dim
    shape: Shape = (int(dims),) if isinstance(dims, int) else tuple(int(d) for d in dims)

    def walk(net: Any, shape: Shape) -> Iterator[tuple[str, str, Shape, int]]:
        for layer, name in zip(net.layers, net.names, strict=True):
            if hasattr(layer, "layers") and hasattr(layer, "names"):  # a nested Sequential
                for row in walk(layer, shape):
                    shape = row[2]
                    yield row
                continue
            shape = _output_shape(layer, shape)
            size = sum(int(value.size) for value in layer.params.values())
            yield name, repr(layer), shape, size

    yield from walk(model.net, shape)


def _architecture(model: Any) -> list[str]:
    rows = list(layer_rows(model))
    dims = model.input_dim
    first: Shape = (int(dims),) if isinstance(dims, int) else tuple(int(d) for d in dims)
    width = max(len("layer"), *(len(f"{block}  {text}") for block, text, _, _ in rows))
    shape_width = max(len("output"), *(len(_shape_text(shape)) for _, _, shape, _ in rows))
    total = sum(size for *_, size in rows)
    buffers = sum(int(value.size) for value in model.buffers.values())
    dtype = getattr(model.dtype, "__name__", str(model.dtype))
    lines = [
        f"model: {type(model).__name__}, {count(model.num_classes, 'class', 'classes')}, {dtype}",
        f"  {'layer':<{width}}  {'output':>{shape_width}}  {'parameters':>10}",
        f"  {'input':<{width}}  {_shape_text(first):>{shape_width}}",
    ]
    for block, text, shape, size in rows:
        label = f"{block}  {text}"
        shown = f"{size:,}" if size else ""
        row = f"  {label:<{width}}  {_shape_text(shape):>{shape_width}}  {shown:>10}"
        lines.append(row.rstrip())
    extra = f" (and {buffers:,} running statistics)" if buffers else ""
    noun = "trainable parameter" if total == 1 else "trainable parameters"
    lines.append(f"  total: {total:,} {noun}{extra}")
    return lines


def _scale_text(scale: float) -> str:
    inverse = 1.0 / scale
    if abs(inverse - round(inverse)) < 1e-9 * inverse and round(inverse) != 1:
        return f"x / {round(inverse)}"
    return "x" if scale == 1 else f"x * {scale:g}"


def _preprocessing(metadata: dict[str, Any]) -> list[str]:
    record = metadata.get("preprocessing")
    if not record:
        return ["preprocessing: none stored (the model takes its inputs as they are)"]
    over = {
        "feature": "per input value (pixel)",
        "channel": "per channel",
        "global": "over all values",
    }
    mode = record.get("mode")
    scale = _scale_text(float(record.get("scale", 1.0)))
    shape = _shape_text(tuple(record.get("sample_shape") or ()))
    if mode == "none":
        text = f"preprocessing: {scale}, samples of shape {shape}"
    else:
        where = over.get(str(mode), str(mode))
        text = (
            f"preprocessing: ({scale} - mean) / std, mean and std {where} of the training "
            f"inputs; samples of shape {shape}"
        )
    lines = [text]
    stats = metadata.get("input_range")
    if isinstance(stats, dict) and {"min", "max"} <= stats.keys():
        mean = f", mean {float(stats['mean']):.4g}" if "mean" in stats else ""
        lines.append(
            f"raw training inputs: {float(stats['min']):g} to {float(stats['max']):g}{mean} "
            "(predict and evaluate warn about inputs outside this range)"
        )
    return lines


def _training_data(metadata: dict[str, Any]) -> list[str]:
    name = metadata.get("dataset") or "not stored"
    rows = metadata.get("data_rows")
    shown = ""
    if isinstance(rows, dict):
        shown = f" ({rows.get('train', '?')} train / {rows.get('validation', '?')} validation rows)"
    lines = [f"training data: {name}{shown}"]
    identity = metadata.get("data_identity")
    files = identity.get("files") if isinstance(identity, dict) else None
    for entry in files or []:
        if isinstance(entry, dict):
            digest = str(entry.get("sha256", ""))[:16]
            size = entry.get("size")
            size_text = f"{size:,} bytes, " if isinstance(size, int) else ""
            lines.append(f"  {entry.get('path')} ({size_text}sha256 {digest}...)")
    names = metadata.get("class_names")
    if isinstance(names, list) and names:
        lines.append(f"classes: {', '.join(str(n) for n in names)}")
    return lines


def _settings(metadata: dict[str, Any]) -> list[str]:
    config = metadata.get("train_config")
    if not isinstance(config, dict):
        return []
    keys = ("model", "optimizer", "lr", "batch_size", "epochs", "dropout", "reg", "seed")
    shown = [f"{key} {config[key]}" for key in keys if config.get(key) is not None]
    return [f"settings: {', '.join(shown)}"] if shown else []


def _results(metadata: dict[str, Any]) -> list[str]:
    best, epochs = metadata.get("best_val_acc"), metadata.get("epochs_trained")
    if best is None and epochs is None:
        return []
    parts = []
    if epochs is not None:
        parts.append(f"{count(int(epochs), 'epoch')} trained")
    if best is not None:
        parts.append(f"best validation accuracy {float(best):.4f}")
    return [f"run: {', '.join(parts)}"]


def describe(model: Any, metadata: dict[str, Any]) -> str:
    """A multi-line summary of ``model`` and its file's ``metadata`` (no trailing newline).

    Architecture (each layer, its output shape for one sample and its parameter count; the
    total), preprocessing and the raw range of the training inputs, the training data (name,
    files with size and hash, rows), the training settings and the stored results.
    """
    metadata = dict(metadata or {})
    sections = [
        _architecture(model),
        _preprocessing(metadata),
        _training_data(metadata),
        _settings(metadata) + _results(metadata),
    ]
    return "\n".join(line for section in sections for line in section)


def metrics_summary(path: Path) -> list[str]:
    """Lines about a run's ``metrics.csv``: epochs, best validation accuracy and its epoch."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return [f"metrics: {path} could not be read"]
    scored = []
    for row in rows:
        try:
            scored.append((float(row["val_acc"]), int(row["epoch"]), row))
        except (KeyError, TypeError, ValueError):
            continue
    if not scored:
        return [f"metrics: {path} has no epochs yet"]
    best_acc, best_epoch, _ = max(scored, key=lambda item: (item[0], -item[1]))
    last = scored[-1][2]
    return [
        f"metrics ({path}): {count(len(scored), 'epoch')}; best validation accuracy "
        f"{best_acc:.4f} at epoch {best_epoch}; last epoch: train loss {last.get('train_loss')}, "
        f"validation loss {last.get('val_loss')}"
    ]


def run_info(args: argparse.Namespace) -> int:
    """Run ``numnet info``; returns 0."""
    from numnet.cli.inputs import model_file
    from numnet.serialization import load_model

    path = model_file(args.model)
    model, metadata = load_model(path)
    print(f"{path}")
    print(describe(model, metadata))
    metrics = path.parent / "metrics.csv"
    if metrics.is_file():
        print("\n".join(metrics_summary(metrics)))
    return 0
