"""``ParameterView``: CS231n global names (``"W1"``, ``"gamma2"``, ...) over the layers' own dicts.

``view["W1"]`` reads ``layer.params["W"]`` of the layer numbered 1; ``view["W1"] = new`` stores
``new`` in that layer's dict, so the layer uses it from the next forward on (the CS231n Solver
updates a model exactly this way). In-place edits of ``view["W1"]`` edit the layer's array itself.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

import numpy as np

from numnet.kernels import huge_pages
from numnet.kernels.flat import FlatLayout
from numnet.nn.module import Module


class ParameterView(MutableMapping[str, Any]):
    """Mutable mapping from global names to one kind of per-layer state.

    Parameters
    ----------
    entries : sequence of (global_name, layer, local_name)
        In the order the view iterates.
    attribute : {'params', 'grads', 'buffers'}
        Which mapping of each layer the names refer to.

    Notes
    -----
    Keys are fixed: assigning an unknown name raises ``KeyError`` and deleting raises ``TypeError``.
    Assigning an array whose shape differs from the current one raises ``ValueError``. A ``grads``
    view lists only the gradients that a backward pass has produced so far.
    """

    def __init__(self, entries: Sequence[tuple[str, Module, str]], attribute: str) -> None:
        self._attribute = attribute
        self._entries = {name: (layer, local) for name, layer, local in entries}
        self.flat_layout: FlatLayout | None = None
        self._flat: Any = None
        self._flat_views: tuple[tuple[Module, str, Any], ...] = ()

    def make_flat(self) -> FlatLayout | None:
        """Move every array into one new flat array and store views of it in the layers.

        Values are copied unchanged. Afterwards :meth:`flat_buffer` returns the flat array (until
        an entry is replaced by assignment). Returns the layout, or None (nothing done) when the
        arrays are not all ndarrays of one dtype.
        """
        current = {name: self[name] for name in self}
        if not current or not all(isinstance(a, np.ndarray) for a in current.values()):
            return None
        layout = FlatLayout.of(current)
        if layout is None:
            return None
        flat = huge_pages.empty((layout.size,), layout.dtype)
        views = layout.views(flat)
        for name, view in views.items():
            view[...] = current[name]
            mapping, local = self._mapping(name)
            mapping[local] = view
        self.flat_layout = layout
        self._flat = flat
        self._flat_views = tuple((*self._entries[name], view) for name, view in views.items())
        return layout

    def flat_buffer(self) -> Any:
        """The flat array behind all entries (see :meth:`make_flat`), or None if there is none.

        None as soon as any entry has been replaced by a different array.
        """
        if self._flat is None:
            return None
        attribute = self._attribute
        for layer, local, view in self._flat_views:
            if getattr(layer, attribute).get(local) is not view:
                return None
        return self._flat

    def _mapping(self, name: str) -> tuple[MutableMapping[str, Any], str]:
        layer, local = self._entries[name]
        return getattr(layer, self._attribute), local

    def __getitem__(self, name: str) -> Any:
        if name not in self._entries:
            raise KeyError(name)
        mapping, local = self._mapping(name)
        return mapping[local]

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in self._entries:
            raise KeyError(f"{name!r} is not a {self._attribute} name of this model: {list(self)}")
        mapping, local = self._mapping(name)
        old = mapping.get(local)
        old_shape = getattr(old, "shape", None)
        new_shape = getattr(value, "shape", None)
        if old_shape is not None and new_shape != old_shape:
            raise ValueError(
                f"{self._attribute}[{name!r}] must keep its shape {tuple(old_shape)}, "
                f"got {type(value).__name__} of shape {new_shape}"
            )
        mapping[local] = value

    def __delitem__(self, name: str) -> None:
        raise TypeError(
            f"cannot delete {name!r}: model {self._attribute} can be replaced, not removed"
        )

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            return False
        mapping, local = self._mapping(name)  # type: ignore[arg-type]
        return local in mapping

    def __iter__(self) -> Iterator[str]:
        for name, (layer, local) in self._entries.items():
            if local in getattr(layer, self._attribute):
                yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        shapes = {name: tuple(getattr(self[name], "shape", ())) for name in self}
        return f"ParameterView({self._attribute}: {shapes})"
