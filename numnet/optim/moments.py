"""Gradient rescalings built on running moments: momentum, RMS, Adam (PyTorch's formulas).

Each returns a :class:`~numnet.optim.transform.GradientTransformation` WITHOUT the learning rate:
chain it with :func:`~numnet.optim.learning_rate.scale_by_learning_rate` (the optimizers in
:mod:`numnet.optim.optimizers` do). Buffers are ``zeros_like(param)`` (same dtype). Updates are
pure: the new moments and the output are new arrays; the gradients and the old state are left as
they were. The expressions are written in the order the fused kernel
(:mod:`numnet.kernels.flat_update`) evaluates them, so both give the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from numnet.optim.transform import (
    GradientTransformation,
    Grads,
    Params,
    State,
    Updates,
    stage,
)


def _buffer(state: State, key: str) -> np.ndarray:
    try:
        return state[key]  # type: ignore[return-value]
    except KeyError:
        raise ValueError(
            f"optimizer state has no entry {key!r}; initialise the optimizer with the same "
            "parameters (or restore the matching checkpoint)"
        ) from None


def _zeros_for(params: Params, prefix: str) -> State:
    """One zero buffer per parameter, keyed ``"{prefix}/{name}"``."""
    return {f"{prefix}/{name}": np.zeros_like(param) for name, param in params.items()}


def scale_by_momentum(momentum: float = 0.9, nesterov: bool = False) -> GradientTransformation:
    """Heavy-ball or Nesterov momentum, PyTorch ``SGD`` semantics (dampening 0).

    ``buf = momentum * buf + g``; output ``buf`` (heavy ball) or ``g + momentum * buf`` (Nesterov).
    With ``buf`` starting at zero the first step's ``buf`` is ``g``, as in PyTorch.
    State: ``"momentum/NAME"`` arrays.
    """
    mu = float(momentum)
    nesterov = bool(nesterov)

    def init(params: Params) -> State:
        return _zeros_for(params, "momentum")

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        updates: Updates = {}
        new_state: State = dict(state)
        for name, grad in grads.items():
            key = f"momentum/{name}"
            buf = _buffer(state, key) * mu + grad
            new_state[key] = buf
            updates[name] = grad + buf * mu if nesterov else buf.copy()
        return updates, new_state

    return GradientTransformation(
        init, update, spec=stage("scale_by_momentum", momentum=mu, nesterov=nesterov)
    )


def scale_by_rms(decay_rate: float = 0.99, epsilon: float = 1e-8) -> GradientTransformation:
    """RMSProp's rescaling, PyTorch ``RMSprop`` semantics (``alpha = decay_rate``).

    ``v = decay_rate * v + (1 - decay_rate) * g**2``; output ``g / (sqrt(v) + epsilon)`` (epsilon
    outside the square root). State: ``"v/NAME"`` arrays.
    """
    rho, eps = float(decay_rate), float(epsilon)

    def init(params: Params) -> State:
        return _zeros_for(params, "v")

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        updates: Updates = {}
        new_state: State = dict(state)
        for name, grad in grads.items():
            key = f"v/{name}"
            v = _buffer(state, key) * rho + grad * grad * (1.0 - rho)
            new_state[key] = v
            updates[name] = grad / (np.sqrt(v) + eps)
        return updates, new_state

    return GradientTransformation(
        init, update, spec=stage("scale_by_rms", decay_rate=rho, epsilon=eps)
    )


def scale_by_adam(
    beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8
) -> GradientTransformation:
    """Adam's bias-corrected moment ratio, PyTorch ``Adam`` semantics.

    With ``t = count + 1``: ``m = beta1 m + (1 - beta1) g``; ``v = beta2 v + (1 - beta2) g**2``;
    output ``(m / (1 - beta1**t)) / (sqrt(v) / sqrt(1 - beta2**t) + epsilon)``.
    State: ``"m/NAME"``, ``"v/NAME"`` arrays and ``"count"`` (int, updates done).
    """
    b1, b2, eps = float(beta1), float(beta2), float(epsilon)

    def init(params: Params) -> State:
        state = _zeros_for(params, "m")
        state.update(_zeros_for(params, "v"))
        state["count"] = 0
        return state

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        t = int(state["count"]) + 1
        bias1 = 1.0 - b1**t
        bias2_sqrt = math.sqrt(1.0 - b2**t)
        updates: Updates = {}
        new_state: State = dict(state)
        for name, grad in grads.items():
            m = _buffer(state, f"m/{name}") * b1 + grad * (1.0 - b1)
            v = _buffer(state, f"v/{name}") * b2 + grad * grad * (1.0 - b2)
            new_state[f"m/{name}"] = m
            new_state[f"v/{name}"] = v
            updates[name] = m / (np.sqrt(v) / bias2_sqrt + eps) / bias1
        new_state["count"] = t
        return updates, new_state

    return GradientTransformation(
        init, update, spec=stage("scale_by_adam", beta1=b1, beta2=b2, epsilon=eps)
    )
