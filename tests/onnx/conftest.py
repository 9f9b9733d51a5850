"""Shared pieces of the ONNX tests: the optional packages, a small Kaggle-format CSV.

The tests need the ``onnx`` extra (``pip install -e '.[onnx]'``: onnx and onnxruntime) and, for
the PyTorch import, torch. Without them they are skipped, except in CI (``CI=true``), where a
missing package is a failure: CI installs the extra, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest


def need(module: str):
    """Import ``module``, or skip the calling test module (fail instead when CI=true)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(
            f"{module} is not installed (pip install -e '.[onnx]')", allow_module_level=True
        )


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@pytest.fixture(scope="package")
def digits_csvs(tmp_path_factory):
    """``train.csv`` (400 labelled digits) and ``test.csv`` (200 unlabelled), Kaggle format."""
    from numnet.data import load_dataset
    from tests.cli.conftest import write_pixels_csv

    folder = tmp_path_factory.mktemp("csv")
    dataset = load_dataset("digits")
    write_pixels_csv(folder / "train.csv", dataset.X_train[:400], dataset.y_train[:400])
    write_pixels_csv(folder / "test.csv", dataset.X_test[:200])
    return folder / "train.csv", folder / "test.csv"
