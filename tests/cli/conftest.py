"""Shared helpers for the command-line tests: tiny, fast training runs on the embedded digits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numnet.cli import main


def numnet(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m numnet ARGV`` in ``cwd`` as a user runs it; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "numnet", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


# A tiny run: 300 digits, one small hidden layer.
TINY = ["--max-train-samples", "300", "--hidden-dims", "16", "--batch-size", "32", "--quiet"]


def train(out_dir, *extra: str) -> int:
    """``numnet train`` with the tiny settings into ``out_dir``; returns the exit code."""
    return main(["train", *TINY, "--out-dir", str(out_dir), *extra])


def write_pixels_csv(path, X: np.ndarray, y: np.ndarray | None = None) -> None:
    """Write images as a Kaggle CSV: ``label,pixel0,...`` with ``y``, else ``pixel0,...``."""
    flat = X.reshape(len(X), -1)
    header = [f"pixel{i}" for i in range(flat.shape[1])]
    lines = [",".join((["label"] if y is not None else []) + header)]
    for k, row in enumerate(flat.tolist()):
        cells = ([str(int(y[k]))] if y is not None else []) + [str(v) for v in row]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished small training run (8 epochs on 800 digits) shared by a module's tests."""
    out = tmp_path_factory.mktemp("run") / "run"
    assert (
        main(
            [
                "train",
                "--max-train-samples",
                "800",
                "--epochs",
                "8",
                "--quiet",
                "--out-dir",
                str(out),
            ]
        )
        == 0
    )
    return out


def last_error_line(err: str) -> str:
    """The stderr text, checked to be exactly one ``numnet: error:`` line without traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("numnet: error: "), err
    assert "Traceback" not in err
    return lines[0]
