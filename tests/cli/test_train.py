"""``numnet train``: files written, precedence, run directories, resume, Ctrl-C, defaults."""

from __future__ import annotations

import csv
import json
import re
import sys

import numpy as np
import pytest

from numnet.cli import main
from numnet.serialization import load_checkpoint, load_model, read_header
from tests.interrupts import sigint_default

from .conftest import TINY, last_error_line, train


def read_metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_train_writes_a_complete_run_directory(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--epochs", "2", "--lr", "0.002") == 0
    stdout = capsys.readouterr().out
    for name in (
        "model.npz",
        "last.npz",
        "best.npz",
        "config.json",
        "metrics.csv",
        "confusion_matrix.csv",
    ):
        assert (out / name).is_file(), name
    model, meta = load_model(out / "model.npz")
    assert model.get_config()["hidden_dims"] == [16]
    assert meta["class_names"] == [str(d) for d in range(10)]
    assert meta["preprocessing"]["sample_shape"] == [1, 8, 8]
    assert meta["train_config"]["lr"] == 0.002
    rows = read_metrics(out)
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    config = json.loads((out / "config.json").read_text())
    assert config["epochs"] == 2 and config["lr"] == 0.002 and config["hidden_dims"] == [16]
    assert config["optimizer"] == "adam" and config["max_train_samples"] == 300
    assert config["out_dir"] == str(out)
    # the final model is the best-validation one
    best = max(float(r["val_acc"]) for r in rows)
    assert meta["best_val_acc"] == pytest.approx(best)
    assert re.search(r"best validation accuracy 0\.\d{4}", stdout)
    assert re.search(r"test accuracy 0\.\d{4} on 359 test images", stdout)
    assert str(out) in stdout
    cm = np.loadtxt(out / "confusion_matrix.csv", delimiter=",", skiprows=1, usecols=range(1, 11))
    assert cm.shape == (10, 10) and cm.sum() == 359


def test_plots_written_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    assert train(out, "--epochs", "1") == 0
    for name in ("loss.png", "accuracy.png", "confusion_matrix.png"):
        assert (out / name).stat().st_size > 0


def test_missing_matplotlib_skips_plots_with_a_note(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    out = tmp_path / "run"
    assert main(["train", *TINY[:-1], "--epochs", "1", "--out-dir", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "matplotlib is not installed" in stdout
    assert not list(out.glob("*.png"))
    assert (out / "confusion_matrix.csv").is_file() and (out / "model.npz").is_file()


def test_flags_beat_config_file_beat_defaults(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('epochs = 2\nlr = 0.01\nhidden-dims = [12]\noptimizer = "momentum"\n')
    out = tmp_path / "run"
    assert train(out, "--config", str(toml), "--lr", "0.005") == 0
    config = json.loads((out / "config.json").read_text())
    assert config["lr"] == 0.005  # flag over file
    assert config["epochs"] == 2 and config["optimizer"] == "momentum"  # file over default
    assert config["hidden_dims"] == [16]  # TINY's flag over the file's [12]
    assert config["batch_size"] == 32 and config["val_fraction"] == 0.1  # flag / default
    assert len(read_metrics(out)) == 2


def test_default_run_dirs_are_numbered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *TINY, "--epochs", "1"]) == 0
    assert main(["train", *TINY, "--epochs", "1"]) == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["001", "002"]
    assert (tmp_path / "runs" / "002" / "model.npz").is_file()


def test_refuses_non_empty_out_dir_and_keeps_its_files(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_bytes(b"precious")
    assert train(out, "--epochs", "1") == 2
    line = last_error_line(capsys.readouterr().err)
    assert "not empty" in line and "--resume" in line
    assert (out / "model.npz").read_bytes() == b"precious"
    assert sorted(p.name for p in out.iterdir()) == ["model.npz"]


@pytest.mark.parametrize(
    ("flags", "flag"),
    [
        (["--lr", "0"], "--lr"),
        (["--lr", "-0.1"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--batch-size", "0"], "--batch-size"),
        (["--epochs", "0"], "--epochs"),
        (["--hidden-dims", "0"], "--hidden-dims"),
        (["--hidden-dims", "10", "-5"], "--hidden-dims"),
        (["--dropout", "0"], "--dropout"),
        (["--dropout", "1.5"], "--dropout"),
        (["--val-fraction", "1"], "--val-fraction"),
        (["--warmup-epochs", "2"], "--warmup-epochs"),
        (["--schedule", "cosine", "--lr-decay", "0.9"], "--lr-decay"),
        (["--model", "cnn", "--normalization", "layernorm"], "--normalization"),
        (["--label-smoothing", "1"], "--label-smoothing"),
        (["--label-smoothing", "-0.1"], "--label-smoothing"),
        (["--label-smoothing", "nan"], "--label-smoothing"),
    ],
)
def test_invalid_values_exit_2_before_anything_is_written(tmp_path, capsys, flags, flag):
    out = tmp_path / "run"
    assert main(["train", "--out-dir", str(out), *flags]) == 2
    line = last_error_line(capsys.readouterr().err)
    assert line.startswith(f"numnet: error: {flag} ")
    assert not out.exists()


def test_config_file_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("learning_rate = 0.1\n")
    assert main(["train", "--config", str(bad), "--out-dir", str(tmp_path / "r")]) == 2
    assert "unknown key 'learning_rate'" in last_error_line(capsys.readouterr().err)
    bad.write_text("lr = [\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "not valid TOML" in last_error_line(capsys.readouterr().err)
    assert main(["train", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in last_error_line(capsys.readouterr().err)
    bad.write_text("epochs = 0\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "--epochs must be >= 1" in last_error_line(capsys.readouterr().err)


def test_unwritable_out_dir_is_a_config_error(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["train", "--out-dir", str(blocker / "run")]) == 2
    assert "cannot write to output directory" in last_error_line(capsys.readouterr().err)
    assert main(["train", "--out-dir", str(blocker)]) == 2
    assert "is a file" in last_error_line(capsys.readouterr().err)


def test_data_error_exits_1_and_removes_the_new_empty_run_dir(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "nope.csv"), "--out-dir", str(out)]) == 1
    assert "no such file" in last_error_line(capsys.readouterr().err)
    assert not out.exists()


def test_debug_shows_the_traceback(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["train", "--data", str(tmp_path / "nope.csv"), "--out-dir", str(out), "--debug"]) == 1
    )
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("numnet: error: no such file")


def test_resume_continues_and_matches_an_uninterrupted_run(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert train(whole, "--epochs", "3") == 0
    assert train(split, "--epochs", "1") == 0
    assert main(["train", "--resume", str(split), "--epochs", "3", "--quiet"]) == 0
    assert [int(r["epoch"]) for r in read_metrics(split)] == [1, 2, 3]
    assert json.loads((split / "config.json").read_text())["epochs"] == 3
    a, _ = load_model(whole / "model.npz")
    b, _ = load_model(split / "model.npz")
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])


def test_resume_refuses_changes_to_model_or_data(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--epochs", "1") == 0
    before = (out / "last.npz").read_bytes()
    assert (
        main(["train", "--resume", str(out), "--epochs", "2", "--lr", "0.5", "--hidden-dims", "8"])
        == 2
    )
    line = last_error_line(capsys.readouterr().err)
    assert "--hidden-dims" in line and "--lr" in line
    assert main(["train", "--resume", str(out), "--epochs", "0"]) == 2
    assert "--epochs must be >= 1" in last_error_line(capsys.readouterr().err)
    # epochs not raised: the run is finished, so resuming it is a no-op that says so (a run killed
    # at the moment it finished is recovered by --resume like any other)
    assert main(["train", "--resume", str(out)]) == 0
    captured = capsys.readouterr()
    assert "already finished its 1 epoch and" in captured.out and "--epochs above 1" in captured.out
    assert captured.err == ""
    assert main(["train", "--resume", str(tmp_path / "nothing")]) == 2
    assert "no such run directory" in last_error_line(capsys.readouterr().err)
    assert (out / "last.npz").read_bytes() == before


def _interrupt_at(monkeypatch, iteration: int) -> None:
    from numnet.solver import Solver

    original = Solver.step

    def step(self, *args, **kwargs):
        if self.iteration == iteration:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Solver, "step", step)


@pytest.mark.parametrize("interrupt_epoch", [0, 1])
def test_ctrl_c_saves_checkpoint_and_resume_finishes(
    tmp_path, capsys, monkeypatch, interrupt_epoch
):
    out = tmp_path / "run"
    steps_per_epoch = 9  # ceil(270 / 32): 300 samples minus 30 for validation
    _interrupt_at(monkeypatch, interrupt_epoch * steps_per_epoch + 3)
    assert train(out, "--epochs", "3") == 130
    err = capsys.readouterr().err
    assert f"numnet train --resume {out}" in err and "Traceback" not in err
    assert read_header(out / "last.npz")["epoch"] == interrupt_epoch
    assert not (out / "model.npz").exists()
    monkeypatch.undo()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    assert load_checkpoint(out / "last.npz")["meta"]["epoch"] == 3
    assert [int(r["epoch"]) for r in read_metrics(out)] == [1, 2, 3]
    assert (out / "model.npz").is_file()


def test_val_fraction_zero_trains_with_a_note(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["train", *TINY[:-1], "--epochs", "1", "--val-fraction", "0", "--out-dir", str(out)])
        == 0
    )
    stdout = capsys.readouterr().out
    assert "validation accuracy is measured on the training data" in stdout
    assert "best training accuracy" in stdout


def test_cnn_and_other_optimizers_train(tmp_path):
    assert (
        train(
            tmp_path / "cnn",
            "--model",
            "cnn",
            "--conv-channels",
            "4",
            "--epochs",
            "1",
            "--normalization",
            "batchnorm",
        )
        == 0
    )
    assert load_model(tmp_path / "cnn" / "model.npz")[0].get_config()["class"] == "ConvNet"
    assert (
        train(
            tmp_path / "sgd",
            "--optimizer",
            "nesterov",
            "--lr",
            "0.05",
            "--epochs",
            "2",
            "--schedule",
            "warmup-cosine",
            "--warmup-epochs",
            "1",
            "--clip-norm",
            "5",
            "--augment",
            "--early-stopping",
            "3",
            "--init",
            "xavier",
        )
        == 0
    )


def test_label_smoothing_and_augmentation_reach_the_model_file(tmp_path):
    flags = ("--model", "cnn", "--conv-channels", "4", "--epochs", "1", "--augment")
    assert train(tmp_path / "run", *flags, "--label-smoothing", "0.1") == 0
    model = load_model(tmp_path / "run" / "model.npz")[0]
    assert model.label_smoothing == 0.1
    assert model.get_config()["label_smoothing"] == 0.1


def test_blank_image_is_the_standardised_black_pixel():
    from numnet.cli.build import blank_image, prepare_data
    from numnet.cli.config import defaults

    for model in ("cnn", "mlp"):
        config = {**defaults(), "model": model}
        data = prepare_data(config)
        blank = blank_image(data)
        assert blank.shape == data.image_shape
        stats = data.metadata["preprocessing"]
        mean = np.asarray(stats["mean"], dtype=np.float64).reshape(-1)
        std = np.asarray(stats["std"], dtype=np.float64).reshape(-1)
        expected = -mean / std  # a raw 0 pixel after (x * scale - mean) / std
        np.testing.assert_allclose(
            blank.reshape(-1),
            np.broadcast_to(expected, blank.size) if model == "cnn" else expected,
            rtol=1e-5,
        )
        # black is below the mean: never 0 for the per-channel CNN statistics; per pixel, only
        # the pixels that are black in every training image have mean 0 and stay at 0
        assert blank.max() < -0.1 if model == "cnn" else blank.min() < -0.1


def test_defaults_reach_97_percent_on_digits(tmp_path, capsys):
    """The no-argument command (only the out dir given) must reach >= 0.97 test accuracy."""
    assert main(["train", "--quiet", "--out-dir", str(tmp_path / "run")]) == 0
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", capsys.readouterr().out).group(1))
    assert accuracy >= 0.97


def test_real_sigint_in_a_subprocess(tmp_path):
    """SIGINT to a running ``python -m numnet train``: exit 130, resumable checkpoint, advice."""
    import os
    import signal
    import subprocess
    import time

    out = tmp_path / "run"
    argv = [
        sys.executable,
        "-m",
        "numnet",
        "train",
        *TINY,
        "--epochs",
        "100000",
        "--out-dir",
        str(out),
    ]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_default,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_rows_if_any(out)) < 2:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert f"numnet train --resume {out}" in err and "Traceback" not in err
    assert read_header(out / "last.npz")["epoch"] >= 1


def _rows_if_any(run_dir):
    try:
        return read_metrics(run_dir)
    except FileNotFoundError:
        return []
