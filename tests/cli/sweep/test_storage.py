"""The sweep's storages, below the command: labels, one-line errors, the study tied to its space,
exactly N trials from two worker processes, and a worker killed mid-trial whose trial is retried.

The workers here are ``storage_worker.py`` (a sleeping one-parameter objective, no training), so
these tests check the storage machinery alone; ``test_workers.py`` runs real ``numnet sweep``.
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

from numnet.cli.sweep import storage  # noqa: E402
from numnet.errors import ConfigError, NumnetError  # noqa: E402

WORKER = Path(__file__).with_name("storage_worker.py")
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["journal", "postgresql"])
def where(request, tmp_path):
    """(storage argument, sweep dir) for each kind of storage."""
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    if request.param == "journal":
        return None, sweep_dir
    return request.getfixturevalue("postgres_url"), sweep_dir


def _study(where, digest: str = "digest") -> tuple[object, str]:
    url, sweep_dir = where
    store = storage.open_storage(url, sweep_dir, heartbeat_s=1)
    name = f"test-{uuid.uuid4().hex[:8]}"
    storage.create_study_once(store, name, digest)
    return store, name


def _worker(where, name: str, n: int, seconds: float, barrier: Path | None = None):
    url, sweep_dir = where
    args = [sys.executable, str(WORKER), url or "-", str(sweep_dir), name, str(n), str(seconds)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    if barrier is not None:
        env["BARRIER"] = str(barrier)
    return subprocess.Popen(args, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen, limit_s: float = 120) -> None:
    _, err = process.communicate(timeout=limit_s)
    assert process.returncode == 0, err


def _trials(where, name: str) -> list:
    url, sweep_dir = where
    store = storage.open_storage(url, sweep_dir, heartbeat_s=1)
    return optuna.load_study(study_name=name, storage=store).trials


# --- labels and one-line errors -------------------------------------------------------------


def test_labels_mask_the_password(tmp_path):
    url = "postgresql+psycopg2://alice:s3cr@t@db.example:5432/optuna"
    assert storage.mask_url(url) == "postgresql+psycopg2://alice:***@db.example:5432/optuna"
    assert storage.mask_url("postgresql://bob@host/db") == "postgresql://bob@host/db"
    assert storage.storage_label(None, tmp_path) == str(tmp_path / storage.JOURNAL_FILE)
    assert storage.storage_label(url, tmp_path).count("***") == 1
    assert storage.storage_label("my.journal", tmp_path) == "my.journal"


def test_unreachable_database_is_one_line_naming_the_url(tmp_path):
    url = "postgresql+psycopg2://postgres:hunter2@127.0.0.1:1/optuna"
    with pytest.raises(storage.StorageError) as caught:
        storage.open_storage(url, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "postgresql+psycopg2://postgres:***@127.0.0.1:1/optuna" in message
    assert "hunter2" not in message
    assert "check that the server runs" in message
    assert isinstance(caught.value, NumnetError)


def test_not_a_database_url_and_a_missing_folder_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="not a database URL"):
        storage.open_storage("post gres://", tmp_path)
    with pytest.raises(ConfigError, match="no database driver"):
        storage.open_storage("nosuchdb+nodriver://u@h/db", tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        storage.open_storage(str(tmp_path / "absent" / "x.journal"), tmp_path)


# --- the study is created once and keeps its space --------------------------------------------


def test_study_keeps_its_space_and_is_continued(where):
    store, name = _study(where, digest="space-a")
    assert storage.study_exists(store, name)
    assert not storage.study_exists(store, "no-such-study")
    storage.create_study_once(store, name, "space-a")  # a restart: fine, same study
    study = storage.load_study(store, name, "space-a")
    assert study.user_attrs[storage.DIGEST_ATTR] == "space-a"
    for call in (
        lambda: storage.create_study_once(store, name, "space-b"),
        lambda: storage.load_study(store, name, "space-b"),
    ):
        with pytest.raises(ConfigError) as caught:
            call()
        assert "\n" not in str(caught.value)
        assert f"study {name}" in str(caught.value) and "another space" in str(caught.value)
    with pytest.raises(ConfigError, match="minimize, not maximize|maximize, not minimize"):
        storage.create_study_once(store, name, "space-a", direction="minimize")
    with pytest.raises(ConfigError, match="no study nope"):
        storage.load_study(store, "nope", "space-a")


def test_space_is_stored_with_the_study(tmp_path):
    store = storage.open_storage(None, tmp_path)
    space = {"params": [{"flag": "lr", "low": 1e-4, "high": 1e-1, "log": True}]}
    storage.create_study_once(store, "s", "d", space=space)
    assert storage.load_study(store, "s", "d").user_attrs[storage.SPACE_ATTR] == space


def _open_and_create(url: str, queue) -> None:
    try:
        store = storage.open_storage(url, Path("/tmp"), heartbeat_s=1)
        storage.create_study_once(store, "race", "digest")
        queue.put("ok")
    except BaseException as error:  # reported to the test, which names it
        queue.put(f"{type(error).__name__}: {error}")


def test_workers_opening_a_fresh_database_at_once_all_succeed(postgres_url):
    """Several processes creating Optuna's tables at the same moment collide in PostgreSQL's
    catalogue (IntegrityError; plain RDBStorage fails here); open_storage looks again."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [
        context.Process(target=_open_and_create, args=(postgres_url, queue)) for _ in range(5)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [queue.get(timeout=10) for _ in processes] == ["ok"] * 5


