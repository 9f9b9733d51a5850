"""numnet: neural networks from scratch in NumPy, with backward passes you can read and check.

Quick tour::

    import numnet
    from numnet.models import FullyConnectedNet
    model = FullyConnectedNet([100], input_dim=64, num_classes=10, reg=1e-3, seed=0)
    loss, grads = model.loss(X, y)             # CS231n contract
    solver = numnet.Solver(model, data, update_rule="adam", num_epochs=5, seed=0)
    solver.train()
    numnet.save("model.npz", model)            # .npz + JSON metadata, never pickle
    model = numnet.load("model.npz")          # or a run directory; takes raw data:
    labels, probs = model.predict(X_raw), model.predict_proba(X_raw)

Subpackages: :mod:`numnet.functional` (the reference: every layer's forward and backward in
plain NumPy, next to its derivation), :mod:`numnet.layers` (the same under CS231n's names),
:mod:`numnet.kernels` (fast kernels beside the reference, chosen for a model by one planning
step), :mod:`numnet.nn`, :mod:`numnet.models`, :mod:`numnet.optim`, :mod:`numnet.data`,
:mod:`numnet.callbacks`, :mod:`numnet.layer_table`, :mod:`numnet.gradcheck`. Heavier pieces are
imported on first use. ``with numnet.use_kernels("reference"):`` runs every model inside the
block on the reference functions.
"""

from __future__ import annotations

import importlib
from typing import Any

from numnet._version import __version__

__all__ = [
    "Solver",
    "__version__",
    "export_onnx",
    "import_onnx",
    "load",
    "save",
    "use_kernels",
]

_SUBMODULES = {
    "callbacks",
    "data",
    "errors",
    "functional",
    "gradcheck",
    "init",
    "kernels",
    "layer_table",
    "layer_utils",
    "layers",
    "models",
    "nn",
    "onnx_io",
    "optim",
    "serialization",
    "solver",
    "vis",
}


def save(path: Any, model: Any, metadata: dict | None = None) -> None:
    """Save ``model`` to ``path`` as ``.npz`` + JSON metadata (atomic, never pickle).

    ``model`` may be a :class:`~numnet.predictor.Predictor` (what :func:`load` returns): its
    classifier is saved, with its metadata unless ``metadata`` is given.
    """
    from numnet.predictor import Predictor
    from numnet.serialization import save_model

    if isinstance(model, Predictor):
        metadata = model.metadata if metadata is None else metadata
        model = model.model
    save_model(path, model, metadata)


def load(path: Any, preprocess: bool = True) -> Any:
    """A saved model (a file, or the ``model.npz`` of a run directory) as a predictor of raw data.

    Returns a :class:`numnet.predictor.Predictor`: ``predict(X)``, ``predict_proba(X)`` and
    ``scores(X)`` take data as the files hold it (raw pixels, flat rows or images) and apply the
    preprocessing stored with the model; ``preprocess=False`` takes data already transformed.
    Everything else is the model's (``.model``; ``loss``, ``params``, ... are passed through),
    and the file's metadata is ``.metadata``. Names, shapes and dtypes of every array are checked.
    Raises :class:`numnet.errors.ModelFileError` for a missing, truncated or foreign file.
    """
    from numnet.predictor import Predictor

    return Predictor.from_file(path, preprocess=preprocess)


def __getattr__(name: str) -> Any:
    if name == "Solver":
        from numnet.solver import Solver

        return Solver
    if name == "use_kernels":
        from numnet.kernels.plan import use_kernels

        return use_kernels
    if name in ("export_onnx", "import_onnx"):
        from numnet import onnx_io

        return getattr(onnx_io, name)
    if name in _SUBMODULES:
        return importlib.import_module(f"numnet.{name}")
    raise AttributeError(f"module 'numnet' has no attribute {name!r}")
