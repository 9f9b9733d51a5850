"""Array-module dispatch: layers take their array library (NumPy, later CuPy) from their inputs."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


def get_array_module(*arrays: Any) -> ModuleType:
    """Return the array module (``numpy`` or ``cupy``) that owns the given arrays.

    CuPy is never imported here: an array whose type lives in the ``cupy`` package is only possible
    if the caller already imported CuPy, so looking at ``type(a).__module__`` is enough.
    """
    for a in arrays:
        kind = type(a)
        if kind is np.ndarray:  # the common case, decided without string work
            continue
        if kind.__module__.split(".")[0] == "cupy":
            import cupy  # noqa: PLC0415  (lazy: optional dependency)

            return cupy
    return np