# --- two workers share one study: exactly N, none twice ---------------------------------------


def test_two_workers_finish_exactly_n_trials_between_them(where):
    store, name = _study(where)
    n = 8
    barrier = where[1].parent / "barrier"
    barrier.mkdir()
    workers = [_worker(where, name, n, 0.2, barrier) for _ in range(2)]
    deadline = time.monotonic() + 120
    while len(list(barrier.glob("ready-*"))) < 2:  # both loaded the study: start together
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.05)
    (barrier / "go").touch()
    for process in workers:
        _finish(process)
    trials = _trials(where, name)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * n
    assert len({t.params["x"] for t in trials}) == n
    assert len({t.user_attrs["pid"] for t in trials}) == 2, "both workers ran trials"
    sweep_dir = where[1]
    assert sorted(p.name for p in sweep_dir.glob("trial-*")) == [f"trial-{i:04d}" for i in range(n)]
    # A restart with the same N has nothing left to do; with a larger N it continues.
    study = storage.load_study(store, name, "digest")
    storage.optimize_until(study, lambda trial: trial.suggest_float("x", -10.0, 10.0), n)
    assert len(_trials(where, name)) == n
    storage.optimize_until(study, lambda trial: trial.suggest_float("x", -10.0, 10.0), n + 1)
    assert [t.state for t in _trials(where, name)] == [TrialState.COMPLETE] * (n + 1)


# --- a worker killed mid-trial: failed, retried once by another, still N ----------------------


def test_sigkill_mid_trial_is_failed_and_retried(where):
    store, name = _study(where)
    sweep_dir = where[1]
    n = 3
    doomed = _worker(where, name, n, 300)
    started = sweep_dir / "trial-0000" / "started"
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline and doomed.poll() is None, doomed.stderr.read()
        time.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.communicate()
    _finish(_worker(where, name, n, 0.1))
    trials = _trials(where, name)
    states = [t.state for t in trials]
    assert states.count(TrialState.FAIL) == 1 and states.count(TrialState.COMPLETE) == n
    failed = trials[0]
    assert failed.state == TrialState.FAIL and failed.user_attrs["pid"] == doomed.pid
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == 0]
    assert retry.state == TrialState.COMPLETE
    assert retry.params == failed.params and retry.user_attrs["pid"] != doomed.pid


def test_a_database_lost_mid_sweep_is_one_line(tmp_path, monkeypatch):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    store = storage.open_storage(None, tmp_path)
    storage.create_study_once(store, "s", "d")
    study = storage.load_study(store, "s", "d")
    store.numnet_label = "postgresql+psycopg2://u:***@h/db"  # as open_storage labels a database

    def lost(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed\nthe end"))

    monkeypatch.setattr(storage.budget, "optimize_until", lost)
    with pytest.raises(storage.StorageError) as caught:
        storage.optimize_until(study, lambda trial: 0.0, 1)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("lost the database postgresql+psycopg2://u:***@h/db ")
    assert "server closed" in str(caught.value)
