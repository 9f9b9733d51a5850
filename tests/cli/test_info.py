"""``numnet info MODEL|RUN_DIR`` and the summary ``numnet train`` prints at its start."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from numnet.cli import main
from numnet.cli.info import describe, layer_rows
from numnet.models import ConvNet, FullyConnectedNet

from .conftest import train


def test_layer_rows_give_output_shapes_and_parameter_counts():
    model = ConvNet((1, 8, 8), [4, 8], hidden_dims=[16], num_classes=10, normalization="batchnorm")
    rows = list(layer_rows(model))
    shapes = [shape for _, _, shape, _ in rows]
    scores = model.loss(np.zeros((2, 1, 8, 8), dtype=np.float32))
    assert shapes[0] == (4, 8, 8) and (8, 2, 2) in shapes and (32,) in shapes
    assert shapes[-1] == scores.shape[1:]
    assert sum(size for *_, size in rows) == sum(v.size for v in model.params.values())
    assert rows[0][0] == "1" and rows[0][1].startswith("Conv2d(1, 4")


def test_describe_a_bare_model():
    model = FullyConnectedNet([7], input_dim=5, num_classes=3)
    text = describe(model, {})
    assert "model: FullyConnectedNet, 3 classes, float32" in text
    assert "total: 66 trainable parameters" in text  # 5*7+7 + 7*3+3
    assert "preprocessing: none stored" in text
    assert "training data: not stored" in text


def test_info_of_a_run_directory(tmp_path):
    run = tmp_path / "run"
    assert train(run, "--epochs", "2") == 0
    done = subprocess.run(
        [sys.executable, "-m", "numnet", "info", str(run)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.splitlines()[0] == str(run / "model.npz")
    assert "1  Linear(64, 16)" in out and "2  Linear(16, 10)" in out
    assert "total: 1,210 trainable parameters" in out  # 64*16+16 + 16*10+10
    assert "preprocessing: (x / 255 - mean) / std" in out
    assert "raw training inputs: 0 to 255" in out
    assert "training data: digits" in out
    assert "run: 2 epochs trained, best validation accuracy" in out
    assert "metrics (" in out and "2 epochs; best validation accuracy" in out
    again = subprocess.run(
        [sys.executable, "-m", "numnet", "info", str(run / "model.npz")],
        capture_output=True,
        text=True,
    )
    assert again.stdout == out
    missing = subprocess.run(
        [sys.executable, "-m", "numnet", "info", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("numnet: error: ") and "nope does not exist" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_train_prints_the_summary_unless_quiet(tmp_path, capsys):
    argv = ["train", "--max-train-samples", "100", "--hidden-dims", "16", "--epochs", "1"]
    assert main([*argv, "--out-dir", str(tmp_path / "loud")]) == 0
    out = capsys.readouterr().out
    assert "model: FullyConnectedNet, 10 classes" in out and "total: 1,210" in out
    assert out.index("total: 1,210") < out.index("done in")
    assert main([*argv, "--quiet", "--out-dir", str(tmp_path / "quiet")]) == 0
    assert "trainable parameters" not in capsys.readouterr().out
