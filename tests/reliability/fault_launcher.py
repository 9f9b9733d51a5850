"""Run ``numnet`` in a child process, optionally pausing inside one atomic file write.

The kill -9 tests need to kill the trainer *while* it writes a checkpoint. numnet has no hook for
that, so this launcher adds one from the outside: it wraps ``numnet.serialization.atomic_savez``
(to know which file is being written) and gives ``numnet.files`` (whose ``write_atomic`` does the
write) an ``os`` whose ``fsync``/``replace`` pause when the chosen write reaches the chosen
stage. Environment variables:

``RELIABILITY_PAUSE_TARGET``  file name to pause in (e.g. ``last.npz``)
``RELIABILITY_PAUSE_COUNT``   pause in the N-th write of that file (1-based)
``RELIABILITY_PAUSE_STAGE``   ``fsync`` (temp file written, not yet synced) or ``replace``
                              (synced, not yet renamed over the final name)
``RELIABILITY_PAUSE_SIGNAL``  file created when the pause begins (the test then kills)

Usage: ``python fault_launcher.py train --data digits ...`` (the numnet command line).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numnet.files as files
import numnet.serialization as serialization
from numnet.cli import main

TARGET = os.environ.get("RELIABILITY_PAUSE_TARGET")
COUNT = int(os.environ.get("RELIABILITY_PAUSE_COUNT", "1"))
STAGE = os.environ.get("RELIABILITY_PAUSE_STAGE", "fsync")
SIGNAL = os.environ.get("RELIABILITY_PAUSE_SIGNAL")

_state: dict[str, Any] = {"current": None, "writes": 0, "paused": False}


def _maybe_pause(stage: str) -> None:
    if TARGET is None or _state["paused"] or stage != STAGE:
        return
    if _state["current"] == TARGET and _state["writes"] == COUNT:
        _state["paused"] = True
        if SIGNAL:
            Path(SIGNAL).write_text(stage)
        time.sleep(120)


class _PausingOS:
    """``os`` as seen by numnet.files (whose write_atomic writes the checkpoints), with pauses in
    ``fsync`` and ``replace``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def fsync(self, fd: int) -> None:
        _maybe_pause("fsync")
        os.fsync(fd)

    def replace(self, src: Any, dst: Any) -> None:
        _maybe_pause("replace")
        os.replace(src, dst)


_original_atomic_savez = serialization.atomic_savez


def _tracking_atomic_savez(path: Any, arrays: Any) -> None:
    name = Path(path).name
    _state["current"] = name
    if name == TARGET:
        _state["writes"] += 1
    try:
        _original_atomic_savez(path, arrays)
    finally:
        _state["current"] = None


serialization.atomic_savez = _tracking_atomic_savez
files.os = _PausingOS()

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
