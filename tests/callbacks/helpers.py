"""Shared test helpers: a synthetic dataset, small real models, a recording fake model."""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.callbacks import Callback
from numnet.models import FullyConnectedNet


def blobs(n_train: int = 240, n_val: int = 90, dim: int = 8, classes: int = 3, seed: int = 0):
    """Gaussian blobs: an easy, deterministic classification data dict (float32)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(classes, dim))
    total = n_train + n_val
    y = rng.integers(0, classes, size=total)
    X = (centers[y] + rng.normal(size=(total, dim))).astype(np.float32)
    return {
        "X_train": X[:n_train],
        "y_train": y[:n_train],
        "X_val": X[n_train:],
        "y_val": y[n_train:],
    }


def small_net(seed: int = 0, **options: Any) -> FullyConnectedNet:
    options.setdefault("weight_scale", 0.1)
    return FullyConnectedNet([16], input_dim=8, num_classes=3, seed=seed, **options)


class RecordingSoftmax:
    """Softmax regression with a plain ``params`` dict that records every training batch it sees."""

    def __init__(self, dim: int, classes: int) -> None:
        self.params = {"W": np.zeros((dim, classes)), "b": np.zeros(classes)}
        self.batches: list[np.ndarray] = []

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        self.batches.append(X.copy())
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(len(y)), y]).mean()
        dscores = probs
        dscores[np.arange(len(y)), y] -= 1
        dscores /= len(y)
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


class Killed(Exception):
    """Raised by KillAfter to simulate a run killed after an epoch."""


class KillAfter(Callback):
    """Simulate a kill (raise Killed) after epoch ``epochs``, once all other callbacks ran."""

    order = 1000

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_epoch_end(self, solver) -> None:
        if solver.epoch == self.epochs:
            raise Killed


class Recorder(Callback):
    """Snapshots params, buffers and the epoch record at every epoch end."""

    order = 90

    def __init__(self) -> None:
        self.snapshots: list[dict[str, Any]] = []

    def on_epoch_end(self, solver) -> None:
        self.snapshots.append(
            {
                "params": {k: v.copy() for k, v in solver.model.params.items()},
                "buffers": {k: v.copy() for k, v in getattr(solver.model, "buffers", {}).items()},
                "record": dict(solver.history[-1]),
            }
        )
