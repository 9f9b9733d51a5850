"""One row of the layer table: a forward/backward pair, its inputs, its gradients, its oracles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PIECEWISE_LINEAR_STEP = 1e-3
"""Central-difference step of rows linear in each input (kinks and ties drawn >= 0.09 away)."""

SMOOTH_STEP = 1e-4
"""Central-difference step of smooth rows (tanh, sigmoid, normalisations, softmax)."""


@dataclass(frozen=True)
class LayerCase:
    """One row of the layer table.

    A row checks one forward/backward pair (a reference pair from :mod:`numnet.functional`, or a
    registered kernel's NCHW adapters) on inputs drawn at random from a seeded generator.

    Attributes
    ----------
    layer : str
        The reference pair the row belongs to: ``layer + "_forward"`` / ``layer + "_backward"``
        in :mod:`numnet.layers` (``"conv"``, ``"max_pool"``, ``"softmax_loss"`` for losses).
    variant : str
        What distinguishes this row's inputs, e.g. ``"3x3-stride1-pad1"``; ``""`` when the layer
        has a single row.
    forward : callable
        The function under test, ``forward(*args) -> (out, cache)``; for ``kind="loss"``
        ``forward(*args) -> (loss, dx)``.
    backward : callable or None
        ``backward(dout, cache)``, returning the gradients in the order of ``grad_args``;
        ``None`` for losses.
    make_args : callable
        ``make_args(rng) -> tuple`` of positional arguments for ``forward`` (float64 arrays, plus
        parameter dicts, labels, integers), shapes drawn from the generator.
    grad_args : tuple of int
        Positions in ``args`` whose gradients ``backward`` returns, in the order it returns them.
    reference_forward, reference_backward : callable
        The reference pair the row's functions must equal (the same objects for a reference row).
    kernel : str or None
        Registry name (``numnet.kernels.registry.KERNELS``) when the row checks a fast kernel.
    kind : str
        ``"layer"`` or ``"loss"``.
    tol : float
        Largest relative error allowed between ``backward`` and central differences (float64).
    h : float
        Step of those central differences. A function linear in each input near the drawn point
        (affine, convolution, pooling, ReLU and dropout away from their kinks) is differenced
        exactly at any step, so :data:`PIECEWISE_LINEAR_STEP` leaves only rounding, which falls
        as the step grows; smooth layers balance truncation (``h**2``) against rounding
        (``1 / h``) at :data:`SMOOTH_STEP`. The hinge loss, whose margins are drawn only 1e-3 away
        from its kink, keeps the CS231n default 1e-5.
    torch_fn : callable or None
        ``torch_fn(torch, *args) -> tensor``: the same forward in PyTorch (the module is passed
        in, so that importing the table needs only NumPy). Arguments at ``grad_args`` arrive as
        float64 tensors with ``requires_grad``; the others as given. Losses return the scalar.
    torch_args : callable or None
        ``torch_args(args) -> args`` applied before the conversion (e.g. to transpose a weight).
    torch_grads : callable or None
        Maps PyTorch's gradients (a list, ``grad_args`` order) back to numnet's layout.
    compare_forward : bool
        Whether the PyTorch check compares the output (not for dropout's own random mask).
    parity_rtol, parity_atol : float
        Tolerances of the float64 PyTorch comparison (``np.testing.assert_allclose``).
    dtypes : tuple of str
        Dtypes in which the row is held against its reference pair (:func:`compare_with_reference`).
    match_tol : dict
        ``{dtype: tolerance}`` of that comparison: the largest ``max|a - b| / max(1, max|b|)``.
    """

    layer: str
    variant: str
    forward: Callable[..., Any]
    backward: Callable[..., Any] | None
    make_args: Callable[[np.random.Generator], tuple]
    grad_args: tuple[int, ...]
    reference_forward: Callable[..., Any]
    reference_backward: Callable[..., Any] | None
    kernel: str | None = None
    kind: str = "layer"
    tol: float = 1e-7
    h: float = 1e-5
    torch_fn: Callable[..., Any] | None = None
    torch_args: Callable[[tuple], tuple] | None = None
    torch_grads: Callable[[list], list] | None = None
    compare_forward: bool = True
    parity_rtol: float = 1e-7
    parity_atol: float = 1e-10
    dtypes: tuple[str, ...] = ()
    match_tol: dict = field(default_factory=lambda: {"float64": 1e-12, "float32": 1e-5})

    @property
    def id(self) -> str:
        """Unique test id: ``"<kernel or layer>/<variant>"`` (just the name without a variant)."""
        head = self.kernel or self.layer
        return f"{head}/{self.variant}" if self.variant else head

    @property
    def name(self) -> str:
        """The row as ``numnet gradcheck`` prints it: ``"conv (3x3-stride1-pad1)"``."""
        head = self.kernel or self.layer
        return f"{head} ({self.variant})" if self.variant else head

    @property
    def is_reference(self) -> bool:
        """Whether the row checks the reference pair itself (no equality check to run)."""
        return self.forward is self.reference_forward and self.backward is self.reference_backward


def reference_row(
    layer: str,
    variant: str,
    forward: Callable[..., Any],
    backward: Callable[..., Any] | None,
    make_args: Callable[[np.random.Generator], tuple],
    grad_args: tuple[int, ...],
    **options: Any,
) -> LayerCase:
    """A row that checks the reference pair ``forward`` / ``backward`` itself."""
    return LayerCase(
        layer, variant, forward, backward, make_args, grad_args, forward, backward, **options
    )
