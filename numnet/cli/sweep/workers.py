"""``numnet sweep --workers K``: K worker processes of the same sweep on this machine.

The parent process has created the study; each worker is ``python -m numnet sweep`` with the same
arguments and a hidden ``--worker-index I``, and loads the study instead of creating it. The BLAS
libraries of each worker get ``max(1, cores // K)`` threads (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``), so K workers never ask for more threads than the
machine has cores. The workers run in their own process group: Ctrl-C reaches the parent, which
passes one SIGINT on to each worker (each stops cleanly, its running trial marked failed) and
waits for them.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from typing import Any

from numnet.cli.resolve import typed_flags
from numnet.cli.sweep.options import flag_argv

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Sweep options passed on to the workers as they were given (dest, flag).
SWEEP_OPTIONS = (
    ("space", "--space"),
    ("trials", "--trials"),
    ("study", "--study"),
    ("storage", "--storage"),
    ("pruner", "--pruner"),
    ("pruner_startup_trials", "--pruner-startup-trials"),
    ("pruner_warmup_epochs", "--pruner-warmup-epochs"),
    ("timeout", "--timeout"),
    ("sweep_dir", "--sweep-dir"),
    ("heartbeat", "--heartbeat"),
    ("config", "--config"),
)


def cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """BLAS threads of each of ``workers`` processes: ``max(1, cores // workers)``."""
    return max(1, cores() // workers)


def _flag_args(flag: str, value: Any) -> list[str]:
    if isinstance(value, list):
        return [flag, *(str(item) for item in value)]
    return [flag, str(value)]


def worker_argv(args: argparse.Namespace, index: int) -> list[str]:
    """The command line of worker ``index``: the sweep's own arguments, one worker each."""
    argv = [sys.executable, "-m", "numnet", "sweep"]
    for dest, flag in SWEEP_OPTIONS:
        value = getattr(args, dest, None)
        if value is not None:
            argv += _flag_args(flag, value)
    argv += flag_argv(typed_flags(args))
    if getattr(args, "debug", False):
        argv.append("--debug")
    return [*argv, "--worker-index", str(index)]


def run_workers(args: argparse.Namespace, workers: int) -> list[int]:
    """Start ``workers`` worker processes, wait for all, return their exit codes.

    ``KeyboardInterrupt`` while waiting: one SIGINT to every worker still running, wait for them,
    then re-raise.
    """
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = str(threads_per_worker(workers))
    processes = [
        subprocess.Popen(worker_argv(args, index), env=env, start_new_session=True)
        for index in range(workers)
    ]
    try:
        return [process.wait() for process in processes]
    except KeyboardInterrupt:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait()
        raise
    finally:
        for process in processes:  # an unexpected error here: no worker is left behind
            if process.poll() is None:
                process.terminate()
                process.wait()
