"""A saved model as a predictor of raw data: ``numnet.load(path)`` returns a :class:`Predictor`.

The model file stores the preprocessing the model was trained with (the fitted
:class:`~numnet.data.Standardizer`); the Predictor applies it inside :meth:`Predictor.predict`,
:meth:`Predictor.predict_proba` and :meth:`Predictor.scores`, so they take data as the files hold
it (raw 0-255 pixels, flat rows or images), the same as ``numnet predict`` and the exported ONNX
graph. Everything else (``loss``, ``params``, ``get_config``, ...) is the model's own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from numnet.data.pipeline import InputPipeline
from numnet.errors import ModelFileError

__all__ = ["Predictor", "RUN_MODEL", "model_file"]

# The model file a run directory holds (written by ``numnet train``).
RUN_MODEL = "model.npz"

_OWN = frozenset({"model", "metadata", "preprocess", "pipeline", "_metadata", "_pipeline"})


def model_file(path: str | os.PathLike[str]) -> Path:
    """The model file of ``path``: the file itself, or ``path/model.npz`` for a run directory.

    Raises
    ------
    ModelFileError
        For a directory without ``model.npz`` (one line naming it); a missing file is reported
        by :func:`numnet.serialization.load_model` when it is read.
    """
    given = Path(path)
    if given.is_dir():
        inside = given / RUN_MODEL
        if not inside.is_file():
            best = given / "best.npz"
            hint = f" (or its checkpoint {best})" if best.is_file() else ""
            raise ModelFileError(
                f"{given} is a directory without {RUN_MODEL}; give a model file or the directory "
                f"of a finished run{hint}"
            )
        return inside
    return given  # a missing or foreign file is load_model's to report


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, shifted by each row's maximum so it never overflows."""
    out = np.array(scores, dtype=np.float64)
    if out.size:
        out -= out.max(axis=1, keepdims=True)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
    return out


class Predictor:
    """A classifier with the preprocessing of its training data: predictions from raw inputs.

    Parameters
    ----------
    model : Classifier
        A numnet classifier (``loss``, ``scores``, ``get_config``).
    metadata : dict, optional
        The model file's metadata (``preprocessing``, ``class_names``, ``input_range``, ...); by
        default ``model.metadata``, or none.
    preprocess : bool
        True (the default): inputs are raw data and the stored preprocessing is applied; False:
        inputs are already what the model takes (standardised), only their shape is checked.
        Each call can override it with its ``preprocess`` keyword.

    Attributes
    ----------
    model : Classifier
        The model itself; any attribute the Predictor does not define is the model's
        (``predictor.params is predictor.model.params``).
    metadata : dict
    preprocess : bool
    pipeline : InputPipeline
        The stored preprocessing and the expected sample shape, from ``metadata``.

    Notes
    -----
    Inputs are a batch ``(N, ...)``: ``N`` rows, each either flat (``P`` values) or shaped like
    one sample (e.g. ``(1, 28, 28)``). A size that does not match the model's is a one-line
    :class:`~numnet.errors.DataError`. Raw inputs whose range does not match the training inputs'
    (e.g. pixels scaled to 0-1 for a model trained on 0-255) give an
    :class:`~numnet.errors.InputRangeWarning`.
    """

    def __init__(
        self, model: Any, metadata: dict[str, Any] | None = None, preprocess: bool = True
    ) -> None:
        if isinstance(model, Predictor):
            model = model.model
        if not hasattr(model, "get_config") or not hasattr(model, "scores"):
            raise TypeError(f"Predictor takes a numnet classifier, got {type(model).__name__}")
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "preprocess", bool(preprocess))
        if metadata is None:
            metadata = getattr(model, "metadata", None) or {}
        self.metadata = metadata

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], preprocess: bool = True) -> Predictor:
        """Load a model file, or the ``model.npz`` of a run directory (see :func:`model_file`)."""
        from numnet.serialization import load_model

        model, metadata = load_model(model_file(path))
        return cls(model, metadata, preprocess=preprocess)

    # -- the Predictor's own state --------------------------------------------------------------

    @property
    def metadata(self) -> dict[str, Any]:
        """The model file's metadata; setting it rebuilds :attr:`pipeline`."""
        return self._metadata

    @metadata.setter
    def metadata(self, value: dict[str, Any]) -> None:
        value = dict(value)
        pipeline = InputPipeline(self.model.get_config(), value)
        object.__setattr__(self, "_metadata", value)
        object.__setattr__(self, "_pipeline", pipeline)
        self.model.metadata = value  # what numnet.load gave before the Predictor: keep it there

    @property
    def pipeline(self) -> InputPipeline:
        """Raw data -> model inputs, as stored in :attr:`metadata`."""
        return self._pipeline

    @property
    def class_names(self) -> list[str]:
        """One name per class, in the order of the columns of :meth:`predict_proba`."""
        return list(self._pipeline.class_names)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample as the model takes it, e.g. ``(784,)`` or ``(1, 28, 28)``."""
        return self._pipeline.sample_shape

    def inputs(self, X: Any, preprocess: bool | None = None, source: str = "X") -> np.ndarray:
        """What the model takes for the batch ``X``: ``(N, *sample_shape)``.

        With preprocessing (``preprocess`` None means :attr:`preprocess`) ``X`` is raw data and
        comes back standardised as in training (float32); without, ``X`` is only reshaped.
        ``source`` names ``X`` in error and warning messages.
        """
        use = self.preprocess if preprocess is None else bool(preprocess)
        if use:
            return self._pipeline(np.asarray(X), source)
        return self._pipeline.shape_images(np.asarray(X), source)

    # -- predictions ----------------------------------------------------------------------------

    def scores(self, X: Any, batch_size: int = 1000, preprocess: bool | None = None) -> np.ndarray:
        """Class scores (N, K) of the batch ``X`` (raw data unless ``preprocess`` is False)."""
        return self.model.scores(self.inputs(X, preprocess), batch_size=batch_size)

    def predict(self, X: Any, batch_size: int = 1000, preprocess: bool | None = None) -> np.ndarray:
        """Predicted labels (N,) int64 of the batch ``X``: the argmax of :meth:`scores`."""
        return self.scores(X, batch_size, preprocess).argmax(axis=1)

    def predict_proba(
        self, X: Any, batch_size: int = 1000, preprocess: bool | None = None
    ) -> np.ndarray:
        """Class probabilities (N, K) float64: the softmax of :meth:`scores`; rows sum to 1."""
        return softmax_rows(self.scores(X, batch_size, preprocess))

    # -- everything else is the model's ---------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:  # not set yet (e.g. during copying): do not recurse into the model
            raise AttributeError(name)
        return getattr(self.model, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN or name in type(self).__dict__:
            object.__setattr__(self, name, value)
        else:
            setattr(self.model, name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self.model)))

    def __repr__(self) -> str:
        return f"Predictor({self.model!r}, preprocess={self.preprocess})"
