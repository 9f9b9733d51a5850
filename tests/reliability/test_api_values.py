"""Values the API used to let through: NaN inputs to ``predict``, an optimizer state gone Inf.

A NaN image has no meaningful label, so ``predict`` and ``scores`` refuse it; an optimizer state
that overflowed (a huge ``reg`` squared into Adam's second moment) is a divergence even while the
parameters are still finite: the run stops, and no file holds the Inf.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from numnet.errors import TrainingDiverged
from numnet.models import FullyConnectedNet
from numnet.solver import Solver

from .helpers import write_train_csv


def _model(reg: float = 0.0) -> FullyConnectedNet:
    return FullyConnectedNet([6], input_dim=8, num_classes=3, reg=reg, seed=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method", ["predict", "scores"])
def test_predict_and_scores_refuse_non_finite_inputs_naming_the_row(method, bad):
    X = np.random.default_rng(0).standard_normal((7, 8)).astype(np.float32)
    X[5, 3] = bad
    with pytest.raises(ValueError, match=r"X holds NaN or Inf in row 5"):
        getattr(_model(), method)(X, batch_size=2)  # row 5 is in the third batch
    X[5, 3] = 0.0
    assert getattr(_model(), method)(X, batch_size=2).shape[0] == 7


def test_predict_accepts_integer_inputs_without_a_finiteness_pass():
    X = np.arange(16, dtype=np.int64).reshape(2, 8)
    assert _model().predict(X).shape == (2,)


def _solver(reg: float, optimizer: str = "adam") -> Solver:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((32, 8)).astype(np.float32)
    y = np.arange(32) % 3
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    return Solver(
        _model(reg),
        data,
        update_rule=optimizer,
        optim_config={"learning_rate": 1e-3},
        batch_size=8,
        num_epochs=2,
        verbose=False,
        seed=0,
    )


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_an_optimizer_state_gone_infinite_stops_the_run(optimizer):
    solver = _solver(reg=1e22, optimizer=optimizer)  # float32: (1e22 * w)**2 overflows
    with pytest.raises(TrainingDiverged, match=r"optimizer state \S+ became NaN or Inf"):
        solver.train()
    assert all(np.isfinite(p).all() for p in solver.model.params.values())


def test_a_finite_optimizer_state_trains_on():
    solver = _solver(reg=1e-3)
    solver.train()
    assert solver.epoch == 2


def test_the_cli_stops_a_run_whose_optimizer_state_overflows(tmp_path):
    write_train_csv(tmp_path / "train.csv")
    argv = ["train", "--data", "train.csv", "--hidden-dims", "8", "--epochs", "2"]
    argv += ["--optimizer", "adam", "--reg", "1e22", "--out-dir", "run", "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "numnet", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "optimizer state" in done.stderr and "regularisation" in done.stderr
    for path in (tmp_path / "run").glob("*.npz"):
        with zipfile.ZipFile(path), np.load(path, allow_pickle=False) as archive:
            for name in archive.files:
                values = archive[name]
                if values.dtype.kind == "f":
                    assert np.isfinite(values).all(), (path.name, name)
