"""Optimizers (optax-style gradient transformations), CS231n update rules, and schedules.

* Transformations: :class:`GradientTransformation` ``(init, update)``, :func:`chain`,
  :func:`apply_updates`; optimizers :func:`SGD`, :func:`Momentum`, :func:`Nesterov`,
  :func:`RMSProp`, :func:`Adam`, :func:`AdamW`, :func:`get_optimizer`; pieces
  :func:`clip_by_global_norm`, :func:`add_decayed_weights`, :func:`scale_by_learning_rate`, ...
* State is a flat dict; :func:`state_to_arrays` / :func:`state_from_arrays` for checkpoints.
* CS231n rules ``sgd``, ``sgd_momentum``, ``rmsprop``, ``adam``: ``rule(w, dw, config)``.
* Schedules in :mod:`numnet.optim.schedules`; :class:`ReduceOnPlateau` with
  :func:`scale_learning_rate` and :func:`current_learning_rate`.
"""

from numnet.optim import schedules
from numnet.optim.clipping import clip_by_global_norm, global_norm
from numnet.optim.cs231n import adam, rmsprop, sgd, sgd_momentum
from numnet.optim.learning_rate import (
    current_learning_rate,
    scale_by_learning_rate,
    scale_by_schedule,
    scale_learning_rate,
)
from numnet.optim.moments import scale_by_adam, scale_by_momentum, scale_by_rms
from numnet.optim.optimizers import (
    OPTIMIZERS,
    SGD,
    Adam,
    AdamW,
    Momentum,
    Nesterov,
    RMSProp,
    get_optimizer,
)
from numnet.optim.plateau import ReduceOnPlateau
from numnet.optim.schedules import make_schedule
from numnet.optim.state import state_from_arrays, state_to_arrays
from numnet.optim.transform import GradientTransformation, apply_updates, chain, identity
from numnet.optim.weight_decay import add_decayed_weights

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "GradientTransformation",
    "Momentum",
    "Nesterov",
    "RMSProp",
    "ReduceOnPlateau",
    "adam",
    "add_decayed_weights",
    "apply_updates",
    "chain",
    "clip_by_global_norm",
    "current_learning_rate",
    "get_optimizer",
    "global_norm",
    "identity",
    "make_schedule",
    "rmsprop",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_momentum",
    "scale_by_rms",
    "scale_by_schedule",
    "scale_learning_rate",
    "schedules",
    "sgd",
    "sgd_momentum",
    "state_from_arrays",
    "state_to_arrays",
]
