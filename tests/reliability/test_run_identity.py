"""``--resume`` trusts neither the working directory nor a directory's file names.

Run as a user would, through a subprocess: a run stores its data's absolute path, so resumed from
another directory it reads its own data; data whose content changed are refused (one line naming
the file and what changed), a foreign directory
holding a ``config.json`` is refused and left as it was, a damaged ``config.json`` is named with
its field, and runs written before these checks still resume.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from numnet.serialization import META_KEY, encode_metadata

from .helpers import snapshot, write_train_csv

TINY = ["--hidden-dims", "8", "--batch-size", "16", "--seed", "0", "--quiet"]


def numnet(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    """``python -m numnet ARGV`` in ``cwd``; stderr must never hold a traceback."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "numnet", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numnet: error: "), done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory) -> Path:
    """A 1-epoch run on ``start/train.csv``, started in ``start`` with a relative ``--data``."""
    start = tmp_path_factory.mktemp("start")
    write_train_csv(start / "train.csv")
    done = numnet(start, "train", "--data", "train.csv", "--epochs", "1", "--out-dir", "run", *TINY)
    assert done.returncode == 0, done.stderr
    return start


def copy_run(start: Path, tmp_path: Path) -> Path:
    """A private copy of the module's run directory (its config names its own out_dir)."""
    run = tmp_path / "run"
    shutil.copytree(start / "run", run)
    return run


def rewrite_metadata(checkpoint: Path, change) -> None:
    """Rewrite a checkpoint's JSON metadata in place with ``change(meta)`` (arrays untouched)."""
    with np.load(checkpoint, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays[META_KEY].tobytes().decode("utf-8"))
    change(meta)
    arrays[META_KEY] = encode_metadata(meta)
    checkpoint.unlink()
    np.savez(checkpoint, **arrays)
    assert zipfile.is_zipfile(checkpoint)


def test_a_new_run_is_marked_and_stores_its_data_identity(one_epoch_run):
    run = one_epoch_run / "run"
    marker = json.loads((run / ".numnet-run").read_text())
    assert marker == {"format": "numnet-run", "version": 1}
    identity = json.loads((run / "config.json").read_text())["data_identity"]
    (entry,) = identity["files"]
    assert entry["path"] == str((one_epoch_run / "train.csv").resolve())
    assert entry["size"] == (one_epoch_run / "train.csv").stat().st_size
    assert len(entry["sha256"]) == 64


