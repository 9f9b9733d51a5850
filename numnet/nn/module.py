"""The ``Module`` base class of numnet's stateful layers.

A module owns its arrays under *local* names (``"W"``, ``"b"``, ``"gamma"``, ...):

* ``params``: trainable arrays; the layer reads them from this dict on every forward, so replacing
  an entry (``layer.params["W"] = new``) changes the layer.
* ``grads``: same keys as ``params``, filled by :meth:`Module.backward`.
* ``buffers``: non-trainable state such as batch-norm running statistics.

The math lives in :mod:`numnet.functional`: a module keeps the parameters and the cache between
``forward`` and ``backward`` and calls the reference function, or the fast kernel its
:class:`~numnet.kernels.plan.LayerPlan` names (set by :meth:`Module.set_kernels`, or for a whole
model by the one planning step, :func:`numnet.kernels.plan.plan_layers`). A layer on the
reference plan (the default) returns fresh arrays and leaves its arguments alone; on a kernel
plan its results live in reused buffers until its next call, its backward may overwrite ``dout``,
and an owner can hand it the arrays to write its parameter gradients into (``grad_out``).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from numnet.kernels.plan import REFERENCE, LayerPlan, plan_layer
from numnet.kernels.workspace import Workspace


class Module:
    """Base class: ``forward(x, train=False) -> out`` and ``backward(dout) -> dx``.

    Attributes
    ----------
    params : MutableMapping[str, ndarray]
        Trainable arrays by local name.
    grads : dict[str, ndarray]
        Gradients of the loss with respect to ``params``, set by the last :meth:`backward`.
    buffers : MutableMapping[str, ndarray]
        Non-trainable state (e.g. ``running_mean``).
    plan : LayerPlan
        The kernel and layouts this layer runs with (the reference by default).
    grad_out : dict[str, ndarray] or None
        Arrays the next :meth:`backward` writes its parameter gradients into (then stores in
        ``grads``); cleared by that backward. Only layers with a workspace use it.
    """

    def __init__(self) -> None:
        self.params: MutableMapping[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: MutableMapping[str, np.ndarray] = {}
        self._cache: Any = None
        self.plan: LayerPlan = REFERENCE
        self.grad_out: dict[str, np.ndarray] | None = None

    def set_kernels(self, mode: str = "fast") -> None:
        """Run this layer on its own with its fast kernel (``'fast'``) or the reference.

        With a kernel the output of ``forward`` and the result of ``backward`` stay valid only
        until the next call, and ``backward`` may overwrite its ``dout``. Inside a model the
        planning step sets every layer's plan at once (see :class:`~numnet.nn.Sequential`).
        """
        self.plan = plan_layer(self, mode)
        self.grad_out = None

    def use_workspace(self, enabled: bool = True) -> None:
        """Older name: ``set_kernels('fast' if enabled else 'reference')``."""
        self.set_kernels("fast" if enabled else "reference")

    @property
    def workspace(self) -> Workspace | None:
        """The plan's reused buffers (None on the reference plan)."""
        return self.plan.workspace

    def _remember(self, cache: Any, train: bool) -> None:
        """Keep ``cache`` (with the plan that made it) for the backward of a training forward."""
        self._cache = (self.plan, cache) if train else None

    def _recall(self) -> tuple[LayerPlan, Any]:
        """``(plan, cache)`` of the last training forward, or raise if there is none."""
        return self._take_cache()

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Compute the layer output; ``train`` selects training behaviour (dropout, batch stats)."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Store parameter gradients in ``self.grads`` and return dL/dx.

        Parameters
        ----------
        dout : ndarray
            Upstream gradient, shaped like the output of the last ``forward``.
        input_grad : bool
            When False the layer may skip computing dL/dx (nobody needs it for the first layer of a
            network) and return None.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def __call__(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        return self.forward(x, train=train)

    def _take_cache(self) -> Any:
        """Return the cache of the last training-mode forward, or raise if there is none."""
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward called without a cache: "
                "call forward(x, train=True) first"
            )
        return self._cache

    def extra_repr(self) -> str:
        """Settings shown by ``repr``."""
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class KeySubsetView(MutableMapping[str, Any]):
    """A mutable view of some keys of a dict (e.g. the running statistics inside a ``bn_param``).

    Reading and assigning go straight to the backing dict, so the layer function that keeps its
    state in that dict (CS231n style) and the user looking at ``buffers`` always see the same
    arrays.
    """

    def __init__(self, backing: dict[str, Any], keys: tuple[str, ...]) -> None:
        self._backing = backing
        self._keys = keys

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return self._backing[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self._keys:
            raise KeyError(f"{key!r} is not one of {list(self._keys)}")
        self._backing[key] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError(f"cannot delete {key!r}: layer state entries can be replaced, not removed")

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"
