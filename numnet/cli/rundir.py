"""Run directories: pick the next free ``runs/NNN``, refuse non-empty ones, probe writability."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from numnet.errors import ConfigError

RUNS_ROOT = Path("runs")


def next_run_dir(root: Path = RUNS_ROOT) -> Path:
    """Return ``root/NNN`` with NNN one more than the largest numbered run there (``001`` first)."""
    numbers = [int(p.name) for p in root.glob("*") if p.name.isdigit()] if root.is_dir() else []
    return root / f"{max(numbers, default=0) + 1:03d}"


def is_nonempty_dir(path: Path) -> bool:
    """True when ``path`` is a directory with at least one entry."""
    return path.is_dir() and any(path.iterdir())


def prepare_run_dir(path: Path, *, allow_existing: bool = False) -> bool:
    """Create ``path`` if needed and check that numnet can write there, before any training.

    Parameters
    ----------
    path : Path
        The run directory.
    allow_existing : bool
        Accept a non-empty directory (``--resume``, ``evaluate`` output).

    Returns
    -------
    bool
        True if this call created the directory (so a failed run can remove it again).

    Raises
    ------
    ConfigError
        ``path`` is a file, is a non-empty directory and ``allow_existing`` is false, or cannot be
        created or written to.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output directory {path} is a file; choose another --out-dir")
    if not allow_existing and is_nonempty_dir(path):
        raise ConfigError(
            f"output directory {path} is not empty; choose another --out-dir "
            f"or continue that run with --resume {path}"
        )
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".numnet-write-test-", dir=path)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise ConfigError(
            f"cannot write to output directory {path} ({exc.strerror}); choose another --out-dir"
        ) from None
    return created


def remove_if_empty(path: Path) -> None:
    """Remove ``path`` if it is an empty directory (cleanup after a run that failed early)."""
    try:
        path.rmdir()
    except OSError:
        pass


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and ``os.replace``."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
