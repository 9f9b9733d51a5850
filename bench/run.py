"""Benchmark numnet against PyTorch and scikit-learn: ``python -m bench.run [--quick] [--only ..]``.

Workloads (float32, 2 threads, same data and batch order for every framework):

* ``mlp32``     MLP 784-500-200-10, plain SGD, batch 32, one epoch (s/epoch; numnet/torch <= 0.6)
* ``mlp256``    the same at batch 256 (target <= 1.0)
* ``cnn_train`` CNN conv32-pool-conv64-pool-fc128-fc10, SGD momentum 0.9, batch 64 (ms/step; <= 1)
* ``cnn_infer`` the same CNN, inference on a new model (images/s; >= 1.0)
* ``cnn_infer_trained`` the same, on the model ``Solver.train()`` leaves after a short run
* ``cnn_infer_loaded``  the same, on that model after ``numnet.save`` / ``numnet.load``
* ``cnn_cold_start``    a new model's first call (inference, training, inference after training)
  at batch 1, 64 and 500 against its steady call, a fresh process each (``bench.cold_start``;
  first / steady <= 4). Kept under the JSON's top-level ``cold_start`` key, not among the
  ``workloads``, whose entries all share one form (contenders, medians, ratios)
* ``cnn_rss``   peak RSS of CNN training, each framework in its own child process (MiB; <= 1.0)

The CNN workloads time PyTorch twice, in the default (NCHW) and in ``channels_last`` memory format;
``ratio`` is numnet / plain torch (as in earlier runs) and ``ratio_fastest_torch`` numnet / the
faster of the two, which the target is read against.

Also measured: the float32 GEMM rate (square 2048^3 and skinny 32x784 @ 784x500), the MLP epoch's
GEMM floor, scikit-learn's MLPClassifier on ``mlp32``, and -- in a child process with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset -- the timed workloads again.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

if not __package__:  # run as `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gemm, report, subprocesses, workloads_numnet, workloads_sklearn, workloads_torch
from bench.datasets import N_TRAIN, load_bench_data
from bench.harness import ShortTraining, Workload, run_workload
from bench.machine import machine_info

TIMED_WORKLOADS = (
    "mlp32",
    "mlp256",
    "cnn_train",
    "cnn_infer",
    "cnn_infer_trained",
    "cnn_infer_loaded",
)
ALL_WORKLOADS = (*TIMED_WORKLOADS, "cnn_cold_start", "cnn_rss")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"
SCHEMA = "numnet-bench/1"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0].split(":")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (smoke test)")
    parser.add_argument(
        "--only", default=",".join(ALL_WORKLOADS), help=f"comma list of {', '.join(ALL_WORKLOADS)}"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per contender (MLP)")
    parser.add_argument("--step-repeats", type=int, default=7, help="timed blocks (CNN workloads)")
    parser.add_argument("--steps", type=int, default=10, help="CNN training steps per timed block")
    parser.add_argument("--inference-images", type=int, default=2048)
    parser.add_argument(
        "--held-train-steps",
        type=int,
        default=20,
        help="training steps of batch 64 before cnn_infer_trained / cnn_infer_loaded",
    )
    parser.add_argument(
        "--cold-rounds",
        type=int,
        default=3,
        help="fresh child processes per cold-start entry (the median is reported)",
    )
    parser.add_argument("--rss-repeats", type=int, default=3, help="child processes per framework")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the JSON")
    parser.add_argument(
        "--no-sklearn", action="store_true", help="skip scikit-learn's MLPClassifier"
    )
    parser.add_argument(
        "--no-env-variant",
        action="store_true",
        help="skip the child run without OPENBLAS_* variables",
    )
    parser.add_argument("--no-table", action="store_true", help="do not print the table")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(ALL_WORKLOADS))
    if unknown:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(ALL_WORKLOADS)}"
        )
    for name in (
        "repeats",
        "step_repeats",
        "steps",
        "inference_images",
        "held_train_steps",
        "cold_rounds",
        "rss_repeats",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.quick:
        args.repeats = args.step_repeats = args.rss_repeats = args.cold_rounds = 1
        args.steps, args.inference_images, args.held_train_steps = 2, 64, 2
    return args


def batches_of(order: np.ndarray, batch_size: int, limit: int | None = None) -> list[np.ndarray]:
    """Consecutive index arrays of ``batch_size`` from ``order`` (the last may be shorter)."""
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return batches[:limit] if limit is not None else batches


def cnn_builders(module_builder: str, *arguments: Any, **keywords: Any) -> dict[str, Any]:
    """numnet, torch and torch in ``channels_last`` builders of one CNN workload.

    ``module_builder`` names the builder (``"cnn_steps"``, ``"cnn_inference"``) that both workload
    modules define with the same arguments; PyTorch's also takes ``channels_last``.
    """
    return {
        "numnet": functools.partial(
            getattr(workloads_numnet, module_builder), *arguments, **keywords
        ),
        "torch": functools.partial(
            getattr(workloads_torch, module_builder), *arguments, **keywords
        ),
        "torch_channels_last": functools.partial(
            getattr(workloads_torch, module_builder), *arguments, channels_last=True, **keywords
        ),
    }


def build_workloads(
    args: argparse.Namespace, data: Any, rng: np.random.Generator
) -> list[Workload]:
    """The selected timed workloads, each with its numnet / torch (/ sklearn) builders."""
    X_flat, X_img, y = data.flat, data.images, data.labels
    order = rng.permutation(len(y))
    chosen: list[Workload] = []
    for batch_size, target in ((32, 0.6), (256, 1.0)):
        name = f"mlp{batch_size}"
        if name not in args.only:
            continue
        batches = batches_of(order, batch_size)
        builders = {
            contender: functools.partial(module.mlp_epoch, X_flat, y, batches, args.lr, args.seed)
            for contender, module in (("numnet", workloads_numnet), ("torch", workloads_torch))
        }
        if batch_size == 32 and not args.no_sklearn:
            builders["sklearn"] = functools.partial(
                workloads_sklearn.mlp_epoch, X_flat, y, order, batch_size, args.lr, args.seed
            )
        chosen.append(
            Workload(
                name,
                f"MLP 784-500-200-10, plain SGD lr {args.lr}, batch {batch_size}, "
                f"one epoch of {len(y)} images",
                "s/epoch",
                1,
                target,
                builders,
                args.repeats,
            )
        )
    if "cnn_train" in args.only:
        batches = batches_of(order, 64, limit=args.steps)
        chosen.append(
            Workload(
                "cnn_train",
                f"CNN training, SGD momentum 0.9 lr {args.lr}, batch 64, "
                f"{len(batches)} steps per timed block",
                "ms/step",
                len(batches),
                1.0,
                cnn_builders("cnn_steps", X_img, y, batches, args.lr, 0.9, args.seed),
                args.step_repeats,
                warmup=1,
            )
        )
    images = X_img[: min(args.inference_images, len(X_img))]
    training = ShortTraining(
        X_img, y, batches_of(order, 64, limit=args.held_train_steps), args.lr, 0.9
    )
    for held, name, model_text in (
        ("fresh", "cnn_infer", "a new model"),
        (
            "trained",
            "cnn_infer_trained",
            f"the model after Solver.train() ({len(training.batches)} steps of batch 64)",
        ),
        ("loaded", "cnn_infer_loaded", "that trained model after numnet.save / numnet.load"),
    ):
        if name not in args.only:
            continue
        chosen.append(
            Workload(
                name,
                f"CNN inference on {model_text}, batch 256, {len(images)} images per timed block",
                "images/s",
                len(images),
                1.0,
                cnn_builders("cnn_inference", images, 256, args.seed, held=held, training=training),
                args.step_repeats,
                warmup=1,
            )
        )
    return chosen


def add_floor(workload: dict[str, Any], floor: dict[str, Any]) -> None:
    """Attach the MLP GEMM floor and each contender's time / floor to an MLP workload's result."""
    workload["gemm_floor_s"] = floor["seconds_at_square_rate"]
    for result in workload["contenders"].values():
        if "median" in result:
            result["over_floor"] = result["median"] / floor["seconds_at_square_rate"]
            result["over_skinny_floor"] = result["median"] / floor["seconds_at_skinny_rate"]


def cold_start_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`bench.cold_start.measure` for this run.

    A full run measures inference, training and inference after training at batch 1, 64 and 500,
    for numnet and both PyTorch layouts; quick mode only the first inference call of numnet and
    plain PyTorch at batch 1 and 64, one process each (the code path is the same).
    """
    from bench import cold_start

    if args.quick:
        return {
            "batch_sizes": (1, 64),
            "modes": ("infer",),
            "frameworks": cold_start.FRAMEWORKS,
            "repeats": 1,
            "rounds": 1,
        }
    return {
        "batch_sizes": (1, 64, 500),
        "modes": cold_start.MODES,
        "frameworks": cold_start.ALL_FRAMEWORKS,
        "rounds": args.cold_rounds,
    }


