"""Cold start: a fresh model's first call against its steady call, numnet and PyTorch.

A user who predicts a test set once, or a server that meets a new batch size, pays for the first
call at a new geometry: buffers allocated and paged in, per-geometry plans worked out, BLAS woken
up. The steady time hides that, so this module times the first call on its own, in a fresh process
per (framework, mode, batch size), as a user's script meets it.

Modes (the benchmark CNN, float32; random seeded images, since the values do not change the time):

* ``infer``: ``model.loss(X)`` (scores, test mode) on a new model; PyTorch's ``model(X)`` in eval
  mode under ``torch.no_grad()``.
* ``train``: ``model.loss(X, y)`` (loss and gradients, no optimiser update); PyTorch's forward,
  cross-entropy and ``backward()``.
* ``infer_after_train``: a few untimed training calls at batch 64 first, then the first inference
  call at the batch size: a model that a user trained and now predicts with at another batch size.

``ratio`` is first call / steady call (the median of the calls after the first): 1 means the first
call costs nothing extra. The target is at most :data:`TARGET` (setup worth at most three steady
calls). The first call in a fresh process also pays for memory the process has never touched, which
on some virtual machines costs far more than on others; ``rounds`` > 1 takes the median over that
many fresh processes.

Usage: ``python -m bench.cold_start [--batch-sizes 1,64,500] [--modes infer,train] [--rounds 1]``
prints a table; :func:`measure` returns the numbers as a dict.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("numnet", "torch")
ALL_FRAMEWORKS = (*FRAMEWORKS, "torch_channels_last")
MODES = ("infer", "train", "infer_after_train")
TARGET = 4.0
# Steady calls: at least this many, and more for small batches until they add up to
# _STEADY_SECONDS (a batch-1 call is too short for a median of five to settle).
_MIN_STEADY_CALLS = 5
_STEADY_SECONDS = 0.3
_MAX_STEADY_CALLS = 200
_PRIOR_BATCH = 64
_PRIOR_CALLS = 3

Call = Callable[[], None]


def _rss_mib() -> float | None:
    """This process's resident memory (VmRSS) in MiB, or None where /proc is unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _numnet_calls(mode: str, batch: tuple, prior: tuple) -> tuple[Call, Call]:
    """(timed call, untimed prior training) for a new numnet model of the benchmark CNN."""
    from bench.workloads_numnet import cnn_model

    model = cnn_model(seed=0)
    X, y = batch

    def call() -> None:
        if mode == "train":
            model.loss(X, y)
        else:
            model.loss(X)

    def train_before() -> None:
        for _ in range(_PRIOR_CALLS):
            model.loss(*prior)

    return call, train_before


def _torch_calls(mode: str, batch: tuple, prior: tuple, channels_last: bool) -> tuple[Call, Call]:
    """(timed call, untimed prior training) for a new PyTorch model of the same network."""
    from bench.workloads_torch import _cnn, _torch

    torch = _torch()
    torch.manual_seed(0)
    model = _cnn(torch, channels_last)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    loss_fn = torch.nn.CrossEntropyLoss()

    def tensors(X: Any, y: Any) -> tuple[Any, Any]:
        return torch.from_numpy(X).contiguous(memory_format=layout), torch.from_numpy(y)

    images, labels = tensors(*batch)
    prior_images, prior_labels = tensors(*prior)

    def train_on(batch_images: Any, batch_labels: Any) -> None:
        model.train()
        model.zero_grad()
        loss_fn(model(batch_images), batch_labels).backward()

    def call() -> None:
        if mode == "train":
            train_on(images, labels)
            return
        model.eval()
        with torch.no_grad():
            model(images)

    def train_before() -> None:
        for _ in range(_PRIOR_CALLS):
            train_on(prior_images, prior_labels)

    return call, train_before


