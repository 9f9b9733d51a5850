"""Inputs of the commands that use a saved model: its file (or run directory) and the images.

The preprocessing a model applies to raw images lives in :class:`numnet.data.InputPipeline`,
the resolution of a run directory to its model file in :func:`numnet.predictor.model_file`; both
are re-exported here. :class:`numnet.predictor.Predictor` runs the pipeline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from numnet.data.pipeline import InputPipeline
from numnet.errors import DataError
from numnet.predictor import model_file

__all__ = ["InputPipeline", "model_file", "read_images"]


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
