"""Inputs for a saved model: read CSV/IDX images, check their size, apply stored preprocessing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from numnet.errors import DataError, ModelFileError


def _describe(shape: tuple[int, ...]) -> str:
    return f"{'x'.join(str(d) for d in shape)} ({math.prod(shape)} values)"


def read_images(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read images from a Kaggle CSV (train or test format) or an IDX images file (raw or .gz).

    Returns
    -------
    X : ndarray, shape (N, P) for CSV or (N, H, W) for IDX
    y : ndarray of int64, shape (N,), or None when the file has no labels (test CSV, IDX)
    """
    from numnet.data import read_idx, read_kaggle_csv
    from numnet.data.validate import check_pixels
    from numnet.files import check_regular

    path = check_regular(path, "input file", DataError)
    if path.suffix.lower() == ".csv":
        return read_kaggle_csv(path)  # checks every pixel and label itself
    images = read_idx(path, expect_ndim=3)
    check_pixels(images, str(path))
    return images, None


class InputPipeline:
    """The preprocessing a model was trained with, rebuilt from its file's metadata.

    Parameters
    ----------
    model_config : dict
        ``model.get_config()``: gives the expected input size when no preprocessing is stored.
    metadata : dict
        The model file's metadata (``preprocessing``, ``class_names``, ``image_shape``).
    """

    def __init__(self, model_config: dict[str, Any], metadata: dict[str, Any]) -> None:
        from numnet.data import Standardizer

        record = metadata.get("preprocessing")
        self.standardizer = Standardizer.from_dict(record) if record else None
        if self.standardizer is not None:
            self.sample_shape = tuple(self.standardizer.sample_shape)
        else:
            dims = model_config.get("input_dim")
            if dims is None:
                raise ModelFileError("the model file's config has no input_dim; re-save the model")
            self.sample_shape = (dims,) if isinstance(dims, int) else tuple(dims)
        dims = model_config.get("input_dim")
        if dims is not None:
            expected = math.prod(dims) if isinstance(dims, list | tuple) else dims
            if math.prod(self.sample_shape) != expected:
                raise ModelFileError(
                    f"the model file's preprocessing expects samples of shape {self.sample_shape} "
                    f"but the model takes {expected} inputs; the file was edited, re-save the model"
                )
        num_classes = int(model_config.get("num_classes", 0))
        names = metadata.get("class_names")
        if isinstance(names, list) and len(names) == num_classes:
            self.class_names = [str(name) for name in names]
        else:
            self.class_names = [str(k) for k in range(num_classes)]

    def shape_images(self, X: np.ndarray, source: str) -> np.ndarray:
        """Reshape ``X`` (N, ...) to (N, *sample_shape), or raise DataError naming both sizes."""
        if tuple(X.shape[1:]) == self.sample_shape:
            return X
        if X.ndim >= 2 and math.prod(X.shape[1:]) == math.prod(self.sample_shape):
            return X.reshape(X.shape[0], *self.sample_shape)
        raise DataError(
            f"{source} has inputs of size {_describe(tuple(X.shape[1:]))} but the model expects "
            f"{_describe(self.sample_shape)}; use data of the kind the model was trained on"
        )

    def __call__(self, X: np.ndarray, source: str) -> np.ndarray:
        """Model inputs: ``X`` reshaped and standardised, float32 of shape (N, *sample_shape)."""
        X = self.shape_images(np.asarray(X), source)
        if self.standardizer is None:
            return X.astype(np.float32)
        return self.standardizer.transform(X)
