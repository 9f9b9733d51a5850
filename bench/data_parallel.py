"""Data-parallel training on one machine: K MPI ranks x 1 BLAS thread against 1 process x K threads.

The workloads are the benchmark's (and the README's) MLP 784-500-200-10 (plain SGD, batch 32) and
CNN conv32-pool-conv64-pool-fc128-fc10 (SGD with momentum 0.9, batch 64), float32, on the first
``--samples`` Fashion-MNIST training images (random images of that shape when the files are
absent; the time does not depend on the values). Both contenders train the same model with
:class:`numnet.Solver` and the same global batch: ``mpiexec -n K`` with ``comm`` (each rank
computes its share of every batch, one allreduce of the flat gradients per step) and
``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1``, against one process with K BLAS threads.

Each measurement is a fresh child (or K children) training ``1 + --epochs`` epochs; the first is
a warm-up (first-call effects) and the median of the others is kept. Contenders alternate
(rotated every round) so that a drifting, shared machine affects both alike; the table reports
medians over ``--rounds`` and the ratio ranks / threads (below 1: the ranks are faster).

Usage::

    python -m bench.data_parallel                      # K = 2, both workloads, 3 rounds
    python -m bench.data_parallel --ranks 4 --only cnn --samples 60000 --json /tmp/dp.json
    python -m bench.data_parallel --quick              # tiny sizes: a smoke test of the paths

Needs mpi4py and its ``mpiexec`` (``pip install -e '.[mpi]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = {  # name: (batch size, learning rate, momentum)
    "mlp": (32, 0.01, 0.0),
    "cnn": (64, 0.01, 0.9),
}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
RESULT_PREFIX = "data-parallel-result "


def build_solver(workload: str, samples: int, epochs: int) -> Any:
    """The contender's Solver for ``workload`` (data-parallel when run under ``mpiexec -n K``)."""
    import numpy as np

    import numnet
    from bench.datasets import load_bench_data
    from bench.workloads_numnet import cnn_model, mlp_model
    from numnet import distributed
    from numnet.optim import SGD

    comm = distributed.world()
    if distributed.size(comm) == 1:
        comm = None
    batch, lr, momentum = WORKLOADS[workload]
    data = load_bench_data(samples, np.random.default_rng(0))
    X = data.flat if workload == "mlp" else data.images
    model = mlp_model(0) if workload == "mlp" else cnn_model(0)
    solver = numnet.Solver(
        model,
        {"X_train": X, "y_train": data.labels, "X_val": X[:batch], "y_val": data.labels[:batch]},
        optimizer=SGD(lr, momentum=momentum),
        batch_size=batch,
        num_epochs=1 + epochs,
        num_train_samples=batch,
        verbose=False,
        seed=0,
        comm=comm,
    )
    solver.data_source = data.source
    return solver


def _worker(args: argparse.Namespace) -> None:
    """One contender's training, in this process (one rank of it under ``mpiexec``)."""
    solver = build_solver(args.worker, args.samples, args.epochs)
    solver.train()
    if solver.rank == 0:
        seconds = [record["seconds"] for record in solver.history]
        result = {
            "epoch_seconds": seconds[1:],
            "warmup_seconds": seconds[0],
            "source": solver.data_source,
        }
        print(RESULT_PREFIX + json.dumps(result), flush=True)


def _mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        raise SystemExit("no mpiexec found; install mpi4py and MPICH with: pip install -e '.[mpi]'")
    return found


def run_contender(contender: str, worker: list[str], ranks: int, prefix: str) -> dict[str, Any]:
    """Run ``worker`` (a command line) as the contender: under ``mpiexec -n ranks`` with one BLAS
    thread a rank, or as one process with ``ranks`` threads; return the JSON its rank 0 printed
    after ``prefix``."""
    threads = 1 if contender == "ranks" else ranks
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    command = [_mpiexec(), "-n", str(ranks), *worker] if contender == "ranks" else worker
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith(prefix):
            return json.loads(line[len(prefix) :])
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    raise SystemExit(f"{contender} {worker} failed (exit {done.returncode}): {' | '.join(tail)}")


def _run_contender(
    contender: str, workload: str, ranks: int, args: argparse.Namespace
) -> dict[str, Any]:
    worker = [sys.executable, "-m", "bench.data_parallel", "--worker", workload]
    worker += ["--samples", str(args.samples), "--epochs", str(args.epochs)]
    return run_contender(contender, worker, ranks, RESULT_PREFIX)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Interleaved rounds of both contenders per workload; medians and the ratio."""
    contenders = ["ranks", "threads"]
    results: dict[str, Any] = {}
    for workload in args.only:
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        source = None
        for round_index in range(args.rounds):
            order = contenders[round_index % 2 :] + contenders[: round_index % 2]
            for contender in order:
                result = _run_contender(contender, workload, args.ranks, args)
                samples[contender].append(statistics.median(result["epoch_seconds"]))
                source = result["source"]
        ranks_s = statistics.median(samples["ranks"])
        threads_s = statistics.median(samples["threads"])
        results[workload] = {
            "ranks_x_1_thread_s_per_epoch": ranks_s,
            "1_process_x_threads_s_per_epoch": threads_s,
            "ratio_ranks_over_threads": ranks_s / threads_s,
            "samples": samples,
            "data": source,
        }
    return {
        "ranks": args.ranks,
        "train_samples": args.samples,
        "epochs_timed": args.epochs,
        "rounds": args.rounds,
        "load_average_at_start": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "workloads": results,
    }


def table(report: dict[str, Any]) -> str:
    """The Markdown table of :func:`measure`'s report."""
    k = report["ranks"]
    lines = [
        f"| workload | {k} ranks x 1 thread (s/epoch) | 1 process x {k} threads (s/epoch) "
        "| ratio ranks/threads |",
        "|---|---|---|---|",
    ]
    for name, row in report["workloads"].items():
        lines.append(
            f"| {name} ({report['train_samples']} images) "
            f"| {row['ranks_x_1_thread_s_per_epoch']:.3f} "
            f"| {row['1_process_x_threads_s_per_epoch']:.3f} "
            f"| {row['ratio_ranks_over_threads']:.2f} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.data_parallel", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--ranks", type=int, default=2, help="K: ranks, and threads of the other")
    parser.add_argument("--only", default="mlp,cnn", help="comma list of mlp, cnn")
    parser.add_argument(
        "--samples", type=int, help="training images per epoch (default 12000; 256 with --quick)"
    )
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per workload")
    parser.add_argument("--quick", action="store_true", help="tiny: 1 epoch, 1 round")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--worker", choices=sorted(WORKLOADS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.rounds = 1, 1
    if args.samples is None:
        args.samples = 256 if args.quick else 12_000
    args.only = [name for name in args.only.split(",") if name]
    unknown = [name for name in args.only if name not in WORKLOADS]
    if unknown or args.ranks < 1 or args.samples < 1 or args.epochs < 1 or args.rounds < 1:
        parser.error(f"--only takes {', '.join(WORKLOADS)}; counts must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print its table (or one worker, with ``--worker``)."""
    args = parse_args(argv)
    if args.worker:
        _worker(args)
        return
    report = measure(args)
    print(table(report))
    print(f"load average at start: {report['load_average_at_start']}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
