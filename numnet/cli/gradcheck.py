"""``numnet gradcheck``: numerical gradient check of every layer, printed as a table."""

from __future__ import annotations

import argparse
import math

from numnet.errors import ConfigError


def format_table(rows: list[tuple[str, float, float, bool]]) -> str:
    """Return the rows ``(layer, max_rel_error, tol, passed)`` as an aligned text table."""
    header = ("layer", "max rel error", "tolerance", "ok")
    cells = [
        (name, f"{err:.2e}", f"{tol:.0e}", "ok" if ok else "FAIL") for name, err, tol, ok in rows
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *cells]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run_gradcheck(args: argparse.Namespace) -> int:
    """Check every layer; print the table and a summary. Returns 0 if all pass, else 1."""
    from numnet.gradcheck import gradcheck_all_layers

    if args.tol is not None and not (math.isfinite(args.tol) and args.tol > 0):
        raise ConfigError(f"--tol must be a positive number, got {args.tol!r}")
    rows = []
    for name, err, tol, passed in gradcheck_all_layers():
        if args.tol is not None:
            tol, passed = args.tol, bool(err < args.tol)
        rows.append((name, float(err), float(tol), bool(passed)))
    print(format_table(rows))
    failed = [name for name, _, _, passed in rows if not passed]
    if failed:
        print(f"{len(failed)} of {len(rows)} layers FAILED: {', '.join(failed)}")
        return 1
    print(f"all {len(rows)} layers passed")
    return 0
