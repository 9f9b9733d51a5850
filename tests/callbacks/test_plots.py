"""confusion_matrix, Plots callback and plot_confusion_matrix (skipped without matplotlib)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from numnet.callbacks import Plots, confusion_matrix, plot_confusion_matrix
from numnet.errors import NumnetError
from numnet.solver import Solver
from tests.callbacks.helpers import blobs, small_net

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_confusion_matrix_counts():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    cm = confusion_matrix(y_true, y_pred, 3)
    assert np.array_equal(cm, expected) and cm.sum() == 6
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    brute = np.array([[np.sum((a == i) & (b == j)) for j in range(5)] for i in range(5)])
    assert np.array_equal(confusion_matrix(a, b, 5), brute)


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(ValueError, match="lie in"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="equal shape"):
        confusion_matrix(np.array([0, 1]), np.array([0]), 3)


def test_plots_written_at_train_end(tmp_path):
    pytest.importorskip("matplotlib")
    plots = Plots(tmp_path / "plots")
    Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 0.1},
        num_epochs=2,
        seed=0,
        verbose=False,
        callbacks=[plots],
    ).train()
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["accuracy.png", "loss.png"]
    for path in plots.written:
        assert path.read_bytes()[:8] == PNG_MAGIC
    cm_path = tmp_path / "cm.png"
    plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["cat", "dog"], cm_path)
    assert cm_path.read_bytes()[:8] == PNG_MAGIC


def test_a_failed_save_keeps_the_earlier_picture(tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    cm_path = tmp_path / "cm.png"
    plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["cat", "dog"], cm_path)
    before = cm_path.read_bytes()

    def broken_savefig(self, target, **kwargs):
        target.write(b"half a picture")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        plot_confusion_matrix(np.array([[1, 0], [0, 1]]), ["cat", "dog"], cm_path)
    assert cm_path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]  # no temporary file left


def test_missing_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(NumnetError, match=r"pip install -e '\.\[plot\]'"):
        plot_confusion_matrix(np.eye(2, dtype=int), ["a", "b"], tmp_path / "cm.png")
    plots = Plots(tmp_path / "plots")
    with pytest.warns(UserWarning, match="Plots skipped"):
        Solver(
            small_net(),
            blobs(),
            optim_config={"learning_rate": 0.1},
            num_epochs=1,
            verbose=False,
            callbacks=[plots],
        ).train()
    assert not (tmp_path / "plots").exists()
