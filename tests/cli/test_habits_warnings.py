"""Warnings for values that are almost surely a mistake (issue 14 item 3): one line on stderr.

``--dropout`` below 0.5 (numnet's dropout is the keep probability) and a learning rate that
diverged in the first epoch; a NaN loss stops the run with one error line that says the same.
"""

from __future__ import annotations

from pathlib import Path

from numnet.cli.advice import dropout_warning, rising_loss_warning

from .conftest import numnet

FEW = ["--max-train-samples", "600", "--epochs", "1", "--quiet"]


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("numnet: warning: ")]


def test_a_low_keep_probability_is_taken_for_a_drop_rate(tmp_path: Path):
    result = numnet(
        "train", *FEW, "--hidden-dims", "8", "--dropout", "0.2", "--out-dir", str(tmp_path / "run")
    )
    assert result.returncode == 0, result.stderr
    (line,) = [w for w in warnings_in(result.stderr) if "--dropout" in w]
    assert "keep probability" in line
    assert "you asked to keep 20 %" in line and "pass 0.8 to drop 20 %" in line


def test_a_diverging_learning_rate_is_named_after_the_first_epoch(tmp_path: Path):
    result = numnet("train", *FEW, "--lr", "1", "--out-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    (line,) = warnings_in(result.stderr)
    assert "the training loss rose during the first epoch" in line
    assert "the learning rate 1 diverged; lower it, e.g. --lr 0.1" in line


def test_a_sound_run_gets_no_warning(tmp_path: Path):
    result = numnet("train", *FEW, "--lr", "0.01", "--out-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert warnings_in(result.stderr) == []


def test_a_nan_loss_is_one_error_line_saying_to_lower_the_rate(tmp_path: Path):
    result = numnet(
        "train", *FEW, "--optimizer", "sgd", "--lr", "50", "--out-dir", str(tmp_path / "run")
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("numnet: error: ") and "lower the learning rate" in lines[-1]
    assert "Traceback" not in result.stderr


def test_the_rules():
    assert dropout_warning(0.5) is None and dropout_warning(0.9) is None
    assert "pass 0.7 to drop 30 %" in dropout_warning(0.3)
    assert rising_loss_warning([2.3, 2.0, 1.8, 1.5], lr=0.001) is None
    assert rising_loss_warning([2.3, 9.0, 1.8], lr=1.0) is None  # too few updates to judge
    assert rising_loss_warning([2.3, 40.0, 9.0, 3.0], lr=1.0) is not None
    assert rising_loss_warning([2.3, float("nan"), 2.0, 2.0], lr=1.0) is not None
