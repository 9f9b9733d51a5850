"""A model's inputs: raw data (as the files hold it) -> what the model takes, from its metadata.

One place for what ``numnet predict``, ``numnet evaluate`` and :class:`numnet.predictor.Predictor`
do to raw inputs: check their size against the model's, reshape flat rows to images, apply the
stored :class:`~numnet.data.Standardizer`, and warn when their range does not match the training
inputs' (:func:`~numnet.data.input_range.range_mismatch`).
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

import numpy as np

from numnet.data.input_range import range_mismatch
from numnet.data.preprocessing import Standardizer
from numnet.errors import DataError, InputRangeWarning, ModelFileError


def _describe(shape: tuple[int, ...]) -> str:
    return f"{'x'.join(str(d) for d in shape)} ({math.prod(shape)} values)"


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside numnet (the user's line, in a warning)."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("numnet"):
        frame, level = frame.f_back, level + 1
    return level


class InputPipeline:
    """The preprocessing a model was trained with, rebuilt from its file's metadata.

    Parameters
    ----------
    model_config : dict
        ``model.get_config()``: gives the expected input size when no preprocessing is stored.
    metadata : dict
        The model file's metadata (``preprocessing``, ``class_names``, ``input_range``).

    Attributes
    ----------
    standardizer : Standardizer or None
        The stored preprocessing (None: the model takes its inputs as they are).
    sample_shape : tuple of int
        The shape of one sample as the model takes it, e.g. ``(784,)`` or ``(1, 28, 28)``.
    class_names : list of str
        One name per class (``"0"``, ``"1"``, ... when the file stores none).
    input_range : dict or None
        ``{"min", "max", "mean"}`` of the raw training inputs, when the file stores it.
    """

    def __init__(self, model_config: dict[str, Any], metadata: dict[str, Any]) -> None:
        record = metadata.get("preprocessing")
        self.standardizer = Standardizer.from_dict(record) if record else None
        dims = model_config.get("input_dim")
        if self.standardizer is not None:
            self.sample_shape: tuple[int, ...] = tuple(self.standardizer.sample_shape or ())
        else:
            if dims is None:
                raise ModelFileError("the model file's config has no input_dim; re-save the model")
            self.sample_shape = (dims,) if isinstance(dims, int) else tuple(dims)
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
        stored = metadata.get("input_range")
        self.input_range: dict[str, Any] | None = stored if isinstance(stored, dict) else None

    def shape_images(self, X: np.ndarray, source: str) -> np.ndarray:
        """Reshape ``X`` (N, ...) to (N, *sample_shape), or raise DataError naming both sizes."""
        X = np.asarray(X)
        if tuple(X.shape[1:]) == self.sample_shape:
            return X
        if X.ndim >= 2 and math.prod(X.shape[1:]) == math.prod(self.sample_shape):
            return X.reshape(X.shape[0], *self.sample_shape)
        one = X.ndim >= 1 and math.prod(X.shape) == math.prod(self.sample_shape)
        hint = "; pass a batch of one, X[None]" if one else ""
        raise DataError(
            f"{source} has inputs of size {_describe(tuple(X.shape[1:]))} but the model expects "
            f"{_describe(self.sample_shape)} per row of a batch (N, ...){hint}; "
            "use data of the kind the model was trained on"
        )

    def check_range(self, X: np.ndarray, source: str) -> str | None:
        """Warn (:class:`~numnet.errors.InputRangeWarning`) when raw ``X`` does not look like the
        training inputs; returns the message, or None when it fits or no range is stored."""
        if self.input_range is None:
            return None
        message = range_mismatch(self.input_range, X)
        if message is not None:
            message = f"{source}: {message}"
            warnings.warn(message, InputRangeWarning, stacklevel=_caller_level())
        return message

    def __call__(self, X: np.ndarray, source: str) -> np.ndarray:
        """Model inputs from raw ``X``: reshaped and standardised, float32 (N, *sample_shape).

        Raw inputs whose range does not match the training inputs' give one
        :class:`~numnet.errors.InputRangeWarning`.
        """
        X = self.shape_images(np.asarray(X), source)
        self.check_range(X, source)
        if self.standardizer is None:
            return X.astype(np.float32)
        return self.standardizer.transform(X)
