"""``numnet sweep`` end to end on the embedded digits: tiny trials (200-300 images, 1-3 epochs)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from numnet.cli import main
from numnet.cli.parser import build_parser
from tests.interrupts import sigint_default

optuna = pytest.importorskip("optuna")

TINY = ["--max-train-samples", "200", "--batch-size", "32"]
SMALL = [*TINY, "--hidden-dims", "16"]  # when the space does not sweep hidden-dims
SPACE = """
hidden-dims = [[16], [16, 8]]

[lr]
low = 1e-3
high = 0.1
log = true
"""


def _sweep(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["sweep", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _study(sweep_dir, name="numnet-sweep"):
    from numnet.cli.sweep.storage import open_storage

    return optuna.load_study(study_name=name, storage=open_storage(None, sweep_dir))


def _epochs_trained(run_dir) -> int:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return len(list(csv.DictReader(handle)))


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """Three one-epoch trials, no pruner: (sweep dir, space file, stdout)."""
    root = tmp_path_factory.mktemp("sweep")
    space = root / "space.toml"
    space.write_text(SPACE)
    sweep_dir = root / "sw"
    argv = ["--space", str(space), "--trials", "3", "--epochs", "1", "--pruner", "none"]
    out = io.StringIO()  # capsys is per test; this fixture is shared by the module
    with contextlib.redirect_stdout(out):
        code = main(["sweep", *argv, *TINY, "--sweep-dir", str(sweep_dir)])
    assert code == 0
    return sweep_dir, space, out.getvalue()


def test_each_trial_is_a_train_run_in_its_directory(tiny_sweep):
    sweep_dir, _, out = tiny_sweep
    study = _study(sweep_dir)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    for trial in study.trials:
        run_dir = sweep_dir / f"trial-{trial.number:04d}"
        for name in ("model.npz", "config.json", "metrics.csv", "last.npz", "train.log"):
            assert (run_dir / name).is_file(), name
        assert not list(run_dir.glob("*.png"))  # trials draw no pictures by default
        config = json.loads((run_dir / "config.json").read_text())
        assert config["lr"] == trial.params["lr"]
        assert " ".join(map(str, config["hidden_dims"])) == trial.params["hidden_dims"]
        assert config["epochs"] == 1 and config["max_train_samples"] == 200
        assert trial.value == pytest.approx(max(trial.intermediate_values.values()))
        assert f"trial {trial.number} complete" in out


def test_table_best_and_pictures(tiny_sweep):
    sweep_dir, _, out = tiny_sweep
    study = _study(sweep_dir)
    best = max(study.trials, key=lambda t: t.value)
    assert "study numnet-sweep: 3 trials (3 complete)" in out
    header = next(line for line in out.splitlines() if line.startswith("trial  state"))
    assert header.split() == ["trial", "state", "val", "acc", "hidden-dims", "lr"]
    settings = json.loads((sweep_dir / "best" / "settings.json").read_text())
    assert settings["trial"] == best.number
    copied = (sweep_dir / "best" / "model.npz").read_bytes()
    assert copied == (sweep_dir / f"trial-{best.number:04d}" / "model.npz").read_bytes()
    pytest.importorskip("matplotlib")
    for name in ("history.png", "importances.png", "parallel_coordinate.png"):
        assert (sweep_dir / name).stat().st_size > 0, name


def test_show_on_the_existing_study(tiny_sweep, capsys):
    sweep_dir, _, _ = tiny_sweep
    (sweep_dir / "best" / "model.npz").unlink()
    code, out, err = _sweep(capsys, "--show", "--sweep-dir", str(sweep_dir))
    assert code == 0, err
    assert "study numnet-sweep: 3 trials (3 complete)" in out
    assert (sweep_dir / "best" / "model.npz").is_file()
    assert "optuna-dashboard" in out


def test_pictures_without_matplotlib_say_how_to_install(tiny_sweep, monkeypatch):
    from numnet.cli.sweep.show import write_pictures

    sweep_dir, _, _ = tiny_sweep
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    line = write_pictures(_study(sweep_dir), sweep_dir)
    assert line.startswith("no pictures: matplotlib is not installed")
    assert "pip install -e '.[plot]'" in line


def test_show_without_a_study_is_one_line(tmp_path, capsys):
    code, out, err = _sweep(capsys, "--show", "--sweep-dir", str(tmp_path / "none"))
    assert code == 2 and err.count("\n") == 1 and "no sweep in" in err
    assert not (tmp_path / "none").exists()


def test_another_space_on_the_study_is_one_line(tiny_sweep, capsys, tmp_path):
    sweep_dir, _, _ = tiny_sweep
    space = tmp_path / "other.toml"
    space.write_text(SPACE.replace("high = 0.1", "high = 0.2"))
    argv = ["--space", str(space), "--trials", "4", "--epochs", "1", "--pruner", "none"]
    code, _, err = _sweep(capsys, *argv, *TINY, "--sweep-dir", str(sweep_dir))
    assert code == 2 and err.count("\n") == 1 and "another space" in err


def test_restart_continues_the_study_up_to_n(tiny_sweep, capsys):
    sweep_dir, space, _ = tiny_sweep
    argv = ["--space", str(space), "--trials", "4", "--epochs", "1", "--pruner", "none"]
    code, out, err = _sweep(capsys, *argv, *TINY, "--sweep-dir", str(sweep_dir))
    assert code == 0, err
    assert len(_study(sweep_dir).trials) == 4
    assert "trial 3 complete" in out and "trial 2 complete" not in out


def _prepared_study(tmp_path, argv, queued):
    """Create the sweep's study before it runs and queue trials with these settings."""
    from numnet.cli.sweep import storage
    from numnet.cli.sweep.command import SWEEP_MARKER, _fixed, sweep_dir_of
    from numnet.cli.sweep.space import load_space, space_digest

    args = build_parser().parse_args(["sweep", *argv])
    _, fixed, typed = _fixed(args)
    digest = space_digest(load_space(args.space, fixed, typed), fixed)
    sweep_dir = sweep_dir_of(args)
    sweep_dir.mkdir(parents=True)
    (sweep_dir / SWEEP_MARKER).touch()
    store = storage.open_storage(None, sweep_dir)
    storage.create_study_once(store, args.study, digest)
    study = optuna.load_study(study_name=args.study, storage=store)
    for params in queued:
        study.enqueue_trial(params)
    return sweep_dir


