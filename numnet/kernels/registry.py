"""The kernel registry: which fast kernel may replace which layer's reference code, and when.

A :class:`Kernel` names the ``nn`` layer it serves, the :mod:`numnet.functional` pair it must
equal (``reference="conv"`` means ``conv_forward`` / ``conv_backward``), the condition under which
the planner may choose it (:attr:`Kernel.applies`), and NCHW adapters with the reference's own
signature. The adapters are what the layer table (:mod:`numnet.layer_table`) compares with the
reference, forward and every gradient; a meta-test fails when a registered kernel has no row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kernel:
    """One registered fast kernel.

    Attributes
    ----------
    name : str
        Registry key, ``"<layer>.<method>"``, e.g. ``"conv2d.winograd"``.
    layer : str
        The ``numnet.nn`` class it replaces the reference in, e.g. ``"Conv2d"``.
    reference : str
        The reference pair in :mod:`numnet.functional` it must equal: ``reference + "_forward"``
        and ``reference + "_backward"`` (e.g. ``"conv"``).
    applies : callable ``(layer) -> bool``
        Whether the kernel computes that layer (its settings allow it, e.g. 3x3 filters with
        stride 1 for Winograd). The planner picks the first registered kernel that applies.
    forward, backward : callable
        NCHW adapters with the reference's signatures, for the layer table.
    summary : str
        One line: what the kernel does differently.
    """

    name: str
    layer: str
    reference: str
    applies: Callable[[Any], bool]
    forward: Callable[..., Any]
    backward: Callable[..., Any]
    summary: str


KERNELS: dict[str, Kernel] = {}


def register(kernel: Kernel) -> Kernel:
    """Add ``kernel`` to :data:`KERNELS` (names are unique); return it."""
    if kernel.name in KERNELS:
        raise ValueError(f"a kernel named {kernel.name!r} is already registered")
    KERNELS[kernel.name] = kernel
    return kernel


def kernels_for(layer: str) -> list[Kernel]:
    """The registered kernels for the ``nn`` class named ``layer``, in registration order."""
    return [kernel for kernel in KERNELS.values() if kernel.layer == layer]
