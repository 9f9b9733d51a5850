"""Run directories: pick the next free ``runs/NNN``, refuse non-empty ones, probe writability.

A numnet run directory is recognised positively, by its own marker file ``.numnet-run`` (JSON
``{"format": "numnet-run", "version": 1}``) written when the run directory is prepared, before
anything else, never by a file name other tools use too (``config.json``). Directories written
before the marker existed are recognised by what only numnet writes: a ``last.npz`` with numnet's
checkpoint header, or (a run killed before its first checkpoint) a ``config.json`` that names the
directory as its ``out_dir`` and holds every ``numnet train`` setting; resuming one adds the marker.

A directory left by a run that was killed before its first checkpoint (only ``config.json``, an
empty ``metrics.csv`` and temporary files) holds nothing worth keeping, so a new run may reuse it:
re-running the same command after a crash then just works.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from numnet.errors import ConfigError

RUNS_ROOT = Path("runs")


def next_run_dir(root: Path = RUNS_ROOT) -> Path:
    """Return ``root/NNN`` with NNN one more than the largest numbered run there (``001`` first)."""
    numbers = [int(p.name) for p in root.glob("*") if p.name.isdigit()] if root.is_dir() else []
    return root / f"{max(numbers, default=0) + 1:03d}"


WRITE_PROBE_PREFIX = ".numnet-write-test-"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
RUN_MARKER = ".numnet-run"
RUN_MARKER_VERSION = 1
_MARKER_LIMIT = 4096  # bytes read from a marker: a real one is about 40


def write_run_marker(path: Path) -> None:
    """Mark ``path`` as a numnet run directory (atomically; an intact marker is kept as it is)."""
    if read_run_marker(path) == "ok":
        return
    text = json.dumps({"format": "numnet-run", "version": RUN_MARKER_VERSION}) + "\n"
    write_text_atomic(path / RUN_MARKER, text)


def read_run_marker(path: Path) -> str:
    """``'ok'`` for numnet's marker in ``path``, ``'absent'`` without one, ``'bad'`` otherwise.

    ``'bad'`` covers a marker that is not a regular file, is too long, or holds anything but the
    marker's JSON of a version this numnet knows.
    """
    marker = path / RUN_MARKER
    if not marker.exists() and not marker.is_symlink():
        return "absent"
    if marker.is_symlink() or not marker.is_file():
        return "bad"
    try:
        with open(marker, "rb") as handle:
            raw = handle.read(_MARKER_LIMIT + 1)
        stored = json.loads(raw.decode("utf-8")) if len(raw) <= _MARKER_LIMIT else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return "bad"
    ok = (
        isinstance(stored, dict)
        and stored.get("format") == "numnet-run"
        and stored.get("version") == RUN_MARKER_VERSION
    )
    return "ok" if ok else "bad"


def is_nonempty_dir(path: Path) -> bool:
    """True when ``path`` is a directory with at least one entry."""
    return path.is_dir() and any(path.iterdir())


RUN_FILES = (
    "last.npz",
    "best.npz",
    "model.npz",
    CONFIG_FILE,
    METRICS_FILE,
    RUN_MARKER,
    "confusion_matrix.csv",
    "confusion_matrix.png",
    "misclassified.png",
    "loss.png",
    "accuracy.png",
)
_TEMP_FILE = re.compile(
    "|".join(
        [rf"\.{re.escape(name)}\.[A-Za-z0-9_]{{8}}\.tmp" for name in RUN_FILES]
        + [rf"{re.escape(WRITE_PROBE_PREFIX)}[A-Za-z0-9_]{{8}}"]
    )
)


def is_temp_file(name: str) -> bool:
    """True for the temporary files numnet's atomic writes and write probe leave when killed.

    Only numnet's own patterns match (``.last.npz.<8 random chars>.tmp``, ...), so a user's files
    in an ``--out-dir`` are never taken for temporary ones.
    """
    return _TEMP_FILE.fullmatch(name) is not None


def _is_own_config(path: Path, run_dir: Path) -> bool:
    from numnet.files import MAX_CONFIG_BYTES, read_capped

    try:  # a user's file of that name may be anything: regular and small, or not ours
        stored = json.loads(read_capped(path, "config", ConfigError, MAX_CONFIG_BYTES))
    except (ConfigError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    out_dir = stored.get("out_dir") if isinstance(stored, dict) else None
    return isinstance(out_dir, str) and Path(out_dir).resolve() == run_dir.resolve()


def _is_metrics_header_only(path: Path) -> bool:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return len(lines) <= 1 and all(line.startswith("epoch,") for line in lines)


def is_unstarted_run(path: Path) -> bool:
    """True when ``path`` holds only what a run killed before its first checkpoint leaves behind.

    That is: numnet temporary files, its run marker, this run's own ``config.json`` (its ``out_dir``
    is ``path``) and a ``metrics.csv`` without rows; no checkpoint, model or anything else.
    """
    for entry in path.iterdir():
        if not entry.is_file() or entry.is_symlink():
            return False
        if is_temp_file(entry.name):
            continue
        if entry.name == RUN_MARKER and read_run_marker(path) == "ok":
            continue
        if entry.name == CONFIG_FILE and _is_own_config(entry, path):
            continue
        if entry.name == METRICS_FILE and _is_metrics_header_only(entry):
            continue
        return False
    return True


def remove_temp_files(path: Path) -> None:
    """Delete the temporary files of writes that a killed run left in ``path``."""
    for entry in path.iterdir():
        if is_temp_file(entry.name) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)


def prepare_run_dir(path: Path, *, allow_existing: bool = False) -> bool:
    """Create ``path`` if needed and check that numnet can write there, before any training.

    Parameters
    ----------
    path : Path
        The run directory.
    allow_existing : bool
        Accept a non-empty directory (``--resume``, ``evaluate`` output). Without it, only a
        directory left by a run killed before its first checkpoint (:func:`is_unstarted_run`) is
        accepted, and the run marker is written (a new run's directory). Temporary files of
        interrupted writes are removed in both cases.

    Returns
    -------
    bool
        True if this call created the directory (so a failed run can remove it again).

    Raises
    ------
    ConfigError
        ``path`` is a file, is a non-empty directory (other than an unstarted run's) and
        ``allow_existing`` is false, or cannot be created or written to.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output directory {path} is a file; choose another --out-dir")
    if not allow_existing and is_nonempty_dir(path) and not is_unstarted_run(path):
        raise ConfigError(
            f"output directory {path} is not empty; choose another --out-dir "
            f"or continue that run with --resume {path}"
        )
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=WRITE_PROBE_PREFIX, dir=path)
        os.close(fd)
        os.remove(probe)
        remove_temp_files(path)
        if not allow_existing:
            write_run_marker(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot write to output directory {path} ({exc.strerror}); choose another --out-dir"
        ) from None
    return created


def remove_lone_marker(path: Path) -> None:
    """Delete the run marker of a new run that failed before writing anything else."""
    try:
        if [entry.name for entry in path.iterdir()] == [RUN_MARKER]:
            (path / RUN_MARKER).unlink()
    except OSError:
        pass


def remove_if_empty(path: Path) -> None:
    """Remove ``path`` if it holds nothing but its run marker (cleanup after an early failure)."""
    remove_lone_marker(path)
    try:
        path.rmdir()
    except OSError:
        pass


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`numnet.files.write_atomic`: a temporary
    file beside it, fsync'ed, renamed over ``path``, with the mode an ordinary write gives."""
    from numnet.files import write_atomic

    data = text.encode("utf-8")
    write_atomic(path, lambda handle: handle.write(data))
