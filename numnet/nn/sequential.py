"""``Sequential``: a chain of modules with CS231n-style global names for their arrays."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from numnet.kernels.plan import check_mode, forced_mode, plan_layers
from numnet.nn.module import Module
from numnet.nn.parameter_view import ParameterView


def _block_numbers(layers: Sequence[Module]) -> list[str]:
    """Number layers CS231n style: each weight layer starts a new number, others share it."""
    names, count = [], 0
    for layer in layers:
        if getattr(layer, "starts_block", False):
            count += 1
        names.append(str(count))
    return names


class Sequential(Module):
    """Apply ``layers`` in order; backward runs them in reverse.

    Parameters
    ----------
    layers : iterable of Module
        The layers.
    names : sequence of str, optional
        Suffix for each layer's global names. By default weight layers (``Linear``, ``Conv2d``) are
        numbered 1, 2, ... and every other layer takes the number of the weight layer before it, so
        the first affine layer has ``W1, b1``, the batch norm after it ``gamma1, beta1`` and buffers
        ``running_mean1, running_var1``.

    Attributes
    ----------
    layers : list of Module
    names : list of str
    params, grads, buffers : ParameterView
        Global name -> the layer's own array (see :class:`~numnet.nn.parameter_view.ParameterView`).
    weight_names : list of str
        Global names of the arrays L2 regularisation applies to (the weights, not biases or gammas).
    kernels : {'reference', 'fast'}
        The plan asked for with :meth:`set_kernels` (``'reference'`` by default).
    active_kernels : {'reference', 'fast'}
        The plan the layers run now: ``kernels``, or the mode of an enclosing
        :func:`numnet.kernels.plan.use_kernels` block.
    """

    def __init__(self, layers: Iterable[Module], names: Sequence[str] | None = None) -> None:
        super().__init__()
        self.layers: list[Module] = list(layers)
        for layer in self.layers:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes numnet.nn Modules, got {type(layer).__name__}")
        self.names: list[str] = list(names) if names is not None else _block_numbers(self.layers)
        if len(self.names) != len(self.layers):
            raise ValueError(f"got {len(self.names)} names for {len(self.layers)} layers")
        param_entries = self._entries("params")
        self.params = ParameterView(param_entries, "params")
        self.grads = ParameterView(param_entries, "grads")  # type: ignore[assignment]
        self.buffers = ParameterView(self._entries("buffers"), "buffers")
        self.weight_names: list[str] = [
            name for name, layer, local in param_entries if local in getattr(layer, "decayed", ())
        ]
        trainable = [i for i, layer in enumerate(self.layers) if len(layer.params)]
        self._first_trainable = trainable[0] if trainable else len(self.layers)
        groups: dict[int, tuple[Module, list[tuple[str, str]]]] = {}
        for name, layer, local in param_entries:
            groups.setdefault(id(layer), (layer, []))[1].append((local, name))
        self._grad_groups = list(groups.values())
        self.kernels = "reference"
        self.active_kernels = "reference"

    def set_kernels(self, mode: str = "fast") -> None:
        """Plan every layer at once (:func:`numnet.kernels.plan.plan_layers`) for ``mode``.

        ``'fast'``: each layer gets its fast kernel, and the planning step decides the layouts
        across layers (channel-last runs, pooling blocks, gradients written in place).
        ``'reference'``: every layer runs its :mod:`numnet.functional` pair.
        """
        self.kernels = check_mode(mode)
        self._apply_plan(mode)

    def _apply_plan(self, mode: str) -> None:
        for layer, plan in zip(self.layers, plan_layers(self.layers, mode), strict=True):
            if isinstance(layer, Sequential):
                layer.set_kernels(mode)
            else:
                layer.plan = plan
                layer.grad_out = None
        self.active_kernels = mode

    def sync_kernels(self) -> str:
        """Re-plan if a ``use_kernels`` block (or its end) changed the mode; return the mode."""
        wanted = forced_mode() or self.kernels
        if wanted != self.active_kernels:
            self._apply_plan(wanted)
        return wanted

    def backward_into(
        self, dout: np.ndarray, grads: Mapping[str, np.ndarray], input_grad: bool = False
    ) -> np.ndarray | None:
        """:meth:`backward`, with every parameter gradient written into ``grads[global_name]``.

        Layers in speed mode write straight into those arrays; any other gradient is copied in.
        Afterwards each layer's ``grads`` entry *is* the array of ``grads``.
        """
        for layer, pairs in self._grad_groups:
            layer.grad_out = {local: grads[name] for local, name in pairs}
        try:
            result = self.backward(dout, input_grad=input_grad)
        finally:
            for layer, _ in self._grad_groups:
                layer.grad_out = None
        for layer, pairs in self._grad_groups:
            layer_grads = layer.grads
            for local, name in pairs:
                target = grads[name]
                value = layer_grads[local]
                if value is not target:
                    target[...] = value
                    layer_grads[local] = target
        return result

    def _entries(self, attribute: str) -> list[tuple[str, Module, str]]:
        """(global name, layer, local name) for every array in ``layer.<attribute>``, in order."""
        entries: list[tuple[str, Module, str]] = []
        seen: set[str] = set()
        for layer, suffix in zip(self.layers, self.names, strict=True):
            for local in getattr(layer, attribute):
                name = f"{local}{suffix}"
                if name in seen:
                    raise ValueError(
                        f"two layers would both be called {name!r}; pass names= to Sequential"
                    )
                seen.add(name)
                entries.append((name, layer, local))
        return entries

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Run every layer's forward in order."""
        self.sync_kernels()
        for layer in self.layers:
            x = layer.forward(x, train=train)
        return x

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Run the layers' backward in reverse order, filling each layer's ``grads``.

        With ``input_grad=False`` the chain stops at the first layer that has parameters, which is
        asked not to compute its input gradient; the layers before it are skipped (returns None).
        """
        stop = 0 if input_grad else self._first_trainable
        for index in range(len(self.layers) - 1, stop - 1, -1):
            dout = self.layers[index].backward(dout, input_grad=input_grad or index > stop)
        return dout if input_grad else None

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __repr__(self) -> str:
        lines = [
            f"  ({name}) {layer!r}" for name, layer in zip(self.names, self.layers, strict=True)
        ]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
