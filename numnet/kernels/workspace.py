"""``Workspace``: scratch arrays a layer keeps from one call to the next instead of reallocating.

Fresh large arrays cost more than the arithmetic done in them (page faults on every first touch),
so the layers of a model reuse their outputs, input gradients and big temporaries (im2col matrices,
padded inputs) between steps. A buffer is kept per name and reallocated only when the requested
shape or dtype changes (e.g. the short last batch of an epoch), so at most one array per name lives.
NumPy buffers of 1 MiB and more are placed in 2 MiB memory pages (:mod:`numnet.kernels.huge_pages`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.kernels import huge_pages


def _new_array(shape: tuple[int, ...], dtype: Any, xp: Any, zeroed: bool = False) -> Any:
    """A new array (uninitialised, or zeros); NumPy ones of at least 1 MiB in huge pages."""
    if xp is np:
        return (huge_pages.zeros if zeroed else huge_pages.empty)(shape, dtype)
    return (xp.zeros if zeroed else xp.empty)(shape, dtype=dtype)


class Workspace:
    """Named scratch arrays, reused while their shape and dtype stay the same.

    Notes
    -----
    A buffer handed out by :meth:`get` is overwritten by the next call with the same name: callers
    must be done with it by then (a model's ``loss`` call is; the arrays it returns are fresh).
    """

    def __init__(self) -> None:
        self._arrays: dict[str, Any] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any, xp: Any = np) -> Any:
        """Return the buffer ``name`` of the given shape and dtype (uninitialised when new)."""
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = None
            self._arrays.pop(name, None)  # free the old one before allocating its replacement
            array = _new_array(shape, dtype, xp)
            self._arrays[name] = array
        return array

    def zeros(
        self, name: str, shape: tuple[int, ...], dtype: Any, xp: Any = np
    ) -> tuple[Any, bool]:
        """Like :meth:`get`, but a new buffer starts at zero; also return whether it is new.

        Callers that overwrite the same region on every call (the inside of a zero-padded copy) only
        need the zeros around it written once.
        """
        array = self._arrays.get(name)
        if array is not None and array.shape == shape and array.dtype == dtype:
            return array, False
        self._arrays.pop(name, None)
        array = _new_array(shape, dtype, xp, zeroed=True)
        self._arrays[name] = array
        return array, True

    def clear(self) -> None:
        """Drop every buffer (they are reallocated on demand)."""
        self._arrays.clear()

    def nbytes(self) -> int:
        """Total size of the buffers held, in bytes."""
        return sum(int(a.nbytes) for a in self._arrays.values())

    def __repr__(self) -> str:
        shapes = {name: tuple(a.shape) for name, a in self._arrays.items()}
        return f"Workspace({shapes})"
