"""The description of one layer test case; ``cases.py`` collects them into the one table.

A case builds its inputs from a seeded ``np.random.Generator`` (float64, shapes drawn at random
when ``random_shapes`` is set), names which positional arguments receive gradients, and optionally
says how PyTorch computes the same forward so that the parity test can compare forward and backward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LayerCase:
    """One row of the layer table.

    Attributes
    ----------
    id : str
        Test id, e.g. ``"conv/stride2-pad1"``.
    forward : callable
        The numnet forward, e.g. ``numnet.layers.conv_forward``. For ``kind="loss"`` the function
        returns ``(loss, dx)`` directly (``softmax_loss``, ``svm_loss``).
    backward : callable or None
        The numnet backward ``backward(dout, cache)``; ``None`` for losses.
    make_args : callable
        ``make_args(rng) -> tuple`` of positional arguments for ``forward`` (arrays in float64, plus
        any parameter dicts). Called once per test with a fresh seeded generator.
    grad_args : tuple of int
        Positions in ``args`` whose gradients ``backward`` returns, in the order it returns them.
    kind : str
        ``"layer"`` or ``"loss"``.
    tol : float
        Maximum relative error of the numerical gradient check (1e-7; 1e-5 for norms and losses).
    torch_fn : callable or None
        ``torch_fn(torch, *tensor_args) -> tensor`` computing the same forward with PyTorch.
        Arguments at ``grad_args`` arrive as float64 tensors with ``requires_grad``; the others as
        given (dicts etc.). For losses it returns the scalar loss.
    torch_args : callable or None
        Optional ``torch_args(args) -> args`` adapter applied before conversion (e.g. to transpose
        a weight).
    torch_grads : callable or None
        Optional adapter mapping PyTorch's gradients back to numnet's layout (same order as
        grad_args).
    compare_forward : bool
        Whether the parity test compares the forward output (False e.g. for dropout's random mask).
    extra : dict
        Free-form notes for special-purpose tests.
    parity_rtol, parity_atol : float
        Tolerances of the PyTorch parity comparison (``np.testing.assert_allclose``), float64.
    """

    id: str
    forward: Callable[..., Any]
    backward: Callable[..., Any] | None
    make_args: Callable[[np.random.Generator], tuple]
    grad_args: tuple[int, ...]
    kind: str = "layer"
    tol: float = 1e-7
    torch_fn: Callable[..., Any] | None = None
    torch_args: Callable[[tuple], tuple] | None = None
    torch_grads: Callable[[list], list] | None = None
    compare_forward: bool = True
    extra: dict = field(default_factory=dict)
    parity_rtol: float = 1e-7
    parity_atol: float = 1e-10
