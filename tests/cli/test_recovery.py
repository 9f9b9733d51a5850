"""Recovery of crashed ``numnet train`` runs, in process (the kill -9 tests live in reliability/).

A run killed before its first checkpoint leaves only ``config.json``, a header-only ``metrics.csv``
and temporary files: re-running the same command, or ``--resume``, starts it again. A run killed
after its last epoch but before its final files is finished by ``--resume``.
"""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np

from numnet.callbacks import EarlyStopping
from numnet.cli import main
from numnet.cli.callbacks import RunCheckpoint
from numnet.serialization import load_model

from .conftest import last_error_line, train

EPOCHS = ["--epochs", "2"]
TEMP_LEFTOVER = ".last.npz.k3x9_q2a.tmp"


def _assert_same_model(a_path, b_path) -> None:
    a, _ = load_model(a_path)
    b, _ = load_model(b_path)
    assert sorted(a.params) == sorted(b.params)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])


def _dead_before_first_checkpoint(whole, dead) -> None:
    """What a kill during the first ``last.npz`` write leaves behind (settings of ``whole``)."""
    dead.mkdir()
    config = json.loads((whole / "config.json").read_text())
    config["out_dir"] = str(dead)
    (dead / "config.json").write_text(json.dumps(config))
    (dead / "metrics.csv").write_text("epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds\n")
    (dead / TEMP_LEFTOVER).write_bytes(b"PK\x03\x04 half a checkpoint")


def test_rerun_reuses_the_dir_of_a_run_killed_before_its_first_checkpoint(tmp_path):
    whole, dead = tmp_path / "whole", tmp_path / "dead"
    assert train(whole, *EPOCHS) == 0
    _dead_before_first_checkpoint(whole, dead)
    assert train(dead, *EPOCHS) == 0
    assert not (dead / TEMP_LEFTOVER).exists()
    _assert_same_model(dead / "model.npz", whole / "model.npz")


def test_resume_restarts_a_run_killed_before_its_first_checkpoint(tmp_path):
    whole, dead = tmp_path / "whole", tmp_path / "dead"
    assert train(whole, *EPOCHS) == 0
    _dead_before_first_checkpoint(whole, dead)
    assert main(["train", "--resume", str(dead), "--quiet"]) == 0
    assert not (dead / TEMP_LEFTOVER).exists()
    _assert_same_model(dead / "model.npz", whole / "model.npz")


def test_a_dir_with_foreign_files_is_still_refused(tmp_path, capsys):
    for name, content in [
        ("config.json", '{"lr": 0.1}'),  # not this run's settings (no out_dir)
        ("config.json", json.dumps({"out_dir": str(tmp_path / "elsewhere")})),
        ("metrics.csv", "epoch,lr\n1,0.1\n"),  # holds results
        ("notes.txt", "mine"),
        (".hidden.tmp", "mine"),  # not a numnet temporary name
    ]:
        out = tmp_path / "run"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        (out / name).write_text(content)
        assert train(out, "--epochs", "1") == 2, name
        assert "not empty" in last_error_line(capsys.readouterr().err)
        assert [p.name for p in out.iterdir()] == [name]
        assert (out / name).read_text() == content


def test_resume_finishes_a_run_killed_before_its_final_files(tmp_path, capsys):
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert train(whole, *EPOCHS) == 0
    shutil.copytree(whole, split)
    config = json.loads((split / "config.json").read_text())
    config["out_dir"] = str(split)
    (split / "config.json").write_text(json.dumps(config))
    for name in ("model.npz", "confusion_matrix.csv", "confusion_matrix.png"):
        (split / name).unlink(missing_ok=True)
    last_before = (split / "last.npz").read_bytes()
    capsys.readouterr()
    assert main(["train", "--resume", str(split), "--no-quiet"]) == 0
    assert "finishing" in capsys.readouterr().out
    _assert_same_model(split / "model.npz", whole / "model.npz")
    assert (split / "confusion_matrix.csv").read_text() == (
        whole / "confusion_matrix.csv"
    ).read_text()
    assert (split / "last.npz").read_bytes() == last_before
    # now finished: resuming again changes nothing and says so
    written = {p.name: p.stat().st_mtime_ns for p in split.iterdir()}
    assert main(["train", "--resume", str(split), "--quiet"]) == 0
    assert "already finished its 2 epochs" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in split.iterdir()} == written


def test_ctrl_c_before_the_first_checkpoint_says_how_to_continue(tmp_path, capsys, monkeypatch):
    whole, out = tmp_path / "whole", tmp_path / "run"
    assert train(whole, *EPOCHS) == 0

    def interrupted(self, solver):
        raise KeyboardInterrupt

    monkeypatch.setattr(RunCheckpoint, "on_train_begin", interrupted)
    assert train(out, *EPOCHS) == 130
    err = capsys.readouterr().err
    assert f"numnet train --resume {out}" in err and "Traceback" not in err
    assert not (out / "last.npz").exists()
    monkeypatch.undo()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    _assert_same_model(out / "model.npz", whole / "model.npz")


def test_early_stopping_resumed_at_its_stopping_epoch_stops_at_once():
    stopper = EarlyStopping(patience=2)
    stopper.set_state({"best": 0.9, "wait": 2})
    solver = SimpleNamespace(stop_training=False, epoch=4)
    stopper.on_train_begin(solver)
    assert solver.stop_training and stopper.stopped_epoch == 4
    patient = EarlyStopping(patience=2)
    patient.set_state({"best": 0.9, "wait": 1})
    solver = SimpleNamespace(stop_training=False, epoch=3)
    patient.on_train_begin(solver)
    assert not solver.stop_training
