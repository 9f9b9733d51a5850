"""Faults during training: kill -9 at many moments, Ctrl-C, and divergence.

Every kill is followed by the recovery a user would do (``numnet train --resume DIR``, or the
original command when no checkpoint exists yet); the run must then finish with weights and
optimizer state *equal* (``np.array_equal``) to those of an uninterrupted run with the same seed.
Kills inside a checkpoint write use ``fault_launcher.py``, which pauses the child in the middle of
the chosen atomic write so the test can kill it exactly there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from numnet.serialization import load_checkpoint, load_model
from tests.interrupts import sigint_default

LAUNCHER = Path(__file__).with_name("fault_launcher.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 6
TRAIN_ARGS = [
    "--data", "digits", "--model", "mlp", "--hidden-dims", "32", "--epochs", str(EPOCHS),
    "--batch-size", "2", "--seed", "11", "--quiet",
]  # fmt: skip
COMPARED_GROUPS = ("params/", "buffers/", "optim/", "best_params/")

pytestmark = pytest.mark.slow


def _env(**pause: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELIABILITY_")}
    env.update(pause)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    return env


_STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_orphans():
    """Kill any child a failing test left running (only the processes this module started)."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _start(args: list[str], **pause: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "train", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(**pause),
        cwd=REPO_ROOT,
        preexec_fn=sigint_default,
    )
    _STARTED.append(proc)
    return proc


def _run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = _start(args)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _fresh_args(run_dir: Path) -> list[str]:
    return [*TRAIN_ARGS, "--out-dir", str(run_dir)]


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files if key.startswith(COMPARED_GROUPS)}


