"""``--kernels fast|reference`` of train, evaluate and predict (and the ``kernels`` config key)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from numnet.cli import main
from numnet.models.classifier import Classifier
from numnet.serialization import load_checkpoint, load_model

from .conftest import last_error_line, train, write_pixels_csv


@pytest.fixture
def kernel_modes(monkeypatch):
    """Every mode given to ``Classifier.set_kernels`` while the test runs, in order."""
    modes: list[str] = []
    original = Classifier.set_kernels

    def recording(self, mode="fast"):
        modes.append(mode)
        return original(self, mode)

    monkeypatch.setattr(Classifier, "set_kernels", recording)
    return modes


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_train_both_ways_gives_the_same_parameters(tmp_path, model, kernel_modes):
    # Momentum SGD, not Adam: Adam divides by the gradients' size, so where a gradient is ~0 (a
    # conv bias before batch norm) it turns rounding differences into whole steps.
    flags = ["--model", model, "--epochs", "1", "--max-train-samples", "96"]
    flags += ["--optimizer", "momentum", "--lr", "0.01", "--normalization", "batchnorm"]
    if model == "cnn":
        flags += ["--conv-channels", "3"]
    runs = {}
    for mode in ("fast", "reference"):
        kernel_modes.clear()
        assert train(tmp_path / mode, *flags, "--kernels", mode) == 0
        assert kernel_modes and kernel_modes[-1] == mode  # the trained model ran in this mode
        runs[mode] = load_model(tmp_path / mode / "model.npz")[0]
    fast, reference = runs["fast"].params, runs["reference"].params
    assert list(fast) == list(reference)
    for name in fast:
        np.testing.assert_allclose(fast[name], reference[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_kernels_is_not_stored_in_model_files_and_may_change_on_resume(tmp_path, kernel_modes):
    out = tmp_path / "run"
    assert train(out, "--epochs", "1", "--kernels", "reference") == 0
    assert json.loads((out / "config.json").read_text())["kernels"] == "reference"
    assert "kernels" not in load_model(out / "model.npz")[1]["train_config"]
    assert "kernels" not in load_checkpoint(out / "last.npz")["meta"]["metadata"]["train_config"]
    kernel_modes.clear()
    assert main(["train", "--resume", str(out), "--epochs", "2", "--quiet"]) == 0
    assert kernel_modes[-1] == "fast"  # the default, not the first invocation's choice
    assert json.loads((out / "config.json").read_text())["kernels"] == "fast"
    kernel_modes.clear()
    assert main(["train", "--resume", str(out), "--epochs", "3", "--kernels", "reference"]) == 0
    assert kernel_modes[-1] == "reference"


def test_kernels_config_key(tmp_path, kernel_modes):
    toml = tmp_path / "run.toml"
    toml.write_text('kernels = "reference"\nepochs = 1\n')
    assert train(tmp_path / "run", "--config", str(toml)) == 0
    assert kernel_modes[-1] == "reference"


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_bad_kernels_value_is_a_one_line_usage_error(tmp_path, capsys, command, trained_run):
    out = tmp_path / "out"
    model = str(trained_run / "model.npz")
    argv = {
        "train": ["train", "--out-dir", str(out)],
        "evaluate": ["evaluate", model, "--out-dir", str(out)],
        "predict": ["predict", model, "--input", "x.csv", "--output", str(out / "s.csv")],
    }[command]
    assert main([*argv, "--kernels", "slow"]) == 2
    line = last_error_line(capsys.readouterr().err)
    assert "--kernels" in line and "'slow'" in line
    assert not out.exists()


def test_bad_kernels_in_a_config_file(tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text('kernels = "slow"\n')
    out = tmp_path / "run"
    assert main(["train", "--config", str(toml), "--out-dir", str(out)]) == 2
    line = last_error_line(capsys.readouterr().err)
    assert line.startswith("numnet: error: --kernels must be one of fast, reference")
    assert not out.exists()


def test_evaluate_and_predict_agree_on_both_kernels(trained_run, tmp_path, capsys, kernel_modes):
    from numnet.data import load_dataset

    dataset = load_dataset("digits")
    write_pixels_csv(tmp_path / "test.csv", dataset.X_test)
    model = str(trained_run / "model.npz")
    labels, accuracy_lines = {}, {}
    for mode in ("fast", "reference"):
        kernel_modes.clear()
        output = tmp_path / f"{mode}.csv"
        argv = ["predict", model, "--input", str(tmp_path / "test.csv"), "--output", str(output)]
        assert main([*argv, "--kernels", mode]) == 0
        assert kernel_modes[-1] == mode
        labels[mode] = output.read_text()
        capsys.readouterr()
        kernel_modes.clear()
        argv = ["evaluate", model, "--out-dir", str(tmp_path / f"eval-{mode}")]
        assert main([*argv, "--kernels", mode]) == 0
        assert kernel_modes[-1] == mode
        accuracy_lines[mode] = capsys.readouterr().out.splitlines()[0]
    assert labels["fast"] == labels["reference"]
    assert accuracy_lines["fast"] == accuracy_lines["reference"]
