"""``numnet train`` under ``mpiexec``: rank 0 decides and speaks; one rank's error ends the job.

Started by an MPI launcher (``mpiexec -n K``, ``srun``), every process runs the same command line.
Rank 0 alone decides the run (settings, run directory, ``--resume`` checks), prints and writes
files; it sends the decision to the other ranks (:func:`send_setup` / :func:`receive_setup`),
which load the data, train their share of every batch and stay silent: their stdout and stderr go
to ``os.devnull`` from the start, so even argparse's messages come once.

Errors, so that the job never hangs with a rank waiting in a collective:

* A failure every rank sees the same way (a usage error, a refused setting, rank 0's setup) is
  *agreed*: rank 0 prints its one line and every rank exits with the same code.
* Loading the data is agreed too (:func:`agree`): a rank that cannot read it makes every rank
  stop; rank 0 prints that rank's line, prefixed with its rank.
* Any other error (during training) prints ``numnet: error: rank R: ...`` on that rank and calls
  ``MPI_Abort``, which ends every rank (the launcher may add its own lines).
* Ctrl-C: ``mpiexec`` forwards SIGINT to every rank; the other ranks ignore it, so rank 0 gets it
  outside any collective, prints where the run stands and aborts the job (exit code 130).

A rank killed outright (SIGKILL) is the launcher's to handle: MPICH's Hydra and Open MPI end the
whole job when one process dies. Checkpoints are written atomically, so ``last.npz`` stays intact.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from numnet.errors import ConfigError, DataError, NumnetError

__all__ = [
    "Ranks",
    "Stopped",
    "agree",
    "current",
    "fail",
    "finish",
    "is_root",
    "receive_setup",
    "send_setup",
    "silence_other_ranks",
    "solver_comm",
    "start",
]

T = TypeVar("T")

# The rank a launcher gives a process, readable before (and without) mpi4py.
_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")
# Seconds another rank waits before aborting on its own error: a failure that rank 0 has too is
# then reported once, by rank 0.
_OTHER_RANK_GRACE = 1.0
PARALLEL_COMMANDS = ("train",)


class Stopped(NumnetError):
    """Raised on a rank other than 0 when the job stops by agreement; rank 0 has said why.

    Attributes
    ----------
    code : int
        The exit code every rank returns.
    """

    def __init__(self, code: int) -> None:
        super().__init__(f"stopped with exit code {code}")
        self.code = code


@dataclass
class Ranks:
    """This process's place in the job (one process: ``comm`` None, rank 0 of 1)."""

    comm: Any = None
    rank: int = 0
    size: int = 1
    setup_pending: bool = False  # rank 0 has not yet sent the run's setup to the others

    @property
    def is_root(self) -> bool:
        """True on rank 0 (and in a single process)."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        """True when more than one rank trains."""
        return self.size > 1


_current = Ranks()


def current() -> Ranks:
    """The ranks of this process (set by :func:`start`; one process before that)."""
    return _current


def solver_comm() -> Any:
    """The communicator for :class:`~numnet.solver.Solver` (``None`` unless several ranks)."""
    return _current.comm if _current.parallel else None


def is_root() -> bool:
    """True on rank 0 and in a single process."""
    return _current.is_root


def _launcher_rank() -> int:
    from numnet.distributed import launched_by_mpi

    if not launched_by_mpi():
        return 0
    for name in _RANK_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def silence_other_ranks() -> None:
    """Send stdout and stderr of every rank but 0 to ``os.devnull`` (before parsing arguments).

    The rank comes from the launcher's environment, so this works without mpi4py as well. The
    original streams stay reachable as ``sys.__stdout__`` / ``sys.__stderr__``.
    """
    if _launcher_rank() != 0:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (lives as long as we do)
        sys.stderr = sys.stdout


def start(command: str) -> Ranks:
    """Join the MPI job when launched by one; refuse what cannot run data-parallel.

    Raises
    ------
    ConfigError
        Launched by ``mpiexec`` without mpi4py (one line with the install command), or a command
        other than ``train`` started on more than one rank. The same on every rank (agreed).
    """
    global _current
    from numnet.distributed import rank, size, world

    try:
        comm = world()
    except ConfigError as exc:
        _mark_agreed(exc)
        raise
    ranks = Ranks(comm, rank(comm), size(comm))
    if ranks.parallel and command not in PARALLEL_COMMANDS:
        exc = ConfigError(
            f"numnet {command} runs in one process; only numnet train runs data-parallel "
            "under mpiexec (run it without mpiexec)"
        )
        _mark_agreed(exc)
        raise exc
    if ranks.parallel and not ranks.is_root:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # rank 0 takes Ctrl-C and ends the job
    ranks.setup_pending = ranks.parallel and ranks.is_root
    _current = ranks
    return ranks


def _mark_agreed(exc: BaseException) -> None:
    exc.numnet_agreed = True  # type: ignore[attr-defined]


def _is_agreed(exc: BaseException) -> bool:
    return isinstance(exc, Stopped) or bool(getattr(exc, "numnet_agreed", False))


def send_setup(*setup: Any) -> None:
    """On rank 0 of a parallel job: send the run's setup (picklable values) to the other ranks."""
    ranks = _current
    if ranks.parallel and ranks.is_root and ranks.setup_pending:
        ranks.comm.bcast(("setup", setup), root=0)
        ranks.setup_pending = False


