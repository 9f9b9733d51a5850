"""One flat array behind many named parameter (or gradient) arrays.

A model keeps all its parameters as views into one 1-D array, and a training step writes all
gradients into views of another, so an optimizer can update everything with one NumPy call per
stage instead of one per array (the fused update, :mod:`numnet.kernels.flat_update`). The
per-name arrays stay ordinary ndarrays; a mapping exposes the flat array through
``flat_buffer()`` only while every entry is still the original view (assigning a new array to a
name quietly ends the fast path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


class FlatLayout:
    """Where each named array lives inside one flat array.

    Parameters
    ----------
    names : sequence of str
        In storage order.
    shapes : sequence of tuple of int
        The shape of each array.
    dtype : dtype
        Common dtype.
    """

    def __init__(self, names: Sequence[str], shapes: Sequence[tuple[int, ...]], dtype: Any) -> None:
        self.names = tuple(names)
        self.shapes = tuple(tuple(int(d) for d in shape) for shape in shapes)
        self.dtype = np.dtype(dtype)
        sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.shapes]
        self.offsets = tuple(int(o) for o in np.cumsum([0, *sizes]))
        self.size = self.offsets[-1]

    @classmethod
    def of(cls, arrays: Mapping[str, Any]) -> FlatLayout | None:
        """The layout of ``arrays`` in their order; None if their dtypes differ or it is empty."""
        dtypes = {np.dtype(a.dtype) for a in arrays.values()}
        if len(dtypes) != 1:
            return None
        return cls(list(arrays), [tuple(a.shape) for a in arrays.values()], dtypes.pop())

    def views(self, flat: Any) -> dict[str, Any]:
        """Name -> view of ``flat`` (1-D, ``size`` elements) with that name's shape."""
        return {
            name: flat[start:stop].reshape(shape)
            for name, shape, start, stop in zip(
                self.names, self.shapes, self.offsets[:-1], self.offsets[1:], strict=True
            )
        }

    def __repr__(self) -> str:
        return f"FlatLayout({dict(zip(self.names, self.shapes, strict=True))}, {self.dtype})"


class FlatArrays(dict):
    """A plain ``dict`` name -> view of one flat array, e.g. the gradients a model returns.

    Parameters
    ----------
    layout : FlatLayout
    flat : ndarray, shape (layout.size,)
        The array the entries are views of.

    Notes
    -----
    It behaves as any dict. :meth:`flat_buffer` returns ``flat`` only while the entries are exactly
    the original views in the original order, so an edited dict is never taken for a flat one.
    """

    def __init__(self, layout: FlatLayout, flat: Any) -> None:
        views = layout.views(flat)
        super().__init__(views)
        self.layout = layout
        self._flat = flat
        self._views = tuple(views.values())

    def flat_buffer(self) -> Any:
        """The flat array behind every entry, or None once an entry was replaced or removed."""
        if len(self) != len(self._views):
            return None
        for current, original in zip(self.values(), self._views, strict=True):
            if current is not original:
                return None
        return self._flat