def test_resume_from_another_directory_reads_the_runs_own_data(one_epoch_run, tmp_path):
    run = copy_run(one_epoch_run, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_train_csv(elsewhere / "train.csv", seed=5)  # same name, same shape, other pixels
    stored = json.loads((run / "config.json").read_text())["data"]
    assert stored == str((one_epoch_run / "train.csv").resolve())  # absolute, not "train.csv"
    done = numnet(elsewhere, "train", "--resume", str(run), "--epochs", "2")
    assert done.returncode == 0, done.stderr  # the run's own file, not elsewhere/train.csv
    run = copy_run(one_epoch_run, tmp_path / "again")
    before = snapshot(run)
    line = error_line(
        numnet(elsewhere, "train", "--resume", str(run), "--data", "train.csv", "--epochs", "2")
    )
    assert "cannot change --data" in line
    assert snapshot(run) == before


def test_resume_on_other_data_is_refused(one_epoch_run, tmp_path):
    run = copy_run(one_epoch_run, tmp_path)
    moved = tmp_path / "moved.csv"
    write_train_csv(moved, seed=5)  # the stored path now holds other pixels

    def point_elsewhere(meta):
        meta["metadata"]["train_config"]["data"] = str(moved)

    rewrite_metadata(run / "last.npz", point_elsewhere)
    before = snapshot(run)
    line = error_line(numnet(tmp_path, "train", "--resume", str(run), "--epochs", "2"))
    assert str(moved) in line
    assert "differs from the data the run was trained on" in line
    assert str((one_epoch_run / "train.csv").resolve()) in line  # where the run's data were
    assert snapshot(run) == before


def test_resume_with_the_same_content_elsewhere_continues(one_epoch_run, tmp_path):
    run = copy_run(one_epoch_run, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(one_epoch_run / "train.csv", elsewhere / "train.csv")
    done = numnet(elsewhere, "train", "--resume", str(run), "--epochs", "2")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_resume_of_a_run_without_a_stored_identity_says_so_once(one_epoch_run, tmp_path):
    run = copy_run(one_epoch_run, tmp_path)
    rewrite_metadata(run / "last.npz", lambda meta: meta["metadata"].pop("data_identity"))
    done = numnet(one_epoch_run, "train", "--resume", str(run), "--epochs", "2")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "identity" in line]
    assert len(notes) == 1 and "cannot check" in notes[0], done.stderr


def test_a_malformed_stored_identity_is_named(one_epoch_run, tmp_path):
    run = copy_run(one_epoch_run, tmp_path)

    def damage(meta):
        meta["metadata"]["data_identity"]["files"][0]["sha256"] = 7

    rewrite_metadata(run / "last.npz", damage)
    line = error_line(numnet(one_epoch_run, "train", "--resume", str(run), "--epochs", "2"))
    assert "last.npz" in line and "sha256" in line and "got 7" in line


@pytest.mark.parametrize(
    "files",
    [
        {"config.json": '{"lr": 0.1, "epochs": 3}'},
        {"config.json": '{"name": "webpack", "version": "1.0"}', "index.js": "x"},
        {"config.json": "[1, 2]"},
    ],
)
def test_a_foreign_directory_with_a_config_json_is_refused_and_untouched(tmp_path, files):
    foreign = tmp_path / "project"
    foreign.mkdir()
    for name, text in files.items():
        (foreign / name).write_text(text)
    before = snapshot(foreign)
    line = error_line(numnet(tmp_path, "train", "--resume", str(foreign)))
    assert str(foreign) in line
    assert snapshot(foreign) == before
    assert not (foreign / ".numnet-run").exists()


def test_a_foreign_marker_is_refused(one_epoch_run, tmp_path):
    run = copy_run(one_epoch_run, tmp_path)
    (run / ".numnet-run").write_text('{"format": "other-tool"}')
    before = snapshot(run)
    line = error_line(numnet(one_epoch_run, "train", "--resume", str(run), "--epochs", "2"))
    assert ".numnet-run" in line and "not a numnet run marker" in line
    assert snapshot(run) == before


def test_an_old_run_directory_without_marker_still_resumes_and_gets_one(one_epoch_run, tmp_path):
    run = copy_run(one_epoch_run, tmp_path)
    (run / ".numnet-run").unlink()
    done = numnet(one_epoch_run, "train", "--resume", str(run), "--epochs", "2")
    assert done.returncode == 0, done.stderr
    assert (run / ".numnet-run").is_file()


def _killed_before_first_checkpoint(start: Path, tmp_path: Path, change) -> Path:
    """A run dir as a kill before the first checkpoint leaves it, its config.json changed."""
    run = tmp_path / "dead"
    run.mkdir()
    shutil.copy(start / "run" / ".numnet-run", run / ".numnet-run")
    config = json.loads((start / "run" / "config.json").read_text())
    config["out_dir"] = str(run)
    change(config)
    (run / "config.json").write_text(json.dumps(config))
    return run


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("epochs", "many", "must be an integer"),
        ("lr", {"value": 1}, "must be a number"),
        ("hidden_dims", "8", "must be a list of integers"),
        ("augment", 1, "must be true or false"),
        ("batch_size", -4, "--batch-size"),  # the right type, a value the settings refuse
    ],
)
def test_a_damaged_config_json_names_file_field_and_value(
    one_epoch_run, tmp_path, field, value, expected
):
    run = _killed_before_first_checkpoint(
        one_epoch_run, tmp_path, lambda config: config.update({field: value})
    )
    before = snapshot(run)
    line = error_line(numnet(one_epoch_run, "train", "--resume", str(run)))
    assert str(run / "config.json") in line and expected in line
    assert repr(value) in line or str(value) in line
    assert snapshot(run) == before


def test_an_intact_config_json_restarts_the_run(one_epoch_run, tmp_path):
    run = _killed_before_first_checkpoint(one_epoch_run, tmp_path, lambda config: None)
    done = numnet(one_epoch_run, "train", "--resume", str(run))
    assert done.returncode == 0, done.stderr
    assert (run / "model.npz").is_file()


def test_a_huge_config_json_is_not_read_whole(one_epoch_run, tmp_path):
    run = _killed_before_first_checkpoint(one_epoch_run, tmp_path, lambda config: None)
    (run / "config.json").write_text('{"pad": "' + "x" * (2 << 20) + '"}')
    line = error_line(numnet(one_epoch_run, "train", "--resume", str(run)))
    assert "config.json" in line and "bytes" in line


def test_a_failed_new_run_leaves_an_empty_out_dir_empty(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (tmp_path / "bad.csv").write_text("label,pixel0\n0,300\n")
    done = numnet(tmp_path, "train", "--data", "bad.csv", "--out-dir", str(out), *TINY)
    assert done.returncode != 0
    assert list(out.iterdir()) == []
