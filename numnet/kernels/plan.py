"""The one planning step: which kernel and which layouts every layer of a model runs with.

The ``nn`` layers run the reference functions of :mod:`numnet.functional` unless their
:class:`LayerPlan` names a kernel. :func:`plan_layers` is the only code that knows about tricks
that span layers:

* **Kernels.** Each layer gets the first kernel registered for its class
  (:mod:`numnet.kernels.catalog`) whose condition holds for its settings, and a workspace of its
  own (buffers reused from call to call).
* **Channel-last runs.** From the first convolution up to the ``Flatten`` after it, activations
  stay channel-last (N, H, W, C): that is what the im2col and Winograd products produce and
  consume, so the transposes around every convolution disappear. The first convolution still
  takes (N, C, H, W) images and ``Flatten`` still produces rows in (C, H, W) order, so inputs,
  parameters and results are those of the NCHW network. A run is only planned when every layer in
  it can take channel-last input (convolution, batch norm, max pooling, ReLU).
* **Pooling blocks.** A convolution followed (batch norm between them is fine) by a 2x2, stride-2
  max pool hands the pool its output as the four positions of each window, (4, N, H/2, W/2, C),
  so the pool takes the maximum of four contiguous arrays. Nothing but the pool reads those
  blocks, so the pool's backward writes its input gradient over them.

``plan_layers(layers, "reference")`` gives every layer the reference plan: no kernel, no
workspace, NCHW throughout. Both plans compute the same function and gradients up to rounding
(the layer table checks each kernel against its reference; ``tests/nn`` trains both ways).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from numnet.kernels import catalog  # noqa: F401  (fills the registry)
from numnet.kernels.registry import kernels_for
from numnet.kernels.workspace import Workspace

MODES = ("fast", "reference")
NCHW, NHWC, BLOCKS = "nchw", "nhwc", "blocks"

# Layers that pass a channel-last activation on unchanged in layout (the run's members).
_CHANNEL_LAST_LAYERS = ("Conv2d", "BatchNorm2d", "MaxPool2d", "ReLU")


@dataclass(frozen=True)
class LayerPlan:
    """What one layer runs with.

    Attributes
    ----------
    kernel : str or None
        Registry name of the fast kernel (:data:`numnet.kernels.registry.KERNELS`), or None for
        the reference function.
    workspace : Workspace or None
        The layer's reused buffers (kernels only). A layer with a workspace returns arrays that
        stay valid until its next call, and its backward may overwrite ``dout``.
    input_layout, output_layout : {'nchw', 'nhwc', 'blocks'}
        Layout of 4-d activations coming in and going out (``'blocks'``: the (4, N, H/2, W/2, C)
        windows of a following 2x2 max pool, produced when the output size is even).
    grad_into_input : bool
        The backward writes the input gradient over the forward's input (pooling blocks only).
    """

    kernel: str | None = None
    workspace: Workspace | None = None
    input_layout: str = NCHW
    output_layout: str = NCHW
    grad_into_input: bool = False

    @property
    def is_reference(self) -> bool:
        """Whether the layer runs the plain reference function."""
        return self.kernel is None


REFERENCE = LayerPlan()

_forced_mode: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "numnet_kernels", default=None
)


def check_mode(mode: Any) -> str:
    """Return ``mode`` if it is ``'fast'`` or ``'reference'``; raise ``ValueError`` otherwise."""
    if mode not in MODES:
        raise ValueError(f"kernels must be 'fast' or 'reference', got {mode!r}")
    return mode


@contextlib.contextmanager
def use_kernels(mode: str) -> Iterator[None]:
    """Run every model inside the block with ``mode`` (``'reference'`` or ``'fast'``).

    For checking a result against the plain reference code without touching the model::

        with numnet.use_kernels("reference"):
            loss, grads = model.loss(X, y)

    A model switches plans at its next forward inside the block and back after it.
    """
    token = _forced_mode.set(check_mode(mode))
    try:
        yield
    finally:
        _forced_mode.reset(token)


def forced_mode() -> str | None:
    """The mode set by an enclosing :func:`use_kernels`, or None."""
    return _forced_mode.get()


def choose_kernel(layer: Any) -> str | None:
    """Name of the first registered kernel for ``layer``'s class whose condition holds, or None."""
    for kernel in kernels_for(type(layer).__name__):
        if kernel.applies(layer):
            return kernel.name
    return None


def plan_layer(layer: Any, mode: str = "fast") -> LayerPlan:
    """The plan of one layer on its own (NCHW in and out)."""
    if check_mode(mode) == "reference":
        return REFERENCE
    kernel = choose_kernel(layer)
    if kernel is None and type(layer).__name__ != "Flatten":
        return REFERENCE
    return LayerPlan(kernel=kernel, workspace=Workspace())


def plan_layers(layers: Sequence[Any], mode: str = "fast") -> list[LayerPlan]:
    """Plans for ``layers`` run in order (a ``Sequential``): kernels, layouts, in-place grads."""
    plans = [plan_layer(layer, mode) for layer in layers]
    if mode == "reference":
        return plans
    names = [type(layer).__name__ for layer in layers]
    start = 0
    while True:
        run = _channel_last_run(names, start)
        if run is None:
            return plans
        first, flatten = run
        _plan_run(layers, plans, first, flatten)
        start = flatten + 1


def _channel_last_run(names: list[str], start: int) -> tuple[int, int] | None:
    """``(first conv, its Flatten)`` of the next run whose layers all take channel-last input."""
    while True:
        try:
            first = names.index("Conv2d", start)
            flatten = names.index("Flatten", first)
        except ValueError:
            return None
        if all(name in _CHANNEL_LAST_LAYERS for name in names[first:flatten]):
            return first, flatten
        start = first + 1


def _plan_run(layers: Sequence[Any], plans: list[LayerPlan], first: int, flatten: int) -> None:
    """Set the layouts of ``layers[first : flatten + 1]``, a channel-last run."""
    for index in range(first, flatten + 1):
        plan = plans[index]
        name = type(layers[index]).__name__
        input_layout = NCHW if index == first else NHWC
        output_layout = NCHW if name == "Flatten" else NHWC
        grad_into_input = False
        if name == "Conv2d":
            pool = _next_pool(layers, index + 1, flatten)
            if pool is not None and plans[pool].kernel == "maxpool2d.blocks":
                output_layout = BLOCKS
        if name == "MaxPool2d" and plan.kernel == "maxpool2d.blocks":
            conv = _previous_conv(layers, index - 1, first)
            if conv is not None:
                input_layout = BLOCKS
                grad_into_input = True  # the blocks are read by this pool alone
            else:  # no convolution hands it blocks: the channel-last window kernel instead
                plan = LayerPlan(kernel="maxpool2d.nhwc", workspace=plan.workspace)
        plans[index] = LayerPlan(
            plan.kernel, plan.workspace, input_layout, output_layout, grad_into_input
        )


def _next_pool(layers: Sequence[Any], start: int, stop: int) -> int | None:
    """Index of the max pool that directly follows a convolution (batch norm may sit between)."""
    for index in range(start, stop):
        name = type(layers[index]).__name__
        if name == "MaxPool2d":
            return index
        if name != "BatchNorm2d":
            return None
    return None


def _previous_conv(layers: Sequence[Any], start: int, stop: int) -> int | None:
    """Index of the convolution a max pool directly follows (batch norm may sit between)."""
    for index in range(start, stop - 1, -1):
        name = type(layers[index]).__name__
        if name == "Conv2d":
            return index
        if name != "BatchNorm2d":
            return None
    return None
