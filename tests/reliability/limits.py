"""Run a snippet in a child Python whose address space may grow by only a small budget.

A forged file that makes numnet allocate before checking shows up as a MemoryError in the child
(instead of eating the test machine's memory); a refused file shows up as the expected numnet
error. The budget is added to what the child uses after importing numnet, so it measures what the
snippet itself allocates.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

BUDGET_BYTES = 256 * 1024**2
REPO = Path(__file__).resolve().parents[2]

_PRELUDE = """
import resource, sys
import numpy as np
import numnet, numnet.cli, numnet.data, numnet.serialization
from numnet.errors import NumnetError

def _vm_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")

_limit = _vm_bytes() + {budget}
resource.setrlimit(resource.RLIMIT_AS, (_limit, _limit))
try:
{body}
except NumnetError as exc:
    print("REFUSED", type(exc).__name__, str(exc))
except MemoryError:
    print("MEMORYERROR")
else:
    print("ACCEPTED")
"""


def run_limited(body: str, timeout: float = 120.0, budget: int = BUDGET_BYTES) -> str:
    """Run ``body`` (Python statements) in a memory-limited child; return its last output line:
    ``REFUSED <ErrorClass> <message>``, ``MEMORYERROR`` or ``ACCEPTED`` (or a crash's stderr)."""
    code = _PRELUDE.format(budget=budget, body=textwrap.indent(textwrap.dedent(body), "    "))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        return f"CRASHED rc={result.returncode}: {result.stderr.strip()[-500:]}"
    return lines[-1]


def limits_supported() -> bool:
    return sys.platform.startswith("linux") and Path("/proc/self/status").exists()
