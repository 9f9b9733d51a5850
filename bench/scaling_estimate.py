"""Data-parallel scaling on paper: K machines, ring allreduce of the flat gradient every step.

The model (docs/distributed.md explains it): one machine computes a global batch of B images in
``B * c`` seconds (``c`` = seconds per image of one training step, forward, backward and update;
linear in B, which flatters small batches a little). K machines each compute ``B / K`` images, then
allreduce the gradient: ``P`` float32 parameters, ``S = 4 P`` bytes, by the bandwidth-optimal
ring in ``2 (K - 1) / K * S / bandwidth + 2 (K - 1) * latency``, plus one small allreduce of the
loss (``ceil(log2 K) * latency``). The efficiency is the one-machine time over K times the
K-machine time::

    E(K, B) = B c / (B c + K t_comm(K))

so it stays at or above 80 % for a global batch ``B >= 4 K t_comm(K) / c``.

``c`` comes from the single-process step times recorded in docs/performance.md (the 2-core
machine, 2 BLAS threads: the MLP's epoch at batch 32 and the CNN's step at batch 64; see
:data:`RECORDED_SECONDS_PER_IMAGE`), or from ``--measure``, which times a few steps here. The
parameter counts come from the models themselves.

Usage: ``python -m bench.scaling_estimate [--latency-us 30] [--measure]`` (a Markdown table).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/scaling_estimate.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Step time per image from docs/performance.md ("Latest full run"): MLP 1.01 s per epoch of
# 60,000 images at batch 32; CNN 11.7 ms per step of batch 64.
RECORDED_SECONDS_PER_IMAGE = {"mlp": 1.01 / 60_000, "cnn": 11.7e-3 / 64}
README_BATCH = {"mlp": 32, "cnn": 64}
RANKS = (2, 4, 8, 16, 32, 64)
BANDWIDTHS_GBIT = (10.0, 25.0)
BYTES_PER_VALUE = 4  # float32


def parameter_counts() -> dict[str, int]:
    """Trainable parameters of the benchmark's (the README's) MLP and CNN."""
    from bench.workloads_numnet import cnn_model, mlp_model

    return {
        name: sum(int(p.size) for p in build(0).params.values())
        for name, build in (("mlp", mlp_model), ("cnn", cnn_model))
    }


def measured_seconds_per_image(steps: int = 20) -> dict[str, float]:
    """Median seconds per image of ``steps`` training steps of each model, in this process."""
    import numpy as np

    from bench.workloads_numnet import cnn_steps, mlp_epoch

    rng = np.random.default_rng(0)
    out = {}
    for name, batch in README_BATCH.items():
        X = rng.random((batch * 4, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, size=len(X))
        batches = [np.arange(i * batch, (i + 1) * batch) for i in range(4)]
        if name == "mlp":
            run = mlp_epoch(X.reshape(len(X), -1), y, batches, lr=0.01)
        else:
            run = cnn_steps(X, y, batches, lr=0.01, momentum=0.9)
        run()  # warm-up
        times = []
        for _ in range(max(1, steps // 4)):
            start = time.perf_counter()
            run()
            times.append((time.perf_counter() - start) / (4 * batch))
        out[name] = sorted(times)[len(times) // 2]
    return out


def comm_seconds(parameters: int, ranks: int, gbit_per_s: float, latency_s: float) -> float:
    """Ring allreduce of the float32 gradient plus the loss's small allreduce, one step."""
    payload = parameters * BYTES_PER_VALUE
    ring = 2 * (ranks - 1) / ranks * payload * 8 / (gbit_per_s * 1e9)
    return ring + 2 * (ranks - 1) * latency_s + math.ceil(math.log2(ranks)) * latency_s


def efficiency(batch: float, per_image: float, comm: float, ranks: int) -> float:
    """One machine's time for the global batch over K times the K-machine time."""
    return batch * per_image / (batch * per_image + ranks * comm)


def estimate(per_image: dict[str, float], latency_s: float) -> dict[str, Any]:
    """Rows of the scaling table for every model, bandwidth and K."""
    counts = parameter_counts()
    rows = []
    for name, count in counts.items():
        for gbit in BANDWIDTHS_GBIT:
            for k in RANKS:
                comm = comm_seconds(count, k, gbit, latency_s)
                batch = README_BATCH[name]
                rows.append(
                    {
                        "model": name,
                        "parameters": count,
                        "megabytes_per_step": count * BYTES_PER_VALUE / 1e6,
                        "gbit_per_s": gbit,
                        "ranks": k,
                        "comm_ms": comm * 1e3,
                        "compute_ms_at_readme_batch": batch * per_image[name] * 1e3,
                        "efficiency_at_readme_batch": efficiency(batch, per_image[name], comm, k),
                        "batch_for_80_percent": math.ceil(4 * k * comm / per_image[name]),
                    }
                )
    return {"latency_us": latency_s * 1e6, "seconds_per_image": per_image, "rows": rows}


def markdown(report: dict[str, Any]) -> str:
    """The table docs/distributed.md shows."""
    lines = [
        "| model (params, MB/step) | link | K | allreduce (ms) | efficiency at README batch "
        "| global batch for >= 80 % |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        batch = README_BATCH[row["model"]]
        lines.append(
            f"| {row['model']} ({row['parameters']:,}, {row['megabytes_per_step']:.2f}) "
            f"| {row['gbit_per_s']:g} Gbit/s | {row['ranks']} | {row['comm_ms']:.2f} "
            f"| {100 * row['efficiency_at_readme_batch']:.0f} % (B={batch}) "
            f"| {row['batch_for_80_percent']:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the estimate (Markdown table, or plain lines)."""
    parser = argparse.ArgumentParser(prog="python -m bench.scaling_estimate", description=__doc__)
    parser.add_argument("--latency-us", type=float, default=30.0, help="per-message latency")
    parser.add_argument(
        "--measure", action="store_true", help="time the steps here instead of the recorded"
    )
    args = parser.parse_args(argv)
    per_image = measured_seconds_per_image() if args.measure else RECORDED_SECONDS_PER_IMAGE
    report = estimate(per_image, args.latency_us * 1e-6)
    source = "measured here" if args.measure else "docs/performance.md"
    print(
        f"compute per image ({source}): "
        + ", ".join(f"{k} {v * 1e6:.1f} us" for k, v in per_image.items())
        + f"; latency {args.latency_us:g} us per message"
    )
    print(markdown(report))


if __name__ == "__main__":
    main()
