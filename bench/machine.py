"""Machine description recorded with every benchmark run: CPU, cores, library versions, BLAS."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def cpu_model() -> str:
    """Return the CPU model name from ``/proc/cpuinfo`` (or ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_version(name: str) -> str | None:
    """Return the installed version of distribution ``name``, or None when it is absent."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def blas_info() -> list[dict[str, Any]] | None:
    """Return threadpoolctl's view of the loaded BLAS/OpenMP libraries (None without threadpoolctl).

    NumPy is imported first so that its BLAS is loaded; torch's libraries show up only when torch
    has been imported by the caller.
    """
    try:
        import numpy  # noqa: F401
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    keys = (
        "user_api",
        "internal_api",
        "prefix",
        "version",
        "architecture",
        "num_threads",
        "filepath",
    )
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info()]


def blas_kernel(info: list[dict[str, Any]] | None) -> str:
    """Summarise the BLAS kernels, e.g. ``"openblas 0.3.31 SkylakeX (numpy.libs)"``."""
    if not info:
        return "n/a"
    parts = [
        f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture') or ''} "
        f"({Path(lib.get('filepath') or '?').parent.name})"
        for lib in info
        if lib.get("user_api") == "blas"
    ]
    return "; ".join(parts) if parts else "n/a"


def machine_info() -> dict[str, Any]:
    """Collect CPU model, cores, load, library versions, the BLAS and its environment variables."""
    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cores = os.cpu_count()
    blas = blas_info()
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {
            name: package_version(name)
            for name in ("numnet", "numpy", "torch", "scikit-learn", "threadpoolctl")
        },
        "blas": blas,
        "blas_kernel": blas_kernel(blas),
        "blas_env": {name: os.environ.get(name) for name in BLAS_ENV_VARS},
    }
