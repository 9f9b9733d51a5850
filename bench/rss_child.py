"""Child process for the peak-memory workload: train the CNN a few steps and report its peak RSS.

Usage: ``python -m bench.rss_child {numnet,torch} --steps 5 --batch-size 64``. Prints one JSON line
with, in KiB:

* ``after_imports_kib``: current RSS (VmRSS) once the framework is imported and the (random, seeded)
  data made -- the baseline;
* ``peak_after_imports_kib``: peak RSS (VmHWM) at that point (imports can peak above where they
  settle);
* ``peak_kib``: peak RSS (VmHWM) after training; ``net_kib = peak_kib - after_imports_kib``;
* ``ru_maxrss_kib``: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after training, for reference.

VmHWM rather than ru_maxrss is the measure because Linux carries the *parent's* peak into a child's
ru_maxrss across fork/vfork + exec, so a child started by a big benchmark process reports at least
the parent's peak; VmHWM belongs to the child's own address space.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys

import numpy as np


def proc_status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` memory field (``"VmRSS"``, ``"VmHWM"``) in KiB, or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def ru_maxrss_kib() -> int:
    """``ru_maxrss`` of this process in KiB (includes the parent's peak: see the module doc)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def current_rss_kib() -> int:
    """Current resident set size in KiB (ru_maxrss where /proc is unavailable)."""
    value = proc_status_kib("VmRSS")
    return ru_maxrss_kib() if value is None else value


def peak_rss_kib() -> int:
    """Peak resident set size of this process's own address space in KiB (VmHWM)."""
    value = proc_status_kib("VmHWM")
    return ru_maxrss_kib() if value is None else value


def main(argv: list[str] | None = None) -> int:
    """Import one framework, train the CNN ``--steps`` steps, print the memory JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=("numnet", "torch"))
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    from bench import workloads_numnet, workloads_torch
    from bench.harness import Unavailable

    report: dict[str, object] = {"framework": args.framework, "steps": args.steps}
    rng = np.random.default_rng(0)
    n = args.steps * args.batch_size
    X = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=n, dtype=np.int64)
    batches = [np.arange(i, i + args.batch_size) for i in range(0, n, args.batch_size)]
    module = workloads_torch if args.framework == "torch" else workloads_numnet
    try:
        if args.framework == "torch":
            workloads_torch._torch()
        else:
            workloads_numnet._numnet()
        report["after_imports_kib"] = current_rss_kib()
        report["peak_after_imports_kib"] = peak_rss_kib()
        module.cnn_steps(X, y, batches, lr=0.01, momentum=0.9)()
    except Unavailable as exc:
        report.update(status="n/a", reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - reported to the parent as this contender's error
        report.update(status="error", reason=f"{type(exc).__name__}: {exc}".replace("\n", " "))
    else:
        report.update(status="ok", peak_kib=peak_rss_kib(), ru_maxrss_kib=ru_maxrss_kib())
        report["net_kib"] = report["peak_kib"] - report["after_imports_kib"]
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
