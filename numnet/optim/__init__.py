"""Optimizers: optax-style gradient transformations, CS231n update rules, and schedules.

Two spellings, on purpose
-------------------------
* **Transformations** (capitalised, objects you keep): :func:`SGD`, :func:`Momentum`,
  :func:`Nesterov`, :func:`RMSProp`, :func:`Adam`, :func:`AdamW`, :func:`get_optimizer` by name.
  Each is a :class:`GradientTransformation` ``(init, update)`` over all parameters at once, with
  PyTorch's formulas, built with :func:`chain` from pieces (:func:`clip_by_global_norm`,
  :func:`add_decayed_weights`, :func:`scale_by_momentum`, :func:`scale_by_adam`,
  :func:`scale_by_learning_rate`, ...). ``update(grads, state, params)`` is pure: it returns new
  updates and a new state and leaves its arguments untouched; :func:`apply_updates` adds the
  updates to the parameters in place. The state is a flat dict (``"0/momentum/W1"``,
  ``"1/count"``, ``"1/lr_scale"``); :func:`state_to_arrays` / :func:`state_from_arrays` for
  checkpoints.
* **CS231n rules** (lower case, the assignment's ``optim.py``): ``sgd``, ``sgd_momentum``,
  ``rmsprop``, ``adam`` with ``rule(w, dw, config) -> (next_w, config)``, one array per call.

So ``optim.adam`` is the CS231n rule and ``optim.Adam`` the transformation, as ``torch.optim.Adam``
is a class. Schedules live in :mod:`numnet.optim.schedules`; :class:`PlateauDetector` (formerly
``ReduceOnPlateau``, still importable) is the pure logic of reduce-on-plateau, applied with
:func:`scale_learning_rate` and reported by :func:`current_learning_rate`; the callback that runs
it during training is :class:`numnet.callbacks.ReduceLROnPlateau`.

This package is plain NumPy over mappings of arrays and imports nothing from the layers, models or
kernels. The fused in-place update of a flat model, which the Solver uses when it can, is the
kernel :mod:`numnet.kernels.flat_update`, built from each transformation's ``spec``.
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
from numnet.optim.plateau import PlateauDetector, ReduceOnPlateau
from numnet.optim.schedules import make_schedule
from numnet.optim.state import state_from_arrays, state_to_arrays
from numnet.optim.transform import GradientTransformation, Stage, apply_updates, chain, identity
from numnet.optim.weight_decay import add_decayed_weights

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "GradientTransformation",
    "Momentum",
    "Nesterov",
    "PlateauDetector",
    "RMSProp",
    "ReduceOnPlateau",
    "Stage",
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
