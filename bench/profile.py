"""Where numnet's time goes: cProfile of the MLP epoch and of CNN training steps.

Usage: ``python -m bench.profile [--batches 600] [--cnn-steps 20] [--top 15]``. Prints the
functions with the most internal time (``tottime``) for each workload, numnet only.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

import numpy as np

if not __package__:  # run as `python bench/profile.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import workloads_numnet
from bench.datasets import load_bench_data
from bench.run import batches_of


def profile_call(run: object, top: int) -> str:
    """Profile one call of ``run()``; return the ``top`` rows by internal time as text."""
    profiler = cProfile.Profile()
    profiler.runcall(run)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Profile ``--batches`` MLP steps at batch 32 and ``--cnn-steps`` CNN steps at batch 64."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--batches", type=int, default=600, help="MLP steps of batch 32")
    parser.add_argument("--cnn-steps", type=int, default=20, help="CNN steps of batch 64")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    data = load_bench_data(max(32 * args.batches, 64 * args.cnn_steps), rng)
    order = rng.permutation(len(data.labels))

    mlp = workloads_numnet.mlp_epoch(
        data.flat, data.labels, batches_of(order, 32, args.batches), 0.01
    )
    print(f"== numnet MLP 784-500-200-10, {args.batches} SGD steps of batch 32 ==")
    print(profile_call(mlp, args.top))

    cnn_batches = batches_of(order, 64, args.cnn_steps)
    cnn = workloads_numnet.cnn_steps(data.images, data.labels, cnn_batches, 0.01, 0.9)
    cnn()  # warm
    print(f"== numnet CNN, {args.cnn_steps} SGD-momentum steps of batch 64 ==")
    print(profile_call(cnn, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