def variant_args(args: argparse.Namespace) -> list[str]:
    """Arguments for the child run without the OpenBLAS variables: the same timed workloads.

    In quick mode only the first selected timed workload (the code path is the same for all).
    """
    timed = [name for name in args.only if name in TIMED_WORKLOADS]
    if args.quick:
        timed = timed[:1]
    out = [
        "--only",
        ",".join(timed),
        "--no-sklearn",
        "--seed",
        str(args.seed),
        "--lr",
        str(args.lr),
    ]
    if args.quick:
        return [*out, "--quick"]
    return [
        *out,
        *("--repeats", str(args.repeats), "--step-repeats", str(args.step_repeats)),
        *("--steps", str(args.steps), "--inference-images", str(args.inference_images)),
        *("--held-train-steps", str(args.held_train_steps)),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads, print the table, write the JSON; return the exit status."""
    args = parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    load_at_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    if load_at_start and load_at_start[0] > 0.5:
        log(
            f"warning: load average {load_at_start[0]:.2f} at start: other processes share the "
            "CPUs, timings will be noisy (compare ratios within this run)"
        )
    rng = np.random.default_rng(args.seed)
    n_train = 256 if args.quick else N_TRAIN
    data = load_bench_data(n_train, rng)
    log(f"data: {data.source}, {len(data.labels)} images")

    gemm_rates = gemm.measure_gemm(rng, args.quick)
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "config": {key: (str(v) if isinstance(v, Path) else v) for key, v in vars(args).items()},
        "load_average_at_start": load_at_start,
        "data": {"source": data.source, "n_train": int(len(data.labels))},
        "gemm": gemm_rates,
        "mlp_floor": gemm.mlp_floor(len(data.labels), gemm_rates),
        "workloads": {},
        "cold_start": None,
    }

    for workload in build_workloads(args, data, rng):
        log(f"running {workload.name}: {workload.description}")
        result["workloads"][workload.name] = run_workload(workload, log)
        if workload.name.startswith("mlp"):
            add_floor(result["workloads"][workload.name], result["mlp_floor"])
    if "cnn_cold_start" in args.only:
        log(f"running cnn_cold_start: {args.cold_rounds} child process(es) per entry")
        from bench import cold_start

        result["cold_start"] = cold_start.measure(**cold_start_options(args), log=log)
    if "cnn_rss" in args.only:
        steps = 1 if args.quick else 5
        log(f"running cnn_rss: {args.rss_repeats} child process(es) per framework")
        result["workloads"]["cnn_rss"] = subprocesses.measure_rss(steps, 64, args.rss_repeats)

    timed = [name for name in args.only if name in TIMED_WORKLOADS]
    result["env_variant"] = None
    if not args.no_env_variant and timed:
        log("running the timed workloads in a child without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE")
        result["env_variant"] = subprocesses.run_without_blas_env(variant_args(args), timeout=1800)

    log("done")
    result["machine"] = machine_info()  # last, so that torch's BLAS (if imported) is listed too
    report.write_json(result, args.json)
    if not args.no_table:
        print(report.format_report(result))
        print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
