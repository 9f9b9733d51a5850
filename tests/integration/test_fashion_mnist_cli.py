"""End-to-end runs of the ``numnet`` command on the real Fashion-MNIST files.

1. ``numnet train`` for one epoch on a subset reaches > 0.75 test accuracy on the 10,000 test
   images.
2. A Kaggle-format ``train.csv``/``test.csv`` made from Fashion-MNIST goes through ``train`` and
   ``predict`` to a valid submission.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from numnet.cli import main
from numnet.data import load_dataset
from numnet.errors import DataError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fashion():
    try:
        return load_dataset("fashion-mnist")
    except DataError as exc:
        pytest.skip(f"Fashion-MNIST not installed: {exc}")


def _write_kaggle_csv(path, X, y=None):
    flat = X.reshape(len(X), -1).astype(np.int64)
    header = ([] if y is None else ["label"]) + [f"pixel{i}" for i in range(flat.shape[1])]
    rows = flat if y is None else np.column_stack([y, flat])
    with open(path, "w", newline="") as fh:
        fh.write(",".join(header) + "\n")
        np.savetxt(fh, rows, fmt="%d", delimiter=",")


def test_one_epoch_on_a_subset_beats_075(fashion, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--data",
            "fashion-mnist",
            "--epochs",
            "1",
            "--max-train-samples",
            "12000",
            "--hidden-dims",
            "256",
            "--quiet",
            "--out-dir",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    match = re.search(r"test accuracy ([0-9.]+) on 10000 test images", printed)
    assert match, printed
    assert float(match.group(1)) > 0.75
    assert (out / "model.npz").is_file() and (out / "metrics.csv").is_file()


def test_kaggle_csv_train_then_predict_gives_a_valid_submission(fashion, tmp_path, capsys):
    rng = np.random.default_rng(0)
    train_rows = rng.choice(len(fashion.y_train), size=6000, replace=False)
    test_rows = rng.choice(len(fashion.y_test), size=1000, replace=False)
    train_csv, test_csv = tmp_path / "train.csv", tmp_path / "test.csv"
    _write_kaggle_csv(train_csv, fashion.X_train[train_rows], fashion.y_train[train_rows])
    _write_kaggle_csv(test_csv, fashion.X_test[test_rows])

    run = tmp_path / "run"
    args = ["train", "--data", str(train_csv), "--epochs", "2", "--quiet", "--out-dir", str(run)]
    assert main(args) == 0, capsys.readouterr()
    submission = tmp_path / "submission.csv"
    predict = ["predict", str(run / "model.npz"), "--input", str(test_csv)]
    assert main([*predict, "--output", str(submission)]) == 0, capsys.readouterr()

    with open(submission, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["ImageId", "Label"]
    ids = [int(r[0]) for r in rows[1:]]
    labels = np.array([int(r[1]) for r in rows[1:]])
    assert ids == list(range(1, 1001))
    assert labels.min() >= 0 and labels.max() <= 9
    assert np.mean(labels == fashion.y_test[test_rows]) > 0.7
