"""Helpers that write tiny Kaggle-style CSV files for the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def header(num_pixels: int, labels: bool) -> str:
    names = [f"pixel{k}" for k in range(num_pixels)]
    return ",".join((["label"] if labels else []) + names)


def write_csv(
    path: Path, X: np.ndarray, y: np.ndarray | None = None, header_line: str | None = None
) -> Path:
    """Write ``X`` (N, P) and optional labels ``y`` as a Kaggle train/test CSV."""
    if header_line is None:
        header_line = header(X.shape[1], y is not None)
    rows = X if y is None else np.column_stack([y, X])
    lines = [header_line] + [",".join(str(v) for v in row) for row in rows.tolist()]
    path.write_text("\n".join(lines) + "\n")
    return path


def tiny_train(rng_seed: int = 0, n: int = 6, side: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(rng_seed)
    X = rng.integers(0, 256, size=(n, side * side)).astype(np.uint8)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    return X, y
