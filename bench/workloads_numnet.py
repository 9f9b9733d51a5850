"""numnet side of the workloads, written the way a user would train with numnet's public API.

Per batch: ``solver.step(X[idx], y[idx])``, the Solver's own training step (``model.loss`` for the
loss and gradients, then the optimizer's update: the fused in-place kernel the Solver uses by
default, :mod:`numnet.kernels.flat_update`, which computes what the pure transformation
``optim.SGD(...).update`` would). Inference is ``model.loss(X_batch)`` (test
mode) on a new model, or on the model a user holds after ``Solver.train()`` and after
``numnet.save`` / ``numnet.load`` (see :func:`held_cnn`). When numnet cannot be imported, or a
public name the benchmark uses is missing (a partial checkout, an older version), the builders
raise :class:`bench.harness.Unavailable` and the column reads "n/a".
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness import HELD_MODELS, Runner, ShortTraining, Unavailable


def _numnet() -> tuple[Any, Any]:
    """Return the ``numnet.models`` and ``numnet.optim`` modules, or raise Unavailable."""
    try:
        from numnet import models, optim
    except ImportError as exc:
        raise Unavailable(f"numnet API missing: {exc}") from exc
    missing = [
        f"numnet.{module.__name__.rsplit('.', 1)[-1]}.{name}"
        for module, names in (
            (models, ("FullyConnectedNet", "ConvNet")),
            (optim, ("SGD", "apply_updates")),
        )
        for name in names
        if not hasattr(module, name)
    ]
    if missing:
        raise Unavailable(f"numnet API missing: {', '.join(missing)}")
    return models, optim


def mlp_model(seed: int = 0) -> Any:
    """numnet's FullyConnectedNet 784-500-200-10 in float32."""
    models, _ = _numnet()
    return models.FullyConnectedNet(
        hidden_dims=[500, 200], input_dim=784, num_classes=10, dtype=np.float32, seed=seed
    )


def cnn_model(seed: int = 0) -> Any:
    """numnet's ConvNet conv32-pool-conv64-pool-fc128-fc10 on (1, 28, 28) in float32."""
    models, _ = _numnet()
    return models.ConvNet(
        input_dim=(1, 28, 28),
        conv_channels=(32, 64),
        kernel_size=3,
        pad=1,
        pool_size=2,
        hidden_dims=(128,),
        num_classes=10,
        dtype=np.float32,
        seed=seed,
    )


def _train_batches(
    model: Any, X: np.ndarray, y: np.ndarray, batches: list[np.ndarray], lr: float, momentum: float
) -> Runner:
    """Return ``run()`` doing one optimiser step per index array in ``batches``.

    The Solver is only the step's driver here: its data are the benchmark's arrays (checked once,
    untimed), and the batches are the benchmark's, the same for every framework.
    """
    import numnet

    _, optim = _numnet()
    first = batches[0]
    solver = numnet.Solver(
        model,
        {"X_train": X, "y_train": y, "X_val": X[first], "y_val": y[first]},
        optimizer=optim.SGD(lr, momentum=momentum),
        batch_size=len(first),
        verbose=False,
    )

    def run() -> None:
        for idx in batches:
            solver.step(X[idx], y[idx])

    return run


def mlp_epoch(
    X: np.ndarray, y: np.ndarray, batches: list[np.ndarray], lr: float, seed: int = 0
) -> Runner:
    """MLP 784-500-200-10, plain SGD; ``run()`` is one pass over ``batches``.

    Parameters
    ----------
    X : ndarray, shape (N, 784), float32
    y : ndarray, shape (N,), int64
    batches : list of ndarray of int64
        Row indices of each batch, in order (the same for every framework).
    """
    model = mlp_model(seed)
    run = _train_batches(model, X, y, batches, lr, momentum=0.0)
    _train_batches(model, X, y, batches[:2], lr, momentum=0.0)()  # first-call effects, untimed
    return run


def cnn_steps(
    X: np.ndarray,
    y: np.ndarray,
    batches: list[np.ndarray],
    lr: float,
    momentum: float,
    seed: int = 0,
) -> Runner:
    """The CNN trained with SGD + momentum; ``run()`` is one step per entry of ``batches``.

    ``X`` has shape (N, 1, 28, 28), float32.
    """
    return _train_batches(cnn_model(seed), X, y, batches, lr, momentum)


def held_cnn(held: str, training: ShortTraining | None, seed: int = 0) -> Any:
    """The CNN as a user holds it: new, after ``Solver.train()``, or trained, saved and loaded.

    ``"trained"`` runs :class:`numnet.Solver` for one epoch over ``training``'s rows (SGD with
    momentum, batches the size of ``training.batches[0]``, the Solver's own shuffling and its
    end-of-epoch accuracy checks); ``"loaded"`` then writes the model with ``numnet.save`` and
    returns what ``numnet.load`` rebuilds from the file.
    """
    if held not in HELD_MODELS:
        raise ValueError(f"held must be one of {HELD_MODELS}, got {held!r}")
    model = cnn_model(seed)
    if held == "fresh":
        return model
    if training is None:
        raise ValueError(f"held={held!r} needs a ShortTraining")
    import numnet

    _, optim = _numnet()
    rows = training.rows
    data = {
        "X_train": training.images[rows],
        "y_train": training.labels[rows],
        "X_val": training.images[rows[: len(training.batches[0])]],
        "y_val": training.labels[rows[: len(training.batches[0])]],
    }
    solver = numnet.Solver(
        model,
        data,
        optimizer=optim.SGD(training.lr, momentum=training.momentum),
        batch_size=len(training.batches[0]),
        num_epochs=1,
        verbose=False,
        seed=seed,
    )
    solver.train()
    if held == "trained":
        return model
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cnn.npz"
        numnet.save(path, model)
        return numnet.load(path)


def cnn_inference(
    X: np.ndarray,
    batch_size: int,
    seed: int = 0,
    held: str = "fresh",
    training: ShortTraining | None = None,
) -> Runner:
    """Scores of the CNN (``model.loss(X_batch)``, test mode) for all of ``X``, batch by batch.

    ``held`` and ``training`` choose the model (see :func:`held_cnn`).
    """
    model = held_cnn(held, training, seed)

    def run() -> None:
        for start in range(0, len(X), batch_size):
            model.loss(X[start : start + batch_size])

    return run
