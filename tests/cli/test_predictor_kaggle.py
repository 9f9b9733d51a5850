"""Done-when of issue 14 item 1: ``numnet.load(run).predict(raw)`` equals ``numnet predict``.

An MLP and a CNN are trained from a tiny Kaggle-format ``train.csv`` (digits, pixels 0-255); the
command line runs in a subprocess, the library in this process, on the rows of the same
``test.csv``.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

import numnet
from numnet.cli import main
from numnet.data import load_dataset, read_kaggle_csv
from numnet.errors import InputRangeWarning

from .conftest import write_pixels_csv

MODELS = {
    "mlp": ["--model", "mlp", "--hidden-dims", "32"],
    "cnn": ["--model", "cnn", "--conv-channels", "4", "--hidden-dims", "16"],
}


def numnet_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "numnet", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory):
    """``train.csv`` (400 labelled rows), ``test.csv`` (60 rows) and one run per model."""
    root = tmp_path_factory.mktemp("kaggle")
    dataset = load_dataset("digits")
    X = dataset.X_train.reshape(len(dataset.X_train), -1)
    write_pixels_csv(root / "train.csv", X[:400], dataset.y_train[:400])
    write_pixels_csv(root / "test.csv", X[400:460])
    write_pixels_csv(root / "scaled.csv", X[400:460] / 255.0)  # what a user who rescaled gives
    runs = {}
    for name, flags in MODELS.items():
        run = root / name
        argv = ["train", "--data", str(root / "train.csv"), "--epochs", "2", "--lr", "0.01"]
        assert main([*argv, *flags, "--quiet", "--out-dir", str(run)]) == 0
        runs[name] = run
    return root, runs


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_load_predict_equals_cli_predict(kaggle, kind, tmp_path):
    root, runs = kaggle
    out = tmp_path / "submission.csv"
    done = numnet_cli(
        "predict", str(runs[kind]), "--input", str(root / "test.csv"), "--output", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # raw pixels: no range warning
    rows = read_rows(out)
    assert rows[0] == ["ImageId", "Label"]
    cli_labels = np.array([int(row[1]) for row in rows[1:]])
    X_raw, _ = read_kaggle_csv(root / "test.csv")  # flat rows of 0-255 pixels, as the file holds
    for source in (runs[kind], runs[kind] / "model.npz"):
        predictor = numnet.load(source)
        np.testing.assert_array_equal(predictor.predict(X_raw), cli_labels)
        np.testing.assert_array_equal(predictor.predict(X_raw.reshape(-1, 1, 8, 8)), cli_labels)
        proba = predictor.predict_proba(X_raw)
        assert proba.shape == (len(X_raw), 10) and proba.dtype == np.float64
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(proba.argmax(axis=1), cli_labels)
    # the model on its own, given raw pixels, is not what predict computes: the file's
    # preprocessing matters (otherwise this test would not tell the two apart)
    assert not np.allclose(predictor.model.scores(X_raw), predictor.scores(X_raw))


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_predict_proba_writes_one_column_per_class(kaggle, kind, tmp_path):
    root, runs = kaggle
    out = tmp_path / "proba.csv"
    done = numnet_cli(
        "predict",
        str(runs[kind]),
        "--input",
        str(root / "test.csv"),
        "--output",
        str(out),
        "--proba",
    )
    assert done.returncode == 0, done.stderr
    rows = read_rows(out)
    assert rows[0] == ["ImageId", *[str(k) for k in range(10)]]
    assert [int(row[0]) for row in rows[1:]] == list(range(1, 61))
    written = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    np.testing.assert_allclose(written.sum(axis=1), 1.0, atol=1e-7)
    X_raw, _ = read_kaggle_csv(root / "test.csv")
    np.testing.assert_allclose(written, numnet.load(runs[kind]).predict_proba(X_raw), rtol=1e-8)


def test_rescaled_inputs_warn_once_on_stderr(kaggle, tmp_path):
    root, runs = kaggle
    out = tmp_path / "submission.csv"
    done = numnet_cli(
        "predict", str(runs["mlp"]), "--input", str(root / "scaled.csv"), "--output", str(out)
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("numnet: warning: ")
    assert "from 0 to 1" in lines[0] and "from 0 to 255" in lines[0]
    assert "as the training files hold it" in lines[0]
    X_raw, _ = read_kaggle_csv(root / "test.csv")
    predictor = numnet.load(runs["mlp"])
    with pytest.warns(InputRangeWarning, match="from 0 to 1"):
        predictor.predict(X_raw / 255.0)


def test_evaluate_warns_about_rescaled_labelled_data(kaggle, tmp_path):
    root, runs = kaggle
    dataset = load_dataset("digits")
    scaled = tmp_path / "scaled-train.csv"
    write_pixels_csv(scaled, dataset.X_test[:50].reshape(50, -1) / 255.0, dataset.y_test[:50])
    done = numnet_cli(
        "evaluate",
        str(runs["cnn"] / "model.npz"),
        "--data",
        str(scaled),
        "--out-dir",
        str(tmp_path / "ev"),
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "range from" in line]
    assert len(warnings) == 1 and warnings[0].startswith("numnet: warning: "), done.stderr


def test_run_directory_without_model_is_one_error_line(kaggle, tmp_path):
    root, _ = kaggle
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    done = numnet_cli("predict", str(empty), "--input", str(root / "test.csv"), "--output", "x.csv")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("numnet: error: ") and "without model.npz" in lines[0]


def test_export_takes_a_run_directory_and_a_predictor(kaggle, tmp_path):
    onnx = pytest.importorskip("onnx")
    root, runs = kaggle
    out = tmp_path / "cnn.onnx"
    done = numnet_cli("export", str(runs["cnn"]), "-o", str(out))
    assert done.returncode == 0, done.stderr
    from_cli = onnx.load(str(out))
    predictor = numnet.load(runs["cnn"])
    proto = numnet.export_onnx(predictor, tmp_path / "lib.onnx")
    assert proto.graph.name == from_cli.graph.name == "numnet_ConvNet"
    names = {init.name for init in proto.graph.initializer}
    assert {"preprocess_mean", "preprocess_std"} <= names  # the stored preprocessing, as predict
    imported = tmp_path / "imported.npz"
    assert main(["import", str(out), "-o", str(imported)]) == 0
    again = numnet.load(imported)
    assert again.metadata["input_range"] == predictor.metadata["input_range"]
    X_raw, _ = read_kaggle_csv(root / "test.csv")
    np.testing.assert_allclose(
        again.predict_proba(X_raw), predictor.predict_proba(X_raw), atol=1e-6
    )
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    probabilities, labels = session.run(None, {"input": X_raw.astype(np.float32)})
    np.testing.assert_allclose(probabilities, predictor.predict_proba(X_raw), atol=1e-5)
    np.testing.assert_array_equal(labels, predictor.predict(X_raw))
