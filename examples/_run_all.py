"""Run every example in full mode and save its figures into one folder.

    python examples/_run_all.py docs/images/examples

regenerates the pictures of the README's Examples section (that folder is the default). Each
example runs in its own process, as ``python examples/NAME.py FOLDER``; the first failure stops
the run with the example's exit status.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else EXAMPLES.parent / "docs" / "images" / "examples"
    for script in sorted(EXAMPLES.glob("[!_]*.py")):
        print(f"== {script.name}", flush=True)
        status = subprocess.call([sys.executable, str(script), str(folder)])
        if status != 0:
            print(f"{script.name} failed with exit status {status}", file=sys.stderr)
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
