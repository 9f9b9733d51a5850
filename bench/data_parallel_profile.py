"""Where a data-parallel step's time goes: K ranks x 1 thread against 1 process x K threads.

The same workloads as :mod:`bench.data_parallel`. Each contender trains ``1 + --epochs`` epochs
with its Solver's pieces timed: the model's forward and backward pass (``model.loss``), the
allreduces (which include waiting for the slowest rank), the optimizer update, and the rest
(batch gathering, evaluation, callbacks). The first epoch is a warm-up and is not counted; the
figures are rank 0's, in seconds per timed epoch.

Usage::

    python -m bench.data_parallel_profile --only cnn          # K = 2
    python -m bench.data_parallel_profile --ranks 2 --samples 12000 --epochs 2

Needs mpi4py and its ``mpiexec`` (``pip install -e '.[mpi]'``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bench.data_parallel import WORKLOADS, build_solver, run_contender

RESULT_PREFIX = "data-parallel-profile "
PARTS = ("forward + backward", "allreduce (incl. waiting)", "update", "other")


def _timed(
    totals: dict[str, float], depths: dict[str, int], part: str, function: Callable[..., Any]
) -> Callable[..., Any]:
    """``function`` adding its time to ``totals[part]`` (a call nested in another of the same
    part, such as allreduce_weighted calling allreduce_sum, is counted once)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depths[part] += 1
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            depths[part] -= 1
            if depths[part] == 0:
                totals[part] += time.perf_counter() - started

    return wrapper


def _child(workload: str, samples: int, epochs: int) -> None:
    """One contender (one rank of it under mpiexec): train with its pieces timed."""
    from numnet import distributed
    from numnet.callbacks import Callback

    totals: dict[str, float] = defaultdict(float)
    depths: dict[str, int] = defaultdict(int)
    solver = build_solver(workload, samples, epochs)
    model = solver.model
    model.loss = _timed(totals, depths, PARTS[0], model.loss)
    for name in ("allreduce_weighted", "allreduce_sum"):
        setattr(distributed, name, _timed(totals, depths, PARTS[1], getattr(distributed, name)))
    solver._apply_update = _timed(totals, depths, PARTS[2], solver._apply_update)
    warmup: dict[str, float] = {}
    clock: dict[str, float] = {}

    class AfterWarmup(Callback):
        def on_epoch_end(self, trainer: Any) -> None:
            if trainer.epoch == 1:
                warmup.update(totals)
                clock["start"] = time.perf_counter()

        def on_train_end(self, trainer: Any) -> None:
            clock["end"] = time.perf_counter()

    solver.callbacks.append(AfterWarmup())
    solver.train()
    if solver.rank != 0:
        return
    seconds = clock["end"] - clock["start"]  # the timed epochs, with the end-of-epoch votes
    per_epoch = {part: (totals[part] - warmup.get(part, 0.0)) / epochs for part in PARTS[:3]}
    per_epoch[PARTS[3]] = seconds / epochs - sum(per_epoch.values())
    print(RESULT_PREFIX + json.dumps({"epoch": seconds / epochs, **per_epoch}), flush=True)


def _run(contender: str, workload: str, args: argparse.Namespace) -> dict[str, float]:
    child = [sys.executable, "-m", "bench.data_parallel_profile", "--child", workload]
    child += ["--samples", str(args.samples), "--epochs", str(args.epochs)]
    return run_contender(contender, child, args.ranks, RESULT_PREFIX)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.data_parallel_profile")
    parser.add_argument("--ranks", type=int, default=2, help="K: ranks, and threads of the other")
    parser.add_argument("--only", default="mlp,cnn", help="comma list of mlp, cnn")
    parser.add_argument("--samples", type=int, default=12000, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(args.child, args.samples, args.epochs)
        return
    k = args.ranks
    print(f"| workload | part | {k} ranks x 1 thread (s/epoch) | 1 process x {k} threads |")
    print("|---|---|---|---|")
    for workload in args.only.split(","):
        if workload not in WORKLOADS:
            raise SystemExit(f"unknown workload {workload!r}; choose from {', '.join(WORKLOADS)}")
        ranks, threads = _run("ranks", workload, args), _run("threads", workload, args)
        for part in ("epoch", *PARTS):
            print(f"| {workload} | {part} | {ranks[part]:.3f} | {threads[part]:.3f} |")


if __name__ == "__main__":
    main()
