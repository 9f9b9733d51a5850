"""Gradient clipping by global norm (PyTorch's ``clip_grad_norm_`` semantics)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from numnet.optim._validate import check_positive
from numnet.optim.transform import (
    GradientTransformation,
    Grads,
    Params,
    State,
    Updates,
    copy_updates,
    stage,
)


def global_norm(arrays: Mapping[str, np.ndarray]) -> float:
    """Return ``sqrt(sum over arrays of sum(a**2))``, the L2 norm of all arrays taken together."""
    total = 0.0
    for array in arrays.values():
        flat = array.reshape(-1)
        total += float(np.dot(flat, flat))
    return math.sqrt(total)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scale all gradients by ``min(1, max_norm / (global_norm + 1e-6))``.

    Same coefficient as ``torch.nn.utils.clip_grad_norm_``; gradients whose global norm is at most
    ``max_norm`` are left untouched. A NaN/inf norm is passed through (the Solver's divergence
    check reports it). Stateless (empty state).

    Parameters
    ----------
    max_norm : float
        Largest allowed global L2 norm, ``> 0``.
    """
    limit = check_positive("max_norm", max_norm)

    def init(params: Params) -> State:
        return {}

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        coefficient = limit / (global_norm(grads) + 1e-6)
        if coefficient < 1.0 or math.isnan(coefficient):
            return {name: grad * coefficient for name, grad in grads.items()}, dict(state)
        return copy_updates(grads), dict(state)

    return GradientTransformation(init, update, spec=stage("clip_by_global_norm", max_norm=limit))