def test_pruning_stops_an_absurd_learning_rate_before_its_last_epoch(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text("lr = [0.01, 1e-7]\n")
    argv = [
        "--space", str(space), "--trials", "3", "--epochs", "2", "--pruner", "median",
        "--pruner-startup-trials", "2", "--pruner-warmup-epochs", "1",
        *SMALL, "--sweep-dir", str(tmp_path / "sw"),
    ]  # fmt: skip
    sweep_dir = _prepared_study(tmp_path, argv, [{"lr": 0.01}, {"lr": 0.01}, {"lr": 1e-7}])
    code, out, err = _sweep(capsys, *argv)
    assert code == 0, err
    states = [t.state.name for t in _study(sweep_dir).trials]
    assert states == ["COMPLETE", "COMPLETE", "PRUNED"]
    pruned = sweep_dir / "trial-0002"
    assert _epochs_trained(pruned) == 1 < _epochs_trained(sweep_dir / "trial-0000") == 2
    assert (pruned / "model.npz").is_file()  # a pruned run still writes its files
    assert "pruned after epoch 1" in (pruned / "PRUNED").read_text()
    assert "trial 2 pruned" in out and "pruned" in out.split("study numnet-sweep")[1]


def test_a_diverging_trial_is_pruned_with_a_note(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text("lr = [1000.0]\n")
    argv = ["--space", str(space), "--trials", "1", "--epochs", "3", "--optimizer", "sgd"]
    code, out, err = _sweep(capsys, *argv, *SMALL, "--sweep-dir", str(tmp_path / "sw"))
    assert code == 0, err
    (trial,) = _study(tmp_path / "sw").trials
    assert trial.state.name == "PRUNED"
    assert "diverged" in (tmp_path / "sw" / "trial-0000" / "PRUNED").read_text()
    assert "no trial has completed yet" in out


def test_refused_combinations_fail_their_trials_then_stop_the_sweep(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text("schedule = ['constant', 'cosine']\nlr-decay = [0.5, 1.0]\n")
    argv = ["--space", str(space), "--trials", "2", *SMALL, "--sweep-dir", str(tmp_path / "sw")]
    refused = {"schedule": "cosine", "lr_decay": 0.5}  # each value is fine, not the two together
    sweep_dir = _prepared_study(tmp_path, argv, [refused] * 3)
    code, out, err = _sweep(capsys, *argv)
    assert code == 1 and err.count("\n") == 1
    assert "3 trials in a row were refused by numnet train" in err and "--lr-decay" in err
    assert [t.state.name for t in _study(sweep_dir).trials] == ["FAIL"] * 3
    assert out.count("refused by numnet train") == 3
    assert not list(sweep_dir.glob("trial-*"))  # refused before anything was trained


def test_without_optuna_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    code, _, err = _sweep(capsys, "--space", str(tmp_path / "s.toml"), "--trials", "1")
    assert code == 1
    assert err == (
        "numnet: error: numnet sweep needs Optuna; install it with pip install -e '.[sweep]'\n"
    )


def test_worker_command_line_repeats_the_sweep():
    from numnet.cli.sweep.workers import worker_argv

    argv = ["sweep", "--space", "s.toml", "--trials", "7", "--workers", "2", "--timeout", "9.5"]
    argv += ["--lr", "0.5", "--hidden-dims", "8", "4", "--augment", "--no-quiet"]
    args = build_parser().parse_args(argv)
    again = build_parser().parse_args(worker_argv(args, 1)[3:])
    assert again.worker_index == 1 and again.workers == 1
    for key in ("space", "trials", "timeout", "lr", "hidden_dims", "augment", "quiet", "study"):
        assert getattr(again, key) == getattr(args, key), key


def _run(argv, cwd, **kwargs):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.Popen(
        [sys.executable, "-m", "numnet", "sweep", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_default,
        **kwargs,
    )


def test_two_workers_share_n_trials(tmp_path):
    """Two worker processes of one sweep (two interpreters: the slowest test here)."""
    (tmp_path / "space.toml").write_text("lr = [0.01, 0.02, 0.03]\n")
    argv = ["--space", "space.toml", "--trials", "2", "--workers", "2", "--epochs", "1", *SMALL]
    out, err = _run([*argv, "--sweep-dir", "sw"], tmp_path).communicate(timeout=300)
    assert "2 worker processes" in out, err
    assert "study numnet-sweep: 2 trials (2 complete)" in out, err
    assert sorted(p.name for p in (tmp_path / "sw").glob("trial-*")) == [
        "trial-0000",
        "trial-0001",
    ]


def test_ctrl_c_stops_cleanly_and_fails_the_running_trial(tmp_path):
    (tmp_path / "space.toml").write_text("lr = [0.01]\n")
    argv = [
        "--space",
        "space.toml",
        "--trials",
        "1",
        "--epochs",
        "500",
        *SMALL,
        "--sweep-dir",
        "sw",
    ]
    process = _run(argv, tmp_path)
    metrics = tmp_path / "sw" / "trial-0000" / "metrics.csv"
    deadline = time.monotonic() + 120
    while not (metrics.is_file() and _epochs_trained(metrics.parent) >= 1):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "numnet: interrupted"
    assert "Traceback" not in err
    (trial,) = _study(tmp_path / "sw").trials
    assert trial.state.name == "FAIL"
    assert (tmp_path / "sw" / "trial-0000" / "INTERRUPTED").is_file()


def test_hyperband_pruner_runs(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text("lr = [0.01, 0.02]\n")
    argv = ["--space", str(space), "--trials", "2", "--epochs", "2", "--pruner", "hyperband"]
    code, out, err = _sweep(capsys, *argv, *SMALL, "--sweep-dir", str(tmp_path / "sw"))
    assert code == 0, err
    assert "pruner hyperband" in out and "study numnet-sweep: 2 trials" in out


def test_ctrl_c_stops_every_worker(tmp_path):
    (tmp_path / "space.toml").write_text("lr = [0.01, 0.02]\n")
    argv = ["--space", "space.toml", "--trials", "4", "--workers", "2", "--epochs", "500"]
    process = _run([*argv, *SMALL, "--sweep-dir", "sw"], tmp_path)
    deadline = time.monotonic() + 120
    while len(list((tmp_path / "sw").glob("trial-*/metrics.csv"))) < 2:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)  # to the parent only: it passes one on to each worker
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    states = sorted(t.state.name for t in _study(tmp_path / "sw").trials)
    assert states == ["FAIL", "FAIL"]
    assert len(list((tmp_path / "sw").glob("trial-*/INTERRUPTED"))) == 2
