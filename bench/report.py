"""Printed table and JSON file of a benchmark run; ``python -m bench.report [JSON]`` prints the
Markdown table of a run's JSON (the README's performance table is pasted from it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

CONTENDERS = ("numnet", "torch", "torch_channels_last", "sklearn")
HEADERS = {"torch_channels_last": "torch (channels_last)"}


def _cell(result: dict[str, Any] | None) -> str:
    """A contender's median formatted for the table, or its status ("n/a", "error", "-")."""
    if result is None:
        return "-"
    if result.get("status") != "ok":
        return str(result.get("status"))
    value = result["median"]
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"


def _ratio(workload: dict[str, Any], key: str = "ratio") -> str:
    """A ratio with two decimals, or "n/a"."""
    ratio = workload.get(key)
    return "n/a" if ratio is None else f"{ratio:.2f}"


def _verdict(
    workload: dict[str, Any], ratio_key: str = "ratio", meets_key: str = "meets_target"
) -> str:
    """``"0.85 (target <= 1.0) ok"``-style text for a ratio and its target."""
    ratio = workload.get(ratio_key)
    if ratio is None:
        return "n/a"
    sign = ">=" if workload["higher_is_better"] else "<="
    mark = "ok" if workload.get(meets_key) else "MISSED"
    return f"{ratio:.2f} (target {sign} {workload['target']:g}) {mark}"


def _fastest(workload: dict[str, Any]) -> str:
    """numnet against the faster PyTorch variant, with the target; the plain ratio where absent.

    Runs written before the ``channels_last`` variant existed have no ``ratio_fastest_torch``: their
    only PyTorch was the plain one, so the plain ratio is the fastest-torch ratio.
    """
    if "ratio_fastest_torch" not in workload:
        return _verdict(workload)
    text = _verdict(workload, "ratio_fastest_torch", "meets_target_fastest_torch")
    fastest = workload.get("fastest_torch")
    if fastest and fastest != "torch":
        text += f" vs {HEADERS.get(fastest, fastest)}"
    return text


