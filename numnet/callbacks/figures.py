"""matplotlib for numnet's pictures: imported lazily with the Agg backend, saved atomically.

matplotlib is optional (``pip install -e '.[plot]'``). :func:`pyplot` imports it only when a
picture is drawn and raises :class:`~numnet.errors.NumnetError` with the install hint when it is
missing; :func:`save_figure` writes a figure through :func:`numnet.files.write_atomic`, so an
interrupted or failed save leaves any earlier picture as it was and the new file gets the mode of
an ordinary write (0644 under the usual umask).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from numnet.errors import NumnetError
from numnet.files import write_atomic

INSTALL_HINT = (
    "matplotlib is not installed; run `pip install -e '.[plot]'` in the checkout to draw plots"
)


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the Agg backend, or NumnetError with the install hint."""
    try:
        import matplotlib
    except ImportError as exc:
        raise NumnetError(INSTALL_HINT) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike[str]) -> None:
    """Write ``fig`` to ``path`` (format from the suffix, PNG by default) atomically, cropped to
    everything drawn (a legend placed outside the axes, as Optuna's plots do, is kept whole)."""
    target = Path(path)
    fmt = target.suffix.lstrip(".") or "png"
    options = {"format": fmt, "dpi": 100, "bbox_inches": "tight"}
    write_atomic(target, lambda handle: fig.savefig(handle, **options))
