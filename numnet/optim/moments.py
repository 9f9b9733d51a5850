"""Gradient rescalings built on running moments: momentum, RMS, Adam (PyTorch's formulas).

Each returns a :class:`~numnet.optim.transform.GradientTransformation` WITHOUT the learning rate:
chain it with :func:`~numnet.optim.learning_rate.scale_by_learning_rate` (the optimizers in
:mod:`numnet.optim.optimizers` do). Buffers are ``zeros_like(param)`` (same dtype) and are updated
in place; the result is written into the ``grads`` arrays (grads are consumed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numnet.kernels import huge_pages
from numnet.optim._flat import flat_buffer_of
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
    """Zero buffers like ``params``; views of one flat zero array when ``params`` is flat.

    Flat parameters (a model in speed mode) get flat buffers, so that an update whose gradients
    are flat too can run one NumPy call per stage (see :func:`_flat_buffers`).
    """
    flat = flat_buffer_of(params)
    layout = getattr(params, "flat_layout", None)
    if flat is not None and layout is not None and list(params) == list(layout.names):
        views = layout.views(huge_pages.zeros(flat.shape, flat.dtype))
        return {f"{prefix}/{name}": views[name] for name in layout.names}
    return {f"{prefix}/{name}": np.zeros_like(param) for name, param in params.items()}


def _flat_buffers(grads: Grads, buffers: list[Any]) -> Any:
    """The flat array behind ``buffers`` when it mirrors the flat gradients, else None.

    ``buffers`` (one per gradient, in order) qualify when they are views of one 1-D array laid out
    exactly as the gradients' flat array (same dtype, size and offsets), as :func:`_zeros_for`
    makes them; a restored or edited state falls back to the per-array loop.
    """
    flat_grad = flat_buffer_of(grads)
    layout = getattr(grads, "layout", None)
    if flat_grad is None or layout is None or not buffers or len(buffers) != len(layout.names):
        return None
    base = buffers[0].base
    if (
        not isinstance(base, np.ndarray)
        or base.ndim != 1
        or base.shape != flat_grad.shape
        or base.dtype != flat_grad.dtype
    ):
        return None
    start = base.__array_interface__["data"][0]
    itemsize = base.itemsize
    for buffer, offset, shape in zip(buffers, layout.offsets, layout.shapes, strict=False):
        if (
            buffer.base is not base
            or buffer.shape != shape
            or buffer.__array_interface__["data"][0] != start + offset * itemsize
        ):
            return None
    return base


def _as_updates(grads: Grads, updates: Updates) -> Updates:
    """``grads`` itself when it is a flat gradient dict written in place, else ``updates``.

    Returning the flat dict keeps the later stages and ``apply_updates`` on their one-call path.
    """
    return grads if flat_buffer_of(grads) is not None else updates  # type: ignore[return-value]


def scale_by_momentum(momentum: float = 0.9, nesterov: bool = False) -> GradientTransformation:
    """Heavy-ball or Nesterov momentum, PyTorch ``SGD`` semantics (dampening 0).

    ``buf = momentum * buf + g``; output ``buf`` (heavy ball) or ``g + momentum * buf`` (Nesterov).
    With ``buf`` starting at zero the first step's ``buf`` is ``g``, as in PyTorch.
    State: ``"momentum/NAME"`` arrays.
    """
    mu = float(momentum)

    def init(params: Params) -> State:
        return _zeros_for(params, "momentum")

    def step(grad: np.ndarray, buf: np.ndarray) -> None:
        buf *= mu
        buf += grad
        if nesterov:
            grad += mu * buf
        else:
            np.copyto(grad, buf)

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        buffers = [_buffer(state, f"momentum/{name}") for name in grads]
        flat_buffer = _flat_buffers(grads, buffers)
        if flat_buffer is not None:  # every array at once
            step(flat_buffer_of(grads), flat_buffer)
            return grads, state  # type: ignore[return-value]
        updates: Updates = {}
        for (name, grad), buf in zip(grads.items(), buffers, strict=True):
            step(grad, buf)
            updates[name] = grad
        return _as_updates(grads, updates), state

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
        return _as_updates(grads, updates), state

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
        return _as_updates(grads, updates), new_state

    return GradientTransformation(init, update)
