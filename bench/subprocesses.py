"""Runs in child processes: the peak-RSS workload and the benchmark without the OpenBLAS variables.

The OpenBLAS variables are only ever changed in the environment handed to a child process, never in
this process (so tests and CI keep whatever the machine sets).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import ratio_of
from bench.machine import BLAS_ENV_VARS

REPO_ROOT = Path(__file__).resolve().parent.parent
KIB_PER_MIB = 1024.0


def _run_child(
    args: list[str], env: dict[str, str] | None, timeout: float
) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` from the repository root; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _last_json_line(stdout: str) -> dict[str, Any] | None:
    """The last line of ``stdout`` parsed as JSON, or None."""
    lines = stdout.strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        return None


def measure_rss(
    steps: int, batch_size: int, repeats: int, timeout: float = 300.0
) -> dict[str, Any]:
    """Peak RSS of CNN training, each framework in a fresh child, interleaved ``repeats`` times.

    Returns the workload JSON: per contender the median raw peak, the RSS after imports (baseline)
    and the net peak (raw - baseline), in MiB; ``ratio`` is on the net numbers, ``ratio_raw`` on the
    raw ones.
    """
    samples: dict[str, list[dict[str, Any]]] = {"numnet": [], "torch": []}
    failures: dict[str, dict[str, Any]] = {}
    for _ in range(repeats):
        for framework in samples:
            if framework in failures:
                continue
            args = [
                "bench.rss_child",
                framework,
                "--steps",
                str(steps),
                "--batch-size",
                str(batch_size),
            ]
            try:
                done = _run_child(args, None, timeout)
            except subprocess.TimeoutExpired:
                failures[framework] = {
                    "status": "error",
                    "reason": f"child timed out after {timeout} s",
                }
                continue
            report = _last_json_line(done.stdout)
            if report is None:
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                failures[framework] = {"status": "error", "reason": f"child failed: {tail}"}
            elif report["status"] != "ok":
                failures[framework] = {"status": report["status"], "reason": report["reason"]}
            else:
                samples[framework].append(report)

    contenders: dict[str, dict[str, Any]] = {}
    for framework, reports in samples.items():
        if framework in failures:
            contenders[framework] = failures[framework]
            continue
        contenders[framework] = {"status": "ok", "samples_kib": reports}
        for key, out in (
            ("peak_kib", "raw_mib"),
            ("after_imports_kib", "baseline_mib"),
            ("net_kib", "net_mib"),
        ):
            values = sorted(r[key] for r in reports)
            contenders[framework][out] = values[len(values) // 2] / KIB_PER_MIB
        contenders[framework]["median"] = contenders[framework]["net_mib"]
    raw = ratio_of(contenders, 1.0, False, key="raw_mib")
    return {
        "description": (
            f"CNN training peak RSS (VmHWM), {steps} steps of batch {batch_size}, one child "
            "per framework; net = peak minus the RSS after importing the framework and making "
            "the data"
        ),
        "unit": "MiB",
        "higher_is_better": False,
        "target": 1.0,
        "repeats": repeats,
        "contenders": contenders,
        **ratio_of(contenders, 1.0, False, key="net_mib"),
        "ratio_raw": raw["ratio"],
        "meets_target_raw": raw["meets_target"],
    }


def run_without_blas_env(bench_args: list[str], timeout: float) -> dict[str, Any]:
    """Run the benchmark in a child with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.

    ``bench_args`` are passed to ``python -m bench.run`` (the child is told not to recurse; the
    caller leaves out the RSS and scikit-learn parts). Returns the child's JSON, or
    ``{"status": "error", "reason": ...}``.
    """
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV_VARS}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "variant.json"
        args = ["bench.run", *bench_args, "--json", str(out), "--no-env-variant", "--no-table"]
        try:
            done = _run_child(args, env, timeout)
        except subprocess.TimeoutExpired:
            return {"status": "error", "reason": f"child timed out after {timeout} s"}
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return {"status": "error", "reason": f"child exited {done.returncode}: {tail}"}
        result = json.loads(out.read_text(encoding="utf-8"))
    return {"status": "ok", "unset": list(BLAS_ENV_VARS), **result}
