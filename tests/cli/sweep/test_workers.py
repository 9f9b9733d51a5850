"""Real ``numnet sweep`` processes sharing one study: on one journal file (one machine) and on one
PostgreSQL database (as two machines would, each with its own sweep directory). They finish
exactly N trials between them and run none twice; a worker killed with SIGKILL mid-trial leaves a
failed trial that another worker retries, and the study still ends with N finished trials. An
unreachable database and a study made with another space are one line each.

Trials are tiny (200 digits, a 16-unit MLP, one epoch unless a trial has to last to be killed),
but each test starts two or three interpreters that import Optuna and train for real: tens of
seconds on a shared 2-core machine, hence ``slow``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from optuna.trial import TrialState  # noqa: E402

from numnet.cli import main  # noqa: E402
from numnet.cli.sweep.storage import open_storage  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
TINY = ["--max-train-samples", "200", "--batch-size", "32", "--hidden-dims", "16", "--quiet"]
SPACE = """
[lr]
low = 1e-3
high = 0.1
log = true
"""


@pytest.fixture(params=["journal", "postgresql"])
def storage_url(request):
    """None (the journal file in the sweep directory) or a fresh PostgreSQL database."""
    if request.param == "journal":
        return None
    return request.getfixturevalue("postgres_url")


def _sweep(tmp_path: Path, sweep_dir: str, study: str, url: str | None, *argv: str):
    """A ``numnet sweep`` process, started in ``tmp_path`` (where space.toml is)."""
    command = [sys.executable, "-m", "numnet", "sweep", "--space", "space.toml", "--study", study]
    command += ["--sweep-dir", sweep_dir, "--pruner", "none", "--heartbeat", "1", *TINY, *argv]
    if url is not None:
        command += ["--storage", url]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    return subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _done(process: subprocess.Popen, limit_s: float = 300) -> str:
    out, err = process.communicate(timeout=limit_s)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return out


def _trials(url: str | None, sweep_dir: Path, study: str) -> list:
    return optuna.load_study(study_name=study, storage=open_storage(url, sweep_dir)).trials


@pytest.mark.slow
def test_two_sweeps_on_one_study_finish_exactly_n(tmp_path, storage_url):
    """Both start at once (the study's creation races; one creates it, the other loads it)."""
    (tmp_path / "space.toml").write_text(SPACE)
    study = f"two-{uuid.uuid4().hex[:8]}"
    n = 4
    # The journal is one file in one sweep directory; a database serves two "machines", each
    # with its own sweep directory.
    dirs = ["sw", "sw"] if storage_url is None else ["sw-a", "sw-b"]
    processes = [
        _sweep(tmp_path, d, study, storage_url, "--trials", str(n), "--epochs", "1") for d in dirs
    ]
    for process in processes:
        _done(process)
    trials = _trials(storage_url, tmp_path / dirs[0], study)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * n
    assert len({t.params["lr"] for t in trials}) == n, "a setting ran twice"
    run_dirs = sorted(p.name for d in set(dirs) for p in (tmp_path / d).glob("trial-*"))
    assert run_dirs == [f"trial-{i:04d}" for i in range(n)], "a trial number ran twice"
    assert len({t.user_attrs["dir"] for t in trials}) == n
    for trial in trials:
        assert (Path(trial.user_attrs["dir"]) / "model.npz").is_file()


@pytest.mark.slow
def test_sigkill_mid_trial_is_retried_and_the_study_still_finishes_n(tmp_path, storage_url):
    (tmp_path / "space.toml").write_text(SPACE)
    study = f"kill-{uuid.uuid4().hex[:8]}"
    n = 2
    # Long enough to be killed mid-trial; the retry trains as long.
    argv = ["--trials", str(n), "--epochs", "40"]
    doomed = _sweep(tmp_path, "sw", study, storage_url, *argv)
    metrics = tmp_path / "sw" / "trial-0000" / "metrics.csv"
    deadline = time.monotonic() + 120
    while not (metrics.is_file() and len(metrics.read_text().splitlines()) >= 2):
        assert doomed.poll() is None and time.monotonic() < deadline, doomed.communicate()
        time.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.communicate()
    _done(_sweep(tmp_path, "sw", study, storage_url, *argv))
    trials = _trials(storage_url, tmp_path / "sw", study)
    states = [t.state for t in trials]
    assert states.count(TrialState.FAIL) == 1 and states.count(TrialState.COMPLETE) == n
    assert trials[0].state == TrialState.FAIL
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == 0]
    assert retry.state == TrialState.COMPLETE and retry.params == trials[0].params
    assert retry.user_attrs["dir"] != trials[0].user_attrs["dir"]


def test_unreachable_database_is_one_line(tmp_path, capsys):
    (tmp_path / "space.toml").write_text(SPACE)
    url = "postgresql+psycopg2://postgres:hunter2@127.0.0.1:1/optuna"
    argv = ["sweep", "--space", str(tmp_path / "space.toml"), "--trials", "1"]
    code = main([*argv, "--sweep-dir", str(tmp_path / "sw"), "--storage", url, *TINY])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("numnet: error: cannot reach the database ")
    assert "postgres:***@127.0.0.1:1/optuna" in err and "hunter2" not in err


def test_a_database_study_made_with_another_space_is_one_line(tmp_path, capsys, postgres_url):
    (tmp_path / "space.toml").write_text(SPACE)
    (tmp_path / "other.toml").write_text("lr = [0.01, 0.02]\n")
    common = ["--trials", "1", "--epochs", "1", "--pruner", "none", "--storage", postgres_url]
    common += ["--sweep-dir", str(tmp_path / "sw"), *TINY]
    assert main(["sweep", "--space", str(tmp_path / "space.toml"), *common]) == 0
    capsys.readouterr()
    assert main(["sweep", "--space", str(tmp_path / "other.toml"), *common]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "study numnet-sweep in postgresql+psycopg2://" in err and "another space" in err
