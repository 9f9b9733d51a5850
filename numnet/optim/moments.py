"""Gradient rescalings built on running moments: momentum, RMS, Adam (PyTorch's formulas).

Each returns a :class:`~numnet.optim.transform.GradientTransformation` WITHOUT the learning rate:
chain it with :func:`~numnet.optim.learning_rate.scale_by_learning_rate` (the optimizers in
:mod:`numnet.optim.optimizers` do). Buffers are ``zeros_like(param)`` (same dtype) and are updated
in place; the result is written into the ``grads`` arrays (grads are consumed).
"""

from __future__ import annotations

import math

import numpy as np

from numnet.optim.transform import GradientTransformation, Grads, Params, State, Updates


def _buffer(state: State, key: str) -> np.ndarray:
    try:
        return state[key]  # type: ignore[return-value]
    except KeyError:
        raise ValueError(
            f"optimizer state has no entry {key!r}; initialise the optimizer with the same "
            "parameters (or restore the matching checkpoint)"
        ) from None


def _zeros_for(params: Params, prefix: str) -> State:
    return {f"{prefix}/{name}": np.zeros_like(param) for name, param in params.items()}


def scale_by_momentum(momentum: float = 0.9, nesterov: bool = False) -> GradientTransformation:
    """Heavy-ball or Nesterov momentum, PyTorch ``SGD`` semantics (dampening 0).

    ``buf = momentum * buf + g``; output ``buf`` (heavy ball) or ``g + momentum * buf`` (Nesterov).
    With ``buf`` starting at zero the first step's ``buf`` is ``g``, as in PyTorch.
    State: ``"momentum/NAME"`` arrays.
    """
    mu = float(momentum)

    def init(params: Params) -> State:
        return _zeros_for(params, "momentum")

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        updates: Updates = {}
        for name, grad in grads.items():
            buf = _buffer(state, f"momentum/{name}")
            buf *= mu
            buf += grad
            if nesterov:
                grad += mu * buf
            else:
                np.copyto(grad, buf)
            updates[name] = grad
        return updates, state

    return GradientTransformation(init, update)


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
        for name, grad in grads.items():
            v = _buffer(state, f"v/{name}")
            scratch = np.multiply(grad, grad)
            scratch *= 1.0 - rho
            v *= rho
            v += scratch
            np.sqrt(v, out=scratch)
            scratch += eps
            np.divide(grad, scratch, out=grad)
            updates[name] = grad
        return updates, state

    return GradientTransformation(init, update)


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
        for name, grad in grads.items():
            m = _buffer(state, f"m/{name}")
            v = _buffer(state, f"v/{name}")
            scratch = np.multiply(grad, 1.0 - b1)
            m *= b1
            m += scratch
            np.multiply(grad, grad, out=scratch)
            scratch *= 1.0 - b2
            v *= b2
            v += scratch
            np.sqrt(v, out=scratch)
            scratch /= bias2_sqrt
            scratch += eps
            np.divide(m, scratch, out=grad)
            grad /= bias1
            updates[name] = grad
        new_state = dict(state)
        new_state["count"] = t
        return updates, new_state

    return GradientTransformation(init, update)