def child(framework: str, mode: str, batch_size: int, repeats: int = 5) -> dict[str, Any]:
    """Time one framework's first and steady calls in this process (meant to be a fresh one).

    Returns ``import_s`` (importing the framework), ``build_s`` (making the model), ``first_s``,
    ``steady_s`` (median of the later calls, at least ``repeats`` of them), ``steady_calls``,
    ``ratio`` (first / steady), ``first_call_mib`` (how much the resident memory grew during the
    first call: the memory it paged in, which is most of what it costs beyond a steady call; None
    without /proc) and the CPU seconds of the first and the steady calls (``first_cpu_s``,
    ``steady_cpu_s``: less disturbed by other processes than the wall times), with the arguments.
    """
    import numpy as np

    started = time.perf_counter()
    if framework == "numnet":
        import numnet.models  # noqa: F401
    else:
        from bench.workloads_torch import _torch

        _torch()
    import_s = time.perf_counter() - started
    rng = np.random.default_rng(0)
    X = rng.random((batch_size, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=batch_size, dtype=np.int64)
    prior = (
        rng.random((_PRIOR_BATCH, 1, 28, 28), dtype=np.float32),
        rng.integers(0, 10, size=_PRIOR_BATCH, dtype=np.int64),
    )
    started = time.perf_counter()
    if framework == "numnet":
        call, train_before = _numnet_calls(mode, (X, y), prior)
    else:
        call, train_before = _torch_calls(mode, (X, y), prior, framework == "torch_channels_last")
    build_s = time.perf_counter() - started
    if mode == "infer_after_train":
        train_before()
    rss_before = _rss_mib()
    cpu_start, start = time.process_time(), time.perf_counter()
    call()
    first_s, first_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    rss_after = _rss_mib()
    steady: list[float] = []
    steady_cpu: list[float] = []
    while len(steady) < _MAX_STEADY_CALLS and (
        len(steady) < max(repeats, _MIN_STEADY_CALLS) or sum(steady) < _STEADY_SECONDS
    ):
        cpu_start, start = time.process_time(), time.perf_counter()
        call()
        steady.append(time.perf_counter() - start)
        steady_cpu.append(time.process_time() - cpu_start)
    steady_s = statistics.median(steady)
    return {
        "framework": framework,
        "mode": mode,
        "batch_size": batch_size,
        "import_s": import_s,
        "build_s": build_s,
        "first_s": first_s,
        "steady_s": steady_s,
        "steady_calls": len(steady),
        "ratio": first_s / steady_s,
        "first_call_mib": (
            None if rss_before is None or rss_after is None else rss_after - rss_before
        ),
        "first_cpu_s": first_cpu_s,
        "steady_cpu_s": statistics.median(steady_cpu),
    }


def _run_child(
    framework: str, mode: str, batch_size: int, repeats: int, timeout: float
) -> dict[str, Any]:
    """:func:`child` in a fresh ``python -m bench.cold_start --child`` process; its JSON result
    (``{"status": "error", "reason": ...}`` when it fails)."""
    args = [
        sys.executable,
        "-m",
        "bench.cold_start",
        "--child",
        framework,
        mode,
        str(batch_size),
        "--repeats",
        str(repeats),
    ]
    try:
        done = subprocess.run(
            args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"child timed out after {timeout} s"}
    lines = done.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        report = None
    if done.returncode != 0 or not isinstance(report, dict):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "reason": f"child exited {done.returncode}: {tail}"}
    return report