def workload_table(workloads: dict[str, dict[str, Any]]) -> list[str]:
    """Aligned rows: workload, unit, every contender, numnet/torch and numnet/fastest torch.

    The last column holds the target verdict: PyTorch is timed in its plain and its
    ``channels_last`` layout, and numnet is judged against whichever was faster.
    """
    contenders = [
        c for c in CONTENDERS if any(c in w.get("contenders", {}) for w in workloads.values())
    ] or ["numnet", "torch"]
    header = (
        "workload",
        "unit",
        *(HEADERS.get(c, c) for c in contenders),
        "numnet/torch",
        "numnet/fastest torch",
    )
    rows = [header]
    for name, workload in workloads.items():
        if "contenders" not in workload:
            continue
        results = workload["contenders"]
        rows.append(
            (
                name,
                workload["unit"],
                *(_cell(results.get(c)) for c in contenders),
                _ratio(workload),
                _fastest(workload),
            )
        )
        if "ratio_raw" in workload:
            raw = {c: results.get(c, {}) for c in contenders}
            rows.append(
                (
                    f"{name} (raw)",
                    "MiB",
                    *(
                        f"{raw[c]['raw_mib']:.3g}" if "raw_mib" in raw[c] else "-"
                        for c in contenders
                    ),
                    _ratio(workload, "ratio_raw"),
                    _verdict(workload, "ratio_raw", "meets_target_raw"),
                )
            )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def format_report(result: dict[str, Any]) -> str:
    """The whole human-readable report: machine, data, GEMM rates and floors, workloads, variant."""
    machine = result["machine"]
    lines = [
        f"machine: {machine['cpu_model']}, {machine['usable_cores']} usable cores; "
        f"numpy {machine['versions']['numpy']}, torch {machine['versions']['torch'] or 'n/a'}",
        f"BLAS: {machine['blas_kernel']}; env {machine['blas_env']}",
        f"data: {result['data']['source']}, {result['data']['n_train']} images"
        + (" (quick mode)" if result["config"]["quick"] else ""),
    ]
    gemm = result["gemm"]
    lines.append(
        "float32 GEMM: square {} {:.0f} GFLOP/s, skinny {} {:.0f} GFLOP/s".format(
            "x".join(map(str, gemm["square"]["shape"])),
            gemm["square"]["gflops"],
            "x".join(map(str, gemm["skinny"]["shape"])),
            gemm["skinny"]["gflops"],
        )
    )
    floor = result.get("mlp_floor")
    if floor:
        lines.append(
            f"MLP epoch GEMM floor: {floor['flops']['total'] / 1e9:.1f} GFLOP -> "
            f"{floor['seconds_at_square_rate']:.3f} s at the square rate, "
            f"{floor['seconds_at_skinny_rate']:.3f} s at the skinny rate"
        )
    lines += ["", *workload_table(result["workloads"])]
    cold = result.get("cold_start")
    if cold:
        lines += ["", f"cnn_cold_start: {cold['description']}", cold_start_table(cold)]
    for name, workload in result["workloads"].items():
        over = {
            c: r["over_floor"]
            for c, r in workload.get("contenders", {}).items()
            if "over_floor" in r
        }
        if over:
            text = ", ".join(f"{c} {x:.1f}x" for c, x in over.items())
            lines.append(f"{name}: time / GEMM floor (square rate): {text}")
    variant = result.get("env_variant")
    if variant:
        lines.append("")
        if variant.get("status") == "ok":
            lines.append(
                f"without {', '.join(variant['unset'])} (child process): "
                f"BLAS {variant['machine']['blas_kernel']}; square GEMM "
                f"{variant['gemm']['square']['gflops']:.0f} GFLOP/s, skinny "
                f"{variant['gemm']['skinny']['gflops']:.0f} GFLOP/s"
            )
            lines += workload_table(variant["workloads"])
        else:
            lines.append(f"without OpenBLAS env variables: {variant.get('reason')}")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write ``result`` as indented JSON, atomically (temp file then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(result, stream, indent=2, allow_nan=False)
            stream.write("\n")
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def with_int_batches(cold: dict[str, Any]) -> dict[str, Any]:
    """A cold-start result with int batch-size keys (JSON turned them into strings)."""
    fixed = dict(cold)
    for key in ("results", "ratios"):
        fixed[key] = {
            framework: {
                mode: {int(batch): entry for batch, entry in per_batch.items()}
                for mode, per_batch in per_mode.items()
            }
            for framework, per_mode in cold.get(key, {}).items()
        }
    return fixed


def cold_start_table(cold: dict[str, Any]) -> str:
    """The ``cold_start`` entry as :mod:`bench.cold_start` prints it."""
    from bench import cold_start

    return cold_start.format_table(with_int_batches(cold))


ROW_NAMES = {
    "mlp32": "MLP 784-500-200-10, SGD, batch 32, one epoch (s)",
    "mlp256": "same MLP, batch 256 (s)",
    "cnn_train": "CNN conv32-pool-conv64-pool-fc128-fc10, SGD momentum, batch 64, one step (ms)",
    "cnn_infer": "same CNN, inference on a new model (images/s)",
    "cnn_infer_trained": "same, on the model after `Solver.train()` (images/s)",
    "cnn_infer_loaded": "same, after `numnet.save` / `numnet.load` (images/s)",
    "cnn_rss": "same CNN training, peak RSS above the import baseline (MiB)",
}


def _markdown_cell(result: dict[str, Any] | None) -> str:
    """A contender's median for the Markdown table ("–" where it did not run)."""
    text = _cell(result)
    return "–" if text in ("-", "n/a") else text


def markdown_table(result: dict[str, Any]) -> str:
    """The workloads of a run's JSON as a Markdown table, the target read against faster PyTorch."""
    lines = [
        "| workload | numnet | PyTorch | PyTorch channels_last | scikit-learn "
        "| numnet ÷ PyTorch | numnet ÷ faster PyTorch | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, workload in result["workloads"].items():
        if "contenders" not in workload:
            continue
        results = workload["contenders"]
        best = workload.get("ratio_fastest_torch", workload.get("ratio"))
        meets = workload.get("meets_target_fastest_torch", workload.get("meets_target"))
        sign = "≥" if workload["higher_is_better"] else "≤"
        target = f"{sign} {workload['target']:g}" + ("" if meets or meets is None else " — missed")
        cells = [
            ROW_NAMES.get(name, name),
            *(_markdown_cell(results.get(c)) for c in CONTENDERS),
            _ratio(workload),
            "n/a" if best is None else f"{best:.2f}",
            target,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    cold = result.get("cold_start")
    if cold:
        ratios = with_int_batches(cold)["ratios"]
        for batch in cold["batch_sizes"]:
            if "infer" not in ratios.get("numnet", {}):
                break
            found = {c: ratios.get(c, {}).get("infer", {}).get(batch) for c in CONTENDERS}
            numnet = found["numnet"]
            meets = numnet is not None and numnet <= cold["target"]
            cells = [
                f"new CNN's first inference call ÷ its steady call, batch {batch}",
                *("–" if found[c] is None else f"{found[c]:.2f}" for c in CONTENDERS),
                "–",
                "–",
                f"≤ {cold['target']:g}" + ("" if meets else " — missed"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the report (or, with ``--markdown``, the Markdown table) of a benchmark JSON file."""
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument(
        "json",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "latest.json",
    )
    parser.add_argument("--markdown", action="store_true", help="only the Markdown table")
    args = parser.parse_args(argv)
    result = json.loads(args.json.read_text(encoding="utf-8"))
    print(markdown_table(result) if args.markdown else format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
