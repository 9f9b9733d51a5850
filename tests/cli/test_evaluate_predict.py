"""``numnet predict`` (Kaggle submission) and ``numnet evaluate`` on a trained model."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

from numnet.cli import main
from numnet.data import load_dataset, write_idx

from .conftest import last_error_line, write_pixels_csv


@pytest.fixture(scope="module")
def digits_test():
    dataset = load_dataset("digits")
    return dataset.X_test, dataset.y_test


def read_submission(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["ImageId", "Label"]
    ids = [int(r[0]) for r in rows[1:]]
    labels = np.array([int(r[1]) for r in rows[1:]])
    return ids, labels


def test_predict_writes_kaggle_submission(trained_run, digits_test, tmp_path, capsys):
    X, y = digits_test
    test_csv = tmp_path / "test.csv"
    write_pixels_csv(test_csv, X)
    output = tmp_path / "submission.csv"
    model = str(trained_run / "model.npz")
    assert main(["predict", model, "--input", str(test_csv), "--output", str(output)]) == 0
    ids, labels = read_submission(output)
    assert ids == list(range(1, len(X) + 1))
    assert np.mean(labels == y) > 0.9  # the stored preprocessing was applied
    assert f"wrote {len(X)} predictions" in capsys.readouterr().out


def test_predict_accepts_train_format_csv_and_idx(trained_run, digits_test, tmp_path):
    X, y = digits_test
    model = str(trained_run / "model.npz")
    outputs = {}
    write_pixels_csv(tmp_path / "train.csv", X, y)
    write_idx(tmp_path / "images-idx3-ubyte", X[:, 0])
    with open(tmp_path / "images-idx3-ubyte", "rb") as raw:
        (tmp_path / "images-idx3-ubyte.gz").write_bytes(gzip.compress(raw.read()))
    for name in ("train.csv", "images-idx3-ubyte", "images-idx3-ubyte.gz"):
        out = tmp_path / f"sub-{name}.csv"
        assert main(["predict", model, "--input", str(tmp_path / name), "--output", str(out)]) == 0
        outputs[name] = read_submission(out)[1]
    np.testing.assert_array_equal(outputs["train.csv"], outputs["images-idx3-ubyte"])
    np.testing.assert_array_equal(outputs["train.csv"], outputs["images-idx3-ubyte.gz"])


def test_predict_refuses_to_overwrite_without_force(trained_run, digits_test, tmp_path, capsys):
    test_csv = tmp_path / "test.csv"
    write_pixels_csv(test_csv, digits_test[0][:5])
    output = tmp_path / "submission.csv"
    output.write_text("keep me\n")
    argv = [
        "predict",
        str(trained_run / "model.npz"),
        "--input",
        str(test_csv),
        "--output",
        str(output),
    ]
    assert main(argv) == 2
    assert "--force" in last_error_line(capsys.readouterr().err)
    assert output.read_text() == "keep me\n"
    assert main([*argv, "--force"]) == 0
    assert read_submission(output)[0] == [1, 2, 3, 4, 5]


def test_predict_errors_are_one_line_and_write_nothing(trained_run, tmp_path, capsys):
    model = str(trained_run / "model.npz")
    output = tmp_path / "sub.csv"
    big = tmp_path / "big-idx3-ubyte"
    write_idx(big, np.zeros((3, 28, 28), dtype=np.uint8))
    assert main(["predict", model, "--input", str(big), "--output", str(output)]) == 1
    line = last_error_line(capsys.readouterr().err)
    assert "28x28 (784 values)" in line and "1x8x8 (64 values)" in line
    assert (
        main(["predict", model, "--input", str(tmp_path / "none.csv"), "--output", str(output)])
        == 1
    )
    assert "does not exist" in last_error_line(capsys.readouterr().err)
    garbage = tmp_path / "model.npz"
    garbage.write_bytes(b"not a zip file at all")
    assert main(["predict", str(garbage), "--input", str(big), "--output", str(output)]) == 1
    last_error_line(capsys.readouterr().err)
    assert (
        main(
            [
                "predict",
                model,
                "--input",
                str(big),
                "--output",
                str(tmp_path / "no-dir" / "sub.csv"),
            ]
        )
        == 1  # a missing output directory is an I/O error (exit 1), not a usage error
    )
    assert "does not exist" in last_error_line(capsys.readouterr().err)
    assert not output.exists()


def test_evaluate_default_test_split(trained_run, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", str(trained_run / "model.npz"), "--out-dir", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "digits test split (359 images): test accuracy 0." in stdout
    per_class = [line.split() for line in stdout.splitlines()[2:12]]
    assert [row[0] for row in per_class] == [str(d) for d in range(10)]
    assert sum(int(row[1]) for row in per_class) == 359
    cm = np.loadtxt(out / "confusion_matrix.csv", delimiter=",", skiprows=1, usecols=range(1, 11))
    assert cm.shape == (10, 10) and cm.sum() == 359


def test_evaluate_labelled_files_agree(trained_run, digits_test, tmp_path, capsys):
    X, y = digits_test
    model = str(trained_run / "model.npz")
    write_pixels_csv(tmp_path / "labelled.csv", X, y)
    write_idx(tmp_path / "img-idx3-ubyte", X[:, 0])
    write_idx(tmp_path / "lab-idx1-ubyte", y.astype(np.uint8))
    assert main(["evaluate", model, "--out-dir", str(tmp_path / "a")]) == 0
    reference = capsys.readouterr().out.splitlines()[0].split("accuracy ")[1]
    assert (
        main(
            [
                "evaluate",
                model,
                "--data",
                str(tmp_path / "labelled.csv"),
                "--out-dir",
                str(tmp_path / "b"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines()[0].endswith(f"accuracy {reference}")
    assert (
        main(
            [
                "evaluate",
                model,
                "--data",
                str(tmp_path / "img-idx3-ubyte"),
                "--labels",
                str(tmp_path / "lab-idx1-ubyte"),
                "--out-dir",
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines()[0].endswith(f"accuracy {reference}")


def test_evaluate_unlabelled_csv_is_a_data_error(trained_run, digits_test, tmp_path, capsys):
    write_pixels_csv(tmp_path / "test.csv", digits_test[0])
    argv = ["evaluate", str(trained_run / "model.npz"), "--data", str(tmp_path / "test.csv")]
    assert main(argv) == 1
    assert "no labels" in last_error_line(capsys.readouterr().err)