def receive_setup() -> tuple[Any, ...]:
    """On a rank other than 0: wait for rank 0's setup; :class:`Stopped` if rank 0 stopped."""
    kind, value = _current.comm.bcast(None, root=0)
    if kind == "stop":
        raise Stopped(int(value))
    return tuple(value)


def _release(code: int) -> None:
    """Rank 0 ends before sending the setup: tell the waiting ranks to exit with ``code``."""
    ranks = _current
    if ranks.setup_pending:
        ranks.setup_pending = False
        ranks.comm.bcast(("stop", code), root=0)


def agree(step: Callable[..., T], *args: Any) -> T:
    """Run ``step(*args)`` on every rank; if it fails on any, every rank stops the same way.

    The failing rank with the lowest number is reported by rank 0 as ``rank R: <message>``
    (a :class:`~numnet.errors.NumnetError` or ``OSError``; anything else propagates on its own).
    """
    ranks = _current
    if not ranks.parallel:
        return step(*args)
    result: Any = None
    failure: tuple[str, int] | None = None
    caught: BaseException | None = None
    try:
        result = step(*args)
    except (NumnetError, OSError) as exc:
        caught = exc
        failure = (_error_line(exc), 2 if isinstance(exc, ConfigError) else 1)
    failures = ranks.comm.allgather(failure)
    for number, found in enumerate(failures):
        if found is not None:
            if not ranks.is_root:
                raise Stopped(found[1])
            exc = (ConfigError if found[1] == 2 else DataError)(f"rank {number}: {found[0]}")
            _mark_agreed(exc)
            raise exc from caught
    return result


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, NumnetError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}; check the path and its permissions"
    return " ".join(str(exc).split())


def finish(code: int) -> int:
    """After the command returned ``code``: release ranks still waiting, abort on Ctrl-C."""
    ranks = _current
    if not ranks.parallel:
        return code
    if ranks.setup_pending:
        _release(code)
        return code
    if code == 130 and ranks.is_root:  # the other ranks wait in a collective rank 0 left
        sys.stdout.flush()
        sys.stderr.flush()
        ranks.comm.Abort(code)
    return code


def fail(exc: BaseException, line: str, code: int) -> int:
    """Report an error in a parallel job and return the exit code, or end the whole job.

    Single process or agreed failure: ``line`` is printed (by rank 0 only) and ``code`` returned.
    Otherwise the rank prints ``line`` with its rank and aborts every rank (``MPI_Abort``).
    """
    ranks = _current
    if isinstance(exc, Stopped):
        return exc.code
    if not ranks.parallel or _is_agreed(exc):
        if ranks.setup_pending:
            _release(code)
        if ranks.is_root:
            print(line, file=sys.stderr, flush=True)
        return code
    if ranks.setup_pending:  # rank 0 failed while deciding the run: every rank stops with it
        _release(code)
        print(line, file=sys.stderr, flush=True)
        return code
    abort(line.replace("numnet: error: ", f"numnet: error: rank {ranks.rank}: ", 1), code)


def abort(line: str, code: int) -> NoReturn:
    """Print ``line`` on the real stderr and end every rank of the job with ``code``."""
    ranks = _current
    if not ranks.is_root:
        time.sleep(_OTHER_RANK_GRACE)  # the same failure on rank 0 is reported once, by rank 0
    stream = sys.__stderr__ or sys.stderr
    print(line, file=stream, flush=True)
    ranks.comm.Abort(code)
    raise SystemExit(code)  # not reached: MPI_Abort ends this process


def crash(exc: BaseException) -> None:
    """An unexpected exception (a bug) in a parallel job: its traceback, then end every rank."""
    ranks = _current
    if not ranks.parallel or _is_agreed(exc) or isinstance(exc, SystemExit):
        return
    stream = sys.__stderr__ or sys.stderr
    print(f"numnet: rank {ranks.rank}: internal error:", file=stream, flush=True)
    traceback.print_exception(exc, file=stream)
    abort(f"numnet: error: rank {ranks.rank}: {type(exc).__name__}: {exc}", 1)
