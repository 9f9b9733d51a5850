"""Shared plumbing for the examples: where figures go, small-data mode, saving a figure.

Every example is a percent-format script (``# %%`` cells) that runs as ``python examples/NAME.py``
and opens as a notebook with jupytext. They read two settings so CI can run them quickly:

* ``NUMNET_EXAMPLES_SMALL=1``: small data / few epochs (what ``tests/test_examples.py`` uses);
* the figure folder: the first command-line argument, else ``$NUMNET_EXAMPLES_FIGURES``, else
  ``examples/figures/``. ``python examples/_run_all.py docs/images/examples`` regenerates the
  README's pictures.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parent
DPI = 70


def small_mode() -> bool:
    """True when ``NUMNET_EXAMPLES_SMALL`` is set to something other than ``""`` or ``"0"``."""
    return os.environ.get("NUMNET_EXAMPLES_SMALL", "") not in ("", "0")


def figure_dir() -> Path:
    """The folder figures are saved into (created if missing).

    A notebook kernel passes its own flags in ``sys.argv`` (``-f kernel.json``), so only a first
    argument that does not start with ``-`` counts as a folder.
    """
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    if args and not args[0].endswith(".json"):
        folder = Path(args[0])
    else:
        folder = Path(os.environ.get("NUMNET_EXAMPLES_FIGURES", EXAMPLES_DIR / "figures"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(fig: plt.Figure, name: str) -> Path:
    """Save ``fig`` as ``<figure_dir>/<name>.png`` (small resolution), close it, return the path."""
    path = figure_dir() / f"{name}.png"
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    print(f"saved {path}")
    return path
