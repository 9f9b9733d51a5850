"""Files numnet writes get the mode an ordinary write gives (0666 less the umask), not 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numnet.cli.rundir import write_text_atomic
from numnet.data import write_submission
from numnet.files import new_file_mode, write_atomic
from numnet.serialization import atomic_savez

TINY = ["--max-train-samples", "200", "--hidden-dims", "8", "--epochs", "1", "--quiet"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_new_file_mode_follows_the_umask(umask_027):
    assert new_file_mode() == 0o640
    assert os.umask(0o027) == 0o027  # reading the umask left it as it was


def test_atomic_writers_respect_the_umask(tmp_path, umask_027):
    write_atomic(tmp_path / "a.bin", lambda handle: handle.write(b"x"))
    write_text_atomic(tmp_path / "b.txt", "x\n")
    atomic_savez(tmp_path / "c.npz", {"w": np.zeros(2)})
    write_submission(tmp_path / "submission.csv", np.array([1, 2]))
    for name in ("a.bin", "b.txt", "c.npz", "submission.csv"):
        assert _mode(tmp_path / name) == 0o640, name


def test_a_run_directory_is_0644_under_umask_022(tmp_path):
    out = tmp_path / "run"
    code = (
        "import os, sys; os.umask(0o022); from numnet.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    subprocess.run(
        [sys.executable, "-c", code, "train", *TINY, "--out-dir", str(out)],
        check=True,
        capture_output=True,
    )
    files = [p for p in out.iterdir() if p.is_file()]
    assert {"model.npz", "last.npz", "config.json", "metrics.csv"} <= {p.name for p in files}
    assert {p.name: _mode(p) for p in files} == {p.name: 0o644 for p in files}
