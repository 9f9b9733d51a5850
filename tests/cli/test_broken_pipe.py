"""A reader that closes the pipe early (``numnet train ... | head -1``) stops numnet quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_closed_stdout_pipe_ends_quietly_with_141(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "numnet", "train", "--epochs", "3", "--no-plots"]
    process = subprocess.Popen(
        [*command, "--out-dir", str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # train flushes each line as it goes
    process.stdout.close()  # what head -1 does after its line
    stderr = process.stderr.read().decode()
    code = process.wait(timeout=300)
    assert first
    assert code == 141, stderr
    assert stderr == ""