def _assert_same_arrays(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert sorted(actual) == sorted(expected)
    different = [key for key in expected if not np.array_equal(actual[key], expected[key])]
    assert different == [], f"arrays differ from the uninterrupted run: {different}"


def _assert_checkpoint_sane(run_dir: Path) -> None:
    """After a kill: any last.npz/best.npz present loads; no file under a final name is partial."""
    for name in ("last.npz", "best.npz"):
        if (run_dir / name).exists():
            state = load_checkpoint(run_dir / name)
            assert state["params"], f"{name} has no parameters"
    if (run_dir / "model.npz").exists():
        load_model(run_dir / "model.npz")


def _recover(run_dir: Path) -> subprocess.CompletedProcess[str]:
    """What the user does after a crash: resume if there is a checkpoint, else start again."""
    if (run_dir / "last.npz").exists():
        result = _run(["--resume", str(run_dir), "--quiet"])
    else:
        result = _run(_fresh_args(run_dir))
    assert result.returncode == 0, f"recovery failed (exit {result.returncode}): {result.stderr}"
    return result


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One uninterrupted run: its final model, last checkpoint and wall time."""
    run_dir = tmp_path_factory.mktemp("faults") / "reference"
    started = time.perf_counter()
    result = _run(_fresh_args(run_dir))
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    return {
        "model": _arrays(run_dir / "model.npz"),
        "last": _arrays(run_dir / "last.npz"),
        "seconds": seconds,
    }


def _assert_matches_reference(run_dir: Path, reference: dict) -> None:
    _assert_same_arrays(_arrays(run_dir / "last.npz"), reference["last"])
    _assert_same_arrays(_arrays(run_dir / "model.npz"), reference["model"])
    assert load_checkpoint(run_dir / "last.npz")["meta"]["epoch"] == EPOCHS
    rows = (run_dir / "metrics.csv").read_text().splitlines()[1:]
    assert [int(row.split(",")[0]) for row in rows] == list(range(1, EPOCHS + 1)), rows


def _kill_when_paused(proc: subprocess.Popen[str], signal_file: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not signal_file.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) before the pause: {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the run never reached the write to kill")
        time.sleep(0.005)
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


# (file, n-th write of it, stage): the first checkpoint (before epoch 1), mid-run checkpoints,
# a best.npz write, and the final model.npz.
WRITE_KILLS = [
    ("last.npz", 1, "fsync"),
    ("last.npz", 3, "fsync"),
    ("last.npz", 4, "replace"),
    ("best.npz", 2, "fsync"),
    ("last.npz", EPOCHS + 1, "replace"),
    ("model.npz", 1, "fsync"),
]


@pytest.mark.parametrize(("target", "count", "stage"), WRITE_KILLS)
def test_kill_during_checkpoint_write_then_resume(
    reference: dict, tmp_path: Path, target: str, count: int, stage: str
) -> None:
    run_dir = tmp_path / "run"
    signal_file = tmp_path / "paused"
    proc = _start(
        _fresh_args(run_dir),
        RELIABILITY_PAUSE_TARGET=target,
        RELIABILITY_PAUSE_COUNT=str(count),
        RELIABILITY_PAUSE_STAGE=stage,
        RELIABILITY_PAUSE_SIGNAL=str(signal_file),
    )
    _kill_when_paused(proc, signal_file)
    _assert_checkpoint_sane(run_dir)
    _recover(run_dir)
    _assert_matches_reference(run_dir, reference)


# Seven kill moments, as fractions of an uninterrupted run's wall time (seeded, spread out).
RANDOM_FRACTIONS = np.sort(np.random.default_rng(20240607).uniform(0.15, 0.95, size=7)).tolist()


@pytest.mark.parametrize("fraction", RANDOM_FRACTIONS, ids=[f"{f:.2f}" for f in RANDOM_FRACTIONS])
def test_kill_at_random_moment_then_resume(
    reference: dict, tmp_path: Path, fraction: float
) -> None:
    run_dir = tmp_path / "run"
    proc = _start(_fresh_args(run_dir))
    time.sleep(fraction * reference["seconds"])
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    _assert_checkpoint_sane(run_dir)
    _recover(run_dir)
    _assert_matches_reference(run_dir, reference)


def test_repeated_kills_in_rapid_succession(reference: dict, tmp_path: Path) -> None:
    """One run killed again and again while resuming, then allowed to finish."""
    run_dir = tmp_path / "run"
    rng = np.random.default_rng(99)
    proc = _start(_fresh_args(run_dir))
    time.sleep(0.6 * reference["seconds"])
    proc.kill()
    proc.communicate()
    for delay in rng.uniform(0.3, 0.7, size=4) * reference["seconds"]:
        _assert_checkpoint_sane(run_dir)
        if not (run_dir / "last.npz").exists():
            proc = _start(_fresh_args(run_dir))
        else:
            proc = _start(["--resume", str(run_dir), "--quiet"])
        time.sleep(delay)
        proc.kill()
        proc.communicate()
    _assert_checkpoint_sane(run_dir)
    _recover(run_dir)
    _assert_matches_reference(run_dir, reference)


def test_sigint_saves_checkpoint_and_says_how_to_resume(reference: dict, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = _start(_fresh_args(run_dir))
    deadline = time.monotonic() + 60
    # best.npz appears right after last.npz of epoch 1: at least one epoch is saved. Then Ctrl-C.
    while not (run_dir / "best.npz").exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "no epoch finished within 60 s"
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before SIGINT arrived")
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"--resume {run_dir}" in err
    state = load_checkpoint(run_dir / "last.npz")
    assert 1 <= state["meta"]["epoch"] < EPOCHS
    _recover(run_dir)
    _assert_matches_reference(run_dir, reference)


DIVERGING_ARGS = [
    "--data", "digits", "--hidden-dims", "32", "--epochs", "6", "--batch-size", "8",
    "--optimizer", "sgd", "--lr", "0.05", "--schedule", "exponential", "--lr-decay", "30",
    "--seed", "3", "--quiet",
]  # fmt: skip


def _all_float_arrays_finite(path: Path) -> list[str]:
    with np.load(path, allow_pickle=False) as archive:
        return [
            key
            for key in archive.files
            if archive[key].dtype.kind == "f" and not np.all(np.isfinite(archive[key]))
        ]


def test_divergence_stops_with_clear_error_and_keeps_best(tmp_path: Path) -> None:
    """The learning rate grows 30x per epoch: epoch 1 trains, epoch 2 diverges to NaN."""
    run_dir = tmp_path / "run"
    result = _run([*DIVERGING_ARGS, "--out-dir", str(run_dir)])
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # the rate already grows within epoch 1: the first-epoch warning may precede the error
    lines = [line for line in lines if not line.startswith("numnet: warning: the training loss")]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr}"
    assert lines[0].startswith("numnet: error:")
    assert "nan" in lines[0].lower() or "inf" in lines[0].lower()
    assert "learning rate" in lines[0]
    best = load_checkpoint(run_dir / "best.npz")
    assert best["meta"]["epoch"] >= 1
    assert not (run_dir / "model.npz").exists() or load_model(run_dir / "model.npz")
    written = sorted(run_dir.glob("*.npz"))
    assert written, "no checkpoint kept"
    for path in written:
        assert _all_float_arrays_finite(path) == [], f"{path.name} holds NaN/Inf"
