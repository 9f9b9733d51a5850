"""Honest evaluation (issue 14 item 2): ``numnet evaluate`` says which data it scored, recognises
the model's training data by content and never calls a score on it a test score; a second
evaluation never overwrites the first. Through a subprocess, as a user runs numnet."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from numnet.data import load_digits

from .conftest import numnet, write_pixels_csv

SMALL = ["--hidden-dims", "16", "--batch-size", "50", "--epochs", "2", "--quiet"]


def first_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[0]


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory):
    """A Kaggle-style directory: train.csv (300 digits), other.csv (100 other digits), and a run
    trained on ``--data train.csv`` (relative) with its summary output."""
    where = tmp_path_factory.mktemp("kaggle")
    digits = load_digits()
    write_pixels_csv(where / "train.csv", digits.X_train[:300], digits.y_train[:300])
    write_pixels_csv(where / "other.csv", digits.X_train[300:400], digits.y_train[300:400])
    result = numnet("train", "--data", "train.csv", *SMALL, "--out-dir", "run", cwd=where)
    assert result.returncode == 0, result.stderr
    return where, result.stdout


def test_the_run_summary_names_the_split_of_its_confusion_matrix(kaggle):
    _, summary = kaggle
    assert "confusion matrix of the validation split (30 images; no labelled test split)" in summary
    assert "test accuracy" not in summary


def test_without_data_a_csv_run_scores_its_held_out_rows_from_anywhere(kaggle, tmp_path):
    where, _ = kaggle
    line = first_line(numnet("evaluate", str(where / "run"), cwd=tmp_path))  # another directory
    assert f"on the validation split of {where.resolve() / 'train.csv'} (30 images)" in line
    assert "validation accuracy" in line and "(not a test score)" in line
    assert "test accuracy" not in line


def test_the_training_file_is_recognised_by_its_content(kaggle, tmp_path):
    where, _ = kaggle
    copy = tmp_path / "renamed.csv"
    shutil.copyfile(where / "train.csv", copy)
    for data in (where / "train.csv", copy):
        result = numnet("evaluate", str(where / "run" / "model.npz"), "--data", str(data))
        line = first_line(result)
        assert f"on {data} (300 images): accuracy" in line
        assert line.endswith("on the training data (not a test score)")
        assert "the model trained on 270 rows of this file" in result.stdout.splitlines()[1]


def test_other_data_is_scored_and_named(kaggle):
    where, _ = kaggle
    result = numnet("evaluate", str(where / "run"), "--data", str(where / "other.csv"))
    line = first_line(result)
    assert f"on {where / 'other.csv'} (100 images, not the model's training data): accuracy" in line
    assert "training data (not a test score)" not in result.stdout


def test_a_named_dataset_is_scored_on_its_test_split(tmp_path):
    run = tmp_path / "run"
    result = numnet("train", "--max-train-samples", "300", *SMALL, "--out-dir", str(run))
    assert "confusion matrix of the test split (359 images)" in result.stdout
    line = first_line(numnet("evaluate", str(run)))
    assert "on digits test split (359 images): test accuracy 0." in line


def test_a_run_without_validation_rows_is_scored_on_its_training_data(tmp_path):
    digits = load_digits()
    write_pixels_csv(tmp_path / "train.csv", digits.X_train[:200], digits.y_train[:200])
    result = numnet(
        "train",
        "--data",
        "train.csv",
        "--val-fraction",
        "0",
        *SMALL,
        "--out-dir",
        "run",
        cwd=tmp_path,
    )
    assert "confusion matrix of the training data (200 images" in result.stdout
    result = numnet("evaluate", "run", cwd=tmp_path)
    assert "on the training data (not a test score)" in first_line(result)
    assert "kept no validation rows" in result.stdout


def test_held_out_rows_of_a_changed_file_are_refused(tmp_path):
    digits = load_digits()
    write_pixels_csv(tmp_path / "train.csv", digits.X_train[:200], digits.y_train[:200])
    result = numnet("train", "--data", "train.csv", *SMALL, "--out-dir", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    write_pixels_csv(tmp_path / "train.csv", digits.X_train[200:400], digits.y_train[200:400])
    result = numnet("evaluate", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert "no longer the file the model was trained on" in result.stderr


def test_a_second_evaluation_never_overwrites_the_first(kaggle, tmp_path):
    where, _ = kaggle
    run = tmp_path / "run"
    run.mkdir()
    shutil.copyfile(where / "run" / "model.npz", run / "model.npz")
    model = str(run / "model.npz")
    assert numnet("evaluate", model, "--data", str(where / "other.csv")).returncode == 0
    saved = (run / "evaluate" / "confusion_matrix.csv").read_text()
    result = numnet("evaluate", model)
    assert result.returncode == 0, result.stderr
    assert (run / "evaluate" / "confusion_matrix.csv").read_text() == saved
    assert f"wrote {run / 'evaluate-2' / 'confusion_matrix.csv'}" in result.stdout
    out = tmp_path / "mine"
    assert numnet("evaluate", model, "--out-dir", str(out)).returncode == 0
    refused = numnet("evaluate", model, "--out-dir", str(out))
    assert refused.returncode == 2
    assert "already holds confusion_matrix.csv" in refused.stderr
    assert "--force" in refused.stderr
    assert numnet("evaluate", model, "--out-dir", str(out), "--force").returncode == 0


def test_idx_files_are_recognised_as_training_or_test_data(tmp_path):
    from numnet.data import write_idx

    digits = load_digits()
    data = tmp_path / "idx"
    data.mkdir()
    write_idx(data / "train-images-idx3-ubyte", digits.X_train[:, 0])
    write_idx(data / "train-labels-idx1-ubyte", digits.y_train.astype("uint8"))
    write_idx(data / "t10k-images-idx3-ubyte", digits.X_test[:, 0])
    write_idx(data / "t10k-labels-idx1-ubyte", digits.y_test.astype("uint8"))
    run = tmp_path / "run"
    result = numnet(
        "train", "--data", str(data), "--max-train-samples", "200", *SMALL, "--out-dir", str(run)
    )
    assert result.returncode == 0, result.stderr
    for split, expected in (
        ("t10k", "(359 images): test accuracy"),
        ("train", "on the training data (not a test score)"),
    ):
        line = first_line(
            numnet(
                "evaluate",
                str(run),
                "--data",
                str(data / f"{split}-images-idx3-ubyte"),
                "--labels",
                str(data / f"{split}-labels-idx1-ubyte"),
            )
        )
        assert expected in line
