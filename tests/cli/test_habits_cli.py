"""Command-line habits (issue 14 item 4), through a subprocess as a user runs numnet.

"Did you mean" for mistyped flags and dataset names, a missing file called a missing file, the
run's config.json accepted by --config, --lr-decay doing what its help says, counts in the right
number, honest help texts and the dataset name of a bare train.csv.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from numnet.data import load_digits
from numnet.serialization import read_header

from .conftest import numnet, write_pixels_csv

TINY = ["--max-train-samples", "200", "--hidden-dims", "8", "--batch-size", "50", "--quiet"]


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numnet: error: "), result.stderr
    return lines[0]


def test_a_mistyped_flag_gets_a_suggestion():
    result = numnet("train", "--hiden-dims", "16")
    assert result.returncode == 2
    assert "did you mean --hidden-dims?" in one_error(result)
    result = numnet("evaluate", "model.npz", "--out-dri", "x")
    assert "did you mean --out-dir?" in one_error(result)


def test_a_flag_unlike_any_gets_no_guess():
    result = numnet("train", "--zzzzzz")
    assert "did you mean" not in one_error(result)


def test_a_mistyped_dataset_name_gets_a_suggestion(tmp_path):
    result = numnet("train", "--data", "fashon-mnist", *TINY, cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown dataset 'fashon-mnist'; did you mean fashion-mnist?" in one_error(result)


def test_a_missing_file_is_called_a_missing_file(tmp_path):
    (tmp_path / "train.csv").write_text("label,pixel0\n1,0\n")
    result = numnet("train", "--data", "trian.csv", *TINY, cwd=tmp_path)
    line = one_error(result)
    assert "no such file: trian.csv; did you mean train.csv?" in line
    assert "unknown dataset" not in line
    result = numnet("train", "--data", "elsewhere/data.csv", *TINY, cwd=tmp_path)
    assert "no such file: elsewhere/data.csv" in one_error(result)


@pytest.fixture(scope="module")
def bare_csv_run(tmp_path_factory):
    """A run on ``--data train.csv`` given relative to its directory (2 epochs)."""
    where = tmp_path_factory.mktemp("kaggle")
    digits = load_digits()
    write_pixels_csv(where / "train.csv", digits.X_train[:300], digits.y_train[:300])
    result = numnet(
        "train", "--data", "train.csv", *TINY[2:], "--epochs", "2", "--out-dir", "run", cwd=where
    )
    assert result.returncode == 0, result.stderr
    return where


def test_a_bare_train_csv_has_a_dataset_name_and_an_absolute_path(bare_csv_run):
    header = read_header(bare_csv_run / "run" / "model.npz")
    metadata = header["metadata"]
    assert metadata["dataset"] == f"{bare_csv_run.name}/train.csv"
    assert metadata["train_config"]["data"] == str((bare_csv_run / "train.csv").resolve())
    identity = metadata["data_identity"]
    assert identity["files"][0]["path"] == str((bare_csv_run / "train.csv").resolve())
    assert len(identity["files"][0]["sha256"]) == 64


def test_the_run_config_json_is_accepted_by_config(bare_csv_run, tmp_path):
    run = bare_csv_run / "run"
    again = tmp_path / "again"
    result = numnet("train", "--config", str(run / "config.json"), "--out-dir", str(again))
    assert result.returncode == 0, result.stderr
    first = json.loads((run / "config.json").read_text())
    second = json.loads((again / "config.json").read_text())
    for settings in (first, second):
        settings.pop("out_dir")
    assert first == second  # the same settings and the same data (identity included)
    metrics = [(run / "metrics.csv").read_text(), (again / "metrics.csv").read_text()]
    rows = [[line.split(",")[:4] for line in text.splitlines()] for text in metrics]
    assert rows[0] == rows[1]  # same seed, same data: the same numbers (up to the timing column)
    # its run directory works too, and flags still win
    result = numnet(
        "train", "--config", str(run), "--epochs", "1", "--out-dir", str(tmp_path / "b")
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "b" / "config.json").read_text())["epochs"] == 1


def test_a_config_json_with_a_foreign_key_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"epochs": 1, "learning_rate": 0.1}))
    result = numnet("train", "--config", str(path))
    assert result.returncode == 2
    assert "unknown key 'learning_rate'" in one_error(result)


def test_lr_decay_decays_the_default_constant_schedule_as_its_help_says(tmp_path):
    help_text = " ".join(numnet("train", "--help").stdout.split())
    assert "with the default constant schedule this makes it a step schedule" in help_text
    out = tmp_path / "run"
    result = numnet("train", *TINY, "--epochs", "2", "--lr-decay", "0.5", "--out-dir", str(out))
    assert result.returncode == 0, result.stderr
    with open(out / "metrics.csv", newline="") as handle:
        lrs = [float(row["lr"]) for row in csv.DictReader(handle)]
    assert lrs == pytest.approx([1e-3, 5e-4])


def test_counts_are_singular_and_plural(tmp_path):
    result = numnet("train", *TINY[:-1], "--epochs", "1", "--out-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert "1 epoch," in result.stdout and "(1 epoch)" in result.stdout
    assert "1 epochs" not in result.stdout + result.stderr
    result = numnet("train", "--resume", str(tmp_path / "run"))
    assert "finished its 1 epoch and" in result.stdout


def test_help_speaks_of_no_downloads_and_of_the_keep_probability():
    for command in ("train", "evaluate"):
        text = " ".join(numnet(command, "--help").stdout.split())
        assert "download" not in text.replace("nothing is downloaded", "")
    text = " ".join(numnet("train", "--help").stdout.split())
    assert "KEEP probability" in text


def test_install_hints_name_the_checkout_extra():
    root = Path(__file__).resolve().parents[2]
    sources = [p.read_text() for p in (root / "numnet").rglob("*.py")]
    assert not [s for s in sources if "pip install numnet[" in s]
    assert "pip install numnet[" not in (root / "README.md").read_text()


def test_dataset_name_suggestion_helper_knows_paths_from_words(tmp_path, monkeypatch):
    from numnet.data.datasets import missing_data_message

    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.csv").write_text("")
    assert missing_data_message("digts").startswith("unknown dataset 'digts'; did you mean digits?")
    assert missing_data_message("trainn.csv") == "no such file: trainn.csv; did you mean train.csv?"
    assert "did you mean" not in missing_data_message("q.csv")


def test_no_plots_writes_the_csv_files_only(tmp_path):
    out = tmp_path / "run"
    result = numnet("train", *TINY, "--epochs", "1", "--no-plots", "--out-dir", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "confusion_matrix.csv").is_file() and (out / "model.npz").is_file()
    assert not list(out.glob("*.png"))
    assert "plots" not in read_header(out / "model.npz")["metadata"]["train_config"]
