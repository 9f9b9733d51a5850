"""loss.png / accuracy.png say what they show: checked on the matplotlib objects, not pixels.

Title (run, model, data), whole-number epoch ticks, the best epoch marked and labelled, and the
split of each curve named in the legend.
"""

from __future__ import annotations

import math

import pytest

from numnet.callbacks import Plots, plot_history
from numnet.callbacks import plots as plots_module
from numnet.callbacks.plots import best_epoch
from numnet.solver import Solver
from tests.callbacks.helpers import blobs, small_net

pytest.importorskip("matplotlib")

HISTORY = [
    {"epoch": 1, "train_loss": 1.0, "train_acc": 0.60, "val_loss": 1.1, "val_acc": 0.55},
    {"epoch": 2, "train_loss": 0.7, "train_acc": 0.75, "val_loss": 0.8, "val_acc": 0.80},
    {"epoch": 3, "train_loss": 0.5, "train_acc": 0.85, "val_loss": 0.9, "val_acc": 0.80},
]


@pytest.fixture
def figures(monkeypatch):
    """The figures plot_history saves, by file name (drawn, so tick labels are set)."""
    saved = {}
    original = plots_module.save_figure

    def record(fig, path):
        fig.canvas.draw()
        saved[path.name] = fig
        original(fig, path)

    monkeypatch.setattr(plots_module, "save_figure", record)
    return saved


def _visible_ticks(ax):
    low, high = ax.get_xlim()
    return [tick for tick in ax.get_xticks() if low <= tick <= high]


def test_titles_ticks_best_epoch_and_split_names(tmp_path, figures):
    plot_history(HISTORY, tmp_path, title="runs/007: mlp 16 on digits", train_sample=1000)
    assert sorted(figures) == ["accuracy.png", "loss.png"]
    for name, what in (("loss.png", "loss"), ("accuracy.png", "accuracy")):
        ax = figures[name].axes[0]
        assert ax.get_title() == f"runs/007: mlp 16 on digits\n{what} per epoch"
        ticks = _visible_ticks(ax)
        assert ticks and all(float(tick).is_integer() for tick in ticks), ticks
        labels = [text.get_text() for text in ax.get_xticklabels() if text.get_text()]
        assert all("." not in label for label in labels), labels
        best = [line for line in ax.get_lines() if line.get_label().startswith("best epoch")]
        assert len(best) == 1
        assert list(best[0].get_xdata()) == [2, 2]  # first epoch with the top validation acc
        assert best[0].get_label() == "best epoch 2 (validation accuracy 0.8000)"
        legend = [text.get_text() for text in ax.get_legend().get_texts()]
        assert f"validation {what}" in legend
    legend = [t.get_text() for t in figures["accuracy.png"].axes[0].get_legend().get_texts()]
    assert "training accuracy (sample of 1000 rows)" in legend
    legend = [t.get_text() for t in figures["loss.png"].axes[0].get_legend().get_texts()]
    assert "training loss" in legend


def test_without_a_validation_split_the_curve_says_training_data(tmp_path, figures):
    plot_history(HISTORY, tmp_path, val_name="training data")
    ax = figures["accuracy.png"].axes[0]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "training data accuracy" in legend
    assert "best epoch 2 (training data accuracy 0.8000)" in legend
    assert ax.get_title() == "accuracy per epoch"


def test_the_callback_passes_its_title_through(tmp_path, figures):
    Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 0.1},
        num_epochs=3,
        seed=0,
        verbose=False,
        callbacks=[Plots(tmp_path, title="my run: mlp 16 on blobs")],
    ).train()
    ax = figures["loss.png"].axes[0]
    assert ax.get_title().startswith("my run: mlp 16 on blobs\n")
    assert all(float(tick).is_integer() for tick in _visible_ticks(ax))


def test_best_epoch_skips_missing_values():
    records = [{"epoch": 1, "val_acc": math.nan}, {"epoch": 2, "val_acc": 0.5}, {"epoch": 3}]
    assert best_epoch(records) == (2, 0.5)
    assert best_epoch([]) is None
