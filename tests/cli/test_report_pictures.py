"""The confusion matrix and the misclassified-images grid say what they show (matplotlib objects,
not pixels): title with run, model, data, split and accuracy; counts in the cells with row-fraction
shading and a colour bar; upright short labels; each misclassified image titled with its true
class, prediction and confidence. ``train`` and ``evaluate`` write them for the split they scored.
"""

from __future__ import annotations

import numpy as np
import pytest

from numnet.callbacks import confusion as confusion_module
from numnet.callbacks import misclassified as misclassified_module
from numnet.callbacks import plots as plots_module
from numnet.cli import main
from numnet.cli.report import (
    MISCLASSIFIED_SHOWN,
    model_label,
    viewable_images,
    write_confusion_matrix,
    write_misclassified,
)
from numnet.data import Standardizer, load_dataset
from tests.cli.conftest import TINY, write_pixels_csv

pytest.importorskip("matplotlib")


@pytest.fixture
def figures(monkeypatch):
    """Every figure numnet saves during the test, by file name (drawn, so texts are laid out)."""
    saved = {}
    for module in (confusion_module, misclassified_module, plots_module):
        original = module.save_figure

        def record(fig, path, original=original):
            fig.canvas.draw()
            saved[path.name] = fig
            original(fig, path)

        monkeypatch.setattr(module, "save_figure", record)
    return saved


def _texts(ax):
    return [text.get_text() for text in ax.texts]


def test_confusion_matrix_picture(tmp_path, figures):
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 2, 2, 0, 2])
    names = write_confusion_matrix(
        tmp_path, y_true, y_pred, ["0", "1", "2"], title="runs/004: mlp 16 on digits", split="test"
    )
    assert names == ["confusion_matrix.csv", "confusion_matrix.png"]
    fig = figures["confusion_matrix.png"]
    ax = fig.axes[0]
    assert ax.get_title() == "runs/004: mlp 16 on digits\ntest: accuracy 0.8000 on 10 images"
    image = ax.get_images()[0]
    assert image.colorbar is not None and len(fig.axes) == 2  # the colour bar's own axes
    assert image.colorbar.ax.get_ylabel() == "fraction of the true class"
    expected = np.array([[3, 1, 0], [0, 2, 0], [1, 0, 3]]) / np.array([[4], [2], [4]])
    assert np.allclose(image.get_array(), expected)  # shading: each row sums to 1
    assert image.get_clim() == (0.0, 1.0)
    assert _texts(ax) == ["3", "1", "0", "0", "2", "0", "1", "0", "3"]  # counts, row by row
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
    assert all(t.get_rotation() == 0 for t in ax.get_xticklabels())  # short labels stay upright
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")


def test_long_class_names_are_rotated_and_the_training_data_is_named(tmp_path, figures):
    names = ["T-shirt/top", "Trouser"]
    write_confusion_matrix(
        tmp_path, np.array([0, 1, 1]), np.array([0, 1, 0]), names, split="training"
    )
    ax = figures["confusion_matrix.png"].axes[0]
    assert ax.get_title() == "training data: accuracy 0.6667 on 3 images"
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert all(t.get_rotation() == 45 for t in ax.get_xticklabels())


def _scores(predicted, confidence, classes=3):
    """Scores whose softmax gives ``confidence`` to ``predicted`` and splits the rest evenly."""
    proba = np.full((len(predicted), classes), 0.0)
    for i, (k, p) in enumerate(zip(predicted, confidence, strict=True)):
        proba[i] = (1 - p) / (classes - 1)
        proba[i, k] = p
    return np.log(proba)


def test_misclassified_grid_most_confident_first(tmp_path, figures):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(6, 64)).astype(np.float64)
    y = np.array([0, 1, 2, 0, 1, 2])
    predicted = [0, 2, 0, 1, 1, 1]  # rows 1, 2, 3, 5 are wrong
    scores = _scores(predicted, [0.9, 0.6, 0.95, 0.7, 0.99, 0.8])
    meta = {"image_shape": [1, 8, 8]}
    names = write_misclassified(
        tmp_path,
        X,
        y,
        scores,
        ["zero", "one", "two"],
        meta,
        standardized=False,
        title="runs/004: cnn conv 8 on digits",
        split="validation",
    )
    assert names == ["misclassified.png"]
    fig = figures["misclassified.png"]
    assert fig._suptitle.get_text() == (
        "runs/004: cnn conv 8 on digits\n"
        "most confidently misclassified: 4 of 4 errors on 6 validation images"
    )
    panels = [ax.get_title() for ax in fig.axes if ax.get_images()]
    assert panels == [
        "true two\npredicted zero (95%)",
        "true two\npredicted one (80%)",
        "true zero\npredicted one (70%)",
        "true one\npredicted two (60%)",
    ]
    first = [ax for ax in fig.axes if ax.get_images()][0].get_images()[0].get_array()
    shown = (X[2] - X[2].min()) / (X[2].max() - X[2].min())
    assert np.allclose(first, shown.reshape(8, 8))  # the image itself, scaled to [0, 1]


