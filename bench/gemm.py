"""The machine's float32 matmul rate and the GEMM floor of a workload (its FLOPs at that rate)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

MLP_DIMS = (784, 500, 200, 10)


def matmul_gflops(
    m: int, k: int, n: int, rng: np.random.Generator, min_seconds: float = 0.2, repeats: int = 5
) -> float:
    """Median float32 GFLOP/s of ``(m, k) @ (k, n)`` with NumPy, preallocated output.

    Each repeat runs back-to-back products until ``min_seconds`` have passed (at least one), so a
    slow or contended machine cannot make the measurement run long.
    """
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    rates = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            np.matmul(a, b, out=out)
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rates.append(2.0 * m * k * n * calls / elapsed / 1e9)
    return statistics.median(rates)


def mlp_epoch_flops(n_samples: int, dims: tuple[int, ...] = MLP_DIMS) -> dict[str, float]:
    """FLOPs of one training epoch of an MLP, counting only the matrix products.

    Forward: ``2 * d_in * d_out`` per sample and layer; weight gradient: the same again; input
    gradient: the same for every layer but the first (nobody needs the gradient of the data).
    """
    per_layer = [2.0 * d_in * d_out for d_in, d_out in zip(dims[:-1], dims[1:], strict=True)]
    forward = sum(per_layer) * n_samples
    weight_grad = forward
    input_grad = sum(per_layer[1:]) * n_samples
    return {
        "forward": forward,
        "weight_grad": weight_grad,
        "input_grad": input_grad,
        "total": forward + weight_grad + input_grad,
    }


def measure_gemm(rng: np.random.Generator, quick: bool) -> dict[str, Any]:
    """Square 2048^3 (512^3 in quick mode) and skinny 32x784 @ 784x500 float32 rates."""
    square = 512 if quick else 2048
    min_seconds = 0.02 if quick else 0.3
    repeats = 1 if quick else 5
    return {
        "square": {
            "shape": [square, square, square],
            "gflops": matmul_gflops(square, square, square, rng, min_seconds, repeats),
        },
        "skinny": {
            "shape": [32, 784, 500],
            "gflops": matmul_gflops(32, 784, 500, rng, min_seconds, repeats),
        },
    }


def mlp_floor(n_samples: int, gemm: dict[str, Any]) -> dict[str, Any]:
    """Seconds of one MLP epoch if every product ran at the square and at the skinny rate."""
    flops = mlp_epoch_flops(n_samples)
    return {
        "flops": flops,
        "seconds_at_square_rate": flops["total"] / (gemm["square"]["gflops"] * 1e9),
        "seconds_at_skinny_rate": flops["total"] / (gemm["skinny"]["gflops"] * 1e9),
    }
