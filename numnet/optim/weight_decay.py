"""L2-style weight decay added to the gradients: ``g + weight_decay * param``."""

from __future__ import annotations

from collections.abc import Callable

from numnet.optim._validate import check_non_negative
from numnet.optim.transform import (
    GradientTransformation,
    Grads,
    Params,
    State,
    Updates,
    copy_updates,
    stage,
)


def add_decayed_weights(
    weight_decay: float, mask: Callable[[str], bool] | None = None
) -> GradientTransformation:
    """Return ``u = g + weight_decay * param`` for each parameter.

    Before the moment stages this is PyTorch's ``weight_decay`` of ``SGD``/``Adam`` (L2 penalty
    ``0.5 * weight_decay * ||param||**2`` in the loss); after them and before the learning rate it
    is AdamW's decoupled decay. Stateless.

    Parameters
    ----------
    weight_decay : float
        Coefficient ``>= 0`` (0 leaves gradients unchanged).
    mask : callable ``name -> bool``, optional
        Decay only the parameters it accepts, e.g. ``lambda name: name.startswith("W")`` to skip
        biases and normalisation parameters. Default: every parameter.
    """
    decay = check_non_negative("weight_decay", weight_decay)

    def init(params: Params) -> State:
        return {}

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        if decay == 0.0:
            return copy_updates(grads), dict(state)
        if params is None:
            raise ValueError("add_decayed_weights needs params: call update(grads, state, params)")
        updates = {
            name: grad + params[name] * decay if mask is None or mask(name) else grad.copy()
            for name, grad in grads.items()
        }
        return updates, dict(state)

    return GradientTransformation(
        init, update, spec=stage("add_decayed_weights", weight_decay=decay, mask=mask)
    )