def test_misclassified_grid_caps_the_count_and_skips_non_images(tmp_path, figures):
    n = MISCLASSIFIED_SHOWN + 5
    X = np.arange(n * 16, dtype=np.float64).reshape(n, 16)
    scores = _scores([1] * n, np.linspace(0.5, 0.9, n), classes=2)
    y = np.zeros(n, dtype=np.int64)
    write_misclassified(
        tmp_path, X, y, scores, ["a", "b"], {"image_shape": [1, 4, 4]}, standardized=False
    )
    panels = [ax for ax in figures["misclassified.png"].axes if ax.get_images()]
    assert len(panels) == MISCLASSIFIED_SHOWN
    assert write_misclassified(tmp_path, X, y, scores, ["a", "b"], {}, standardized=False) == []


def test_viewable_images_undo_the_standardisation():
    digits = load_dataset("digits")
    raw = digits.X_train[:20].reshape(20, -1).astype(np.float64)
    record = Standardizer(mode="feature").fit(raw).to_dict()
    standardized = Standardizer.from_dict(record).transform(raw)
    meta = {"image_shape": [1, 8, 8], "preprocessing": record}
    images = viewable_images(standardized, meta, standardized=True)
    low, high = raw.min(axis=1, keepdims=True), raw.max(axis=1, keepdims=True)
    assert np.allclose(images.reshape(20, -1), (raw - low) / (high - low), atol=1e-5)


def test_model_label():
    assert model_label({"class": "FullyConnectedNet", "hidden_dims": [256, 128]}) == "mlp 256-128"
    cnn = {"class": "ConvNet", "conv_channels": [32, 64], "hidden_dims": [128]}
    assert model_label(cnn) == "cnn conv 32-64, fc 128"
    assert model_label({"model": "mlp", "hidden_dims": [16]}) == "mlp 16"


def test_train_and_evaluate_name_run_model_data_and_split(tmp_path, figures, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "2", "--out-dir", str(out)]) == 0
    title = f"{out}: mlp 16 on digits"
    assert figures["loss.png"].axes[0].get_title() == f"{title}\nloss per epoch"
    accuracy = figures["accuracy.png"].axes[0]
    legend = [text.get_text() for text in accuracy.get_legend().get_texts()]
    assert "validation accuracy" in legend and any(t.startswith("best epoch") for t in legend)
    cm_title = figures["confusion_matrix.png"].axes[0].get_title()
    assert cm_title.startswith(f"{title}\ntest: accuracy ")
    assert figures["misclassified.png"]._suptitle.get_text().startswith(f"{title}\n")
    assert "test images" in figures["misclassified.png"]._suptitle.get_text()
    assert (out / "misclassified.png").is_file()
    assert "misclassified.png" in capsys.readouterr().out

    figures.clear()
    assert main(["evaluate", str(out)]) == 0
    cm_title = figures["confusion_matrix.png"].axes[0].get_title()
    assert cm_title.startswith(f"{out / 'model.npz'}: mlp 16 on digits test split\ntest: ")
    assert (out / "evaluate" / "misclassified.png").is_file()


def test_a_csv_run_without_validation_names_the_training_data(tmp_path, figures):
    digits = load_dataset("digits")
    csv = tmp_path / "train.csv"
    write_pixels_csv(csv, digits.X_train[:200], digits.y_train[:200])
    out = tmp_path / "run"
    argv = ["train", *TINY, "--epochs", "2", "--data", str(csv), "--val-fraction", "0"]
    assert main([*argv, "--out-dir", str(out)]) == 0
    cm_title = figures["confusion_matrix.png"].axes[0].get_title()
    assert "\ntraining data: accuracy " in cm_title
    legend = [t.get_text() for t in figures["accuracy.png"].axes[0].get_legend().get_texts()]
    assert "training data accuracy" in legend
