"""MPI for the tests: the venv's ``mpiexec``, and skip-or-fail when it or mpi4py is missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

MPIEXEC = Path(sys.executable).parent / "mpiexec"


def require_mpi(tests: str) -> None:
    """Skip when mpi4py or the venv's mpiexec is missing; fail instead when CI=true.

    ``tests`` names what cannot run, for the failure message.
    """
    problem = None
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        problem = "mpi4py is not installed (pip install -e '.[mpi]')"
    if problem is None and not MPIEXEC.exists():
        problem = f"no mpiexec beside the Python interpreter ({MPIEXEC})"
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {tests} cannot run: {problem}")
    pytest.skip(problem)