def measure(
    batch_sizes: Sequence[int] = (1, 64, 500),
    modes: Sequence[str] = MODES,
    frameworks: Sequence[str] = FRAMEWORKS,
    repeats: int = 5,
    rounds: int = 1,
    timeout: float = 300.0,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """First-call / steady-call ratios, each from a fresh child process.

    Returns ``{"description", "unit", "target", "higher_is_better", "batch_sizes", "modes",
    "rounds", "results", "ratios", "meets_target"}``: ``results[framework][mode][batch]`` holds
    ``status`` ("ok" or "error" with ``reason``), the medians over ``rounds`` of ``first_s``,
    ``steady_s`` and ``ratio``, and the rounds' ``samples``; ``ratios[framework][mode][batch]`` is
    the ratio alone (None on error). ``meets_target``: every numnet ratio at most ``TARGET``.
    Batch sizes are int keys. The children of one round run one after another, frameworks
    interleaved, so that a slow spell of the machine falls on both.
    """
    unknown = sorted(set(modes) - set(MODES)) + sorted(set(frameworks) - set(ALL_FRAMEWORKS))
    if unknown:
        raise ValueError(f"unknown modes or frameworks: {', '.join(unknown)}")
    samples: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for _ in range(rounds):
        for mode in modes:
            for batch_size in batch_sizes:
                for framework in frameworks:
                    report = _run_child(framework, mode, int(batch_size), repeats, timeout)
                    samples.setdefault((framework, mode, int(batch_size)), []).append(report)
                    if log is not None:
                        log(_log_line(report, framework, mode, int(batch_size)))
    results: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    ratios: dict[str, dict[str, dict[int, float | None]]] = {}
    for (framework, mode, batch_size), reports in samples.items():
        errors = [r for r in reports if "ratio" not in r]
        if errors:
            entry: dict[str, Any] = {"status": "error", "reason": errors[0].get("reason", "?")}
        else:
            entry = {"status": "ok", "samples": reports}
            for key in ("first_s", "steady_s", "ratio"):
                entry[key] = statistics.median(r[key] for r in reports)
        results.setdefault(framework, {}).setdefault(mode, {})[batch_size] = entry
        ratios.setdefault(framework, {}).setdefault(mode, {})[batch_size] = entry.get("ratio")
    numnet_ratios = [r for per_mode in ratios.get("numnet", {}).values() for r in per_mode.values()]
    return {
        "description": (
            "first call / steady call of a new benchmark CNN (float32), each in a fresh process: "
            f"modes {', '.join(modes)}; batch sizes {', '.join(map(str, batch_sizes))}"
        ),
        "unit": "first / steady",
        "higher_is_better": False,
        "target": TARGET,
        "batch_sizes": [int(b) for b in batch_sizes],
        "modes": list(modes),
        "rounds": rounds,
        "results": results,
        "ratios": ratios,
        "meets_target": bool(numnet_ratios)
        and all(r is not None and r <= TARGET for r in numnet_ratios),
    }


def _log_line(report: dict[str, Any], framework: str, mode: str, batch_size: int) -> str:
    """One progress line for a child's report."""
    if "ratio" not in report:
        return f"  cold_start {framework} {mode} {batch_size}: error: {report.get('reason')}"
    return (
        f"  cold_start {framework} {mode} batch {batch_size}: first "
        f"{1e3 * report['first_s']:.1f} ms, steady {1e3 * report['steady_s']:.2f} ms, "
        f"ratio {report['ratio']:.2f}"
    )


def format_table(result: dict[str, Any]) -> str:
    """The result of :func:`measure` as a text table: one row per mode and batch size."""
    frameworks = list(result["results"])
    header = f"{'mode':<18} {'batch':>5}"
    for framework in frameworks:
        header += f" | {framework + ' first ms':>22} {'steady ms':>9} {'ratio':>6}"
    lines = [header, "-" * len(header)]
    for mode in result["modes"]:
        for batch_size in result["batch_sizes"]:
            line = f"{mode:<18} {batch_size:>5}"
            for framework in frameworks:
                entry = result["results"][framework].get(mode, {}).get(batch_size)
                if entry is None or entry["status"] != "ok":
                    line += f" | {'error':>22} {'':>9} {'':>6}"
                    continue
                line += (
                    f" | {1e3 * entry['first_s']:>22.1f} {1e3 * entry['steady_s']:>9.2f} "
                    f"{entry['ratio']:>6.2f}"
                )
            lines.append(line)
    verdict = "meets" if result["meets_target"] else "misses"
    lines.append(f"numnet {verdict} the target: every ratio at most {result['target']:g}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``--child`` runs one measurement and prints its JSON; otherwise measure and print a table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.cold_start", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "MODE", "BATCH"))
    parser.add_argument("--batch-sizes", default="1,64,500")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--repeats", type=int, default=5, help="steady calls (at least)")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes per entry")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if args.child:
        framework, mode, batch = args.child
        print(json.dumps(child(framework, mode, int(batch), args.repeats)))
        return 0
    result = measure(
        batch_sizes=[int(b) for b in args.batch_sizes.split(",") if b.strip()],
        modes=[m.strip() for m in args.modes.split(",") if m.strip()],
        frameworks=[f.strip() for f in args.frameworks.split(",") if f.strip()],
        repeats=args.repeats,
        rounds=args.rounds,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
