"""Learning-rate schedules: pure functions of the update count ``step`` (0 for the first update).

Every constructor returns a callable ``schedule(step: int) -> float``. Pass it as the
``learning_rate`` of any optimizer; the optimizer evaluates it at its update count. To express a
schedule in epochs, multiply by the number of updates per epoch (``steps_per_epoch``).

Reduce-on-plateau depends on validation metrics, not on the step, so it is not a schedule; see
:class:`numnet.optim.plateau.PlateauDetector` (re-exported here, also under its former name
``ReduceOnPlateau``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from numnet.errors import ConfigError
from numnet.optim._validate import (
    check_count,
    check_learning_rate,
    check_non_negative,
    check_positive,
)
from numnet.optim.plateau import PlateauDetector, ReduceOnPlateau
from numnet.optim.transform import Schedule

__all__ = [
    "PlateauDetector",
    "ReduceOnPlateau",
    "SCHEDULE_NAMES",
    "constant",
    "cosine",
    "exponential_decay",
    "join",
    "linear_warmup",
    "make_schedule",
    "step_decay",
]

SCHEDULE_NAMES = ("constant", "step", "cosine", "warmup-cosine", "exponential")
"""Schedule names accepted by :func:`make_schedule` (and the command line)."""


def constant(lr: float) -> Schedule:
    """Return ``step -> lr``."""
    value = check_positive("learning rate", lr)

    def schedule(step: int) -> float:
        return value

    return schedule


def step_decay(lr: float, decay: float, steps_per_epoch: int) -> Schedule:
    """Return ``step -> lr * decay ** (step // steps_per_epoch)``: CS231n's per-epoch ``lr_decay``.

    Parameters
    ----------
    lr : float
        Learning rate of the first epoch.
    decay : float
        Factor applied after each epoch (``> 0``; e.g. 0.95).
    steps_per_epoch : int
        Updates per epoch (``>= 1``).
    """
    base = check_positive("learning rate", lr)
    factor = check_positive("decay", decay)
    period = check_count("steps_per_epoch", steps_per_epoch, minimum=1)

    def schedule(step: int) -> float:
        return base * factor ** (step // period)

    return schedule


def exponential_decay(
    lr: float, decay_rate: float, decay_steps: int, staircase: bool = False
) -> Schedule:
    """Return ``step -> lr * decay_rate ** (step / decay_steps)`` (``//`` if ``staircase``).

    Parameters
    ----------
    lr : float
        Initial learning rate.
    decay_rate : float
        Factor reached after every ``decay_steps`` updates (``> 0``).
    decay_steps : int
        Updates per factor (``>= 1``); e.g. ``steps_per_epoch`` for a per-epoch factor.
    staircase : bool
        Apply the factor in whole steps (then this equals :func:`step_decay`).
    """
    base = check_positive("learning rate", lr)
    rate = check_positive("decay_rate", decay_rate)
    period = check_count("decay_steps", decay_steps, minimum=1)

    def schedule(step: int) -> float:
        exponent = step // period if staircase else step / period
        return base * rate**exponent

    return schedule


def _warmup_value(lr: float, step: int, warmup_steps: int) -> float:
    """Linear warmup ``lr * (step + 1) / warmup_steps``: the first update already moves."""
    return lr * (step + 1) / warmup_steps


def cosine(lr: float, total_steps: int, final_lr: float = 0.0, warmup_steps: int = 0) -> Schedule:
    """Return a cosine decay from ``lr`` to ``final_lr`` over ``total_steps``, with optional warmup.

    For ``step < warmup_steps``: ``lr * (step + 1) / warmup_steps``. After it, with
    ``t = (step - warmup_steps) / (total_steps - warmup_steps)`` clipped to ``[0, 1]``:
    ``final_lr + (lr - final_lr) * (1 + cos(pi * t)) / 2``. Steps past ``total_steps`` stay at
    ``final_lr``. Without warmup this is PyTorch's ``CosineAnnealingLR`` (``T_max = total_steps``,
    ``eta_min = final_lr``) evaluated per update.

    Parameters
    ----------
    lr : float
        Peak learning rate.
    total_steps : int
        Total number of updates of the run, warmup included (``>= 1``).
    final_lr : float
        Learning rate at the end (``0 <= final_lr <= lr``).
    warmup_steps : int
        Updates of linear warmup (``0 <= warmup_steps < total_steps``).
    """
    peak = check_positive("learning rate", lr)
    total = check_count("total_steps", total_steps, minimum=1)
    final = check_non_negative("final_lr", final_lr)
    warmup = check_count("warmup_steps", warmup_steps)
    if final > peak:
        raise ConfigError(f"final_lr ({final_lr}) must not exceed the learning rate ({lr})")
    if warmup >= total:
        raise ConfigError(
            f"warmup_steps ({warmup}) must be smaller than total_steps ({total}); "
            "shorten the warmup or train longer"
        )
    decay_steps = total - warmup

    def schedule(step: int) -> float:
        if step < warmup:
            return _warmup_value(peak, step, warmup)
        progress = min(max((step - warmup) / decay_steps, 0.0), 1.0)
        return final + (peak - final) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return schedule


def linear_warmup(lr: float, warmup_steps: int, after: Schedule | None = None) -> Schedule:
    """Return a linear warmup to ``lr`` over ``warmup_steps``, then ``after`` (or constant ``lr``).

    For ``step < warmup_steps``: ``lr * (step + 1) / warmup_steps``; afterwards
    ``after(step - warmup_steps)``, i.e. ``after`` starts counting at 0 when the warmup ends.
    ``linear_warmup(lr, w, cosine(lr, n - w))`` equals ``cosine(lr, n, warmup_steps=w)``.

    Parameters
    ----------
    lr : float
        Learning rate reached at the end of the warmup.
    warmup_steps : int
        Updates of warmup (``>= 1``).
    after : schedule, optional
        Schedule for the remaining steps; ``None`` keeps ``lr``.
    """
    peak = check_positive("learning rate", lr)
    warmup = check_count("warmup_steps", warmup_steps, minimum=1)
    rest = constant(peak) if after is None else check_learning_rate(after)
    if not callable(rest):
        raise ConfigError("linear_warmup's `after` must be a schedule (a callable step -> lr)")

    def schedule(step: int) -> float:
        if step < warmup:
            return _warmup_value(peak, step, warmup)
        return rest(step - warmup)

    return schedule


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Return a piecewise schedule: ``schedules[i]`` runs up to ``boundaries[i]``.

    Each piece starts counting at 0 at its own boundary (like optax's ``join_schedules``).

    Parameters
    ----------
    schedules : sequence of schedules
        ``len(boundaries) + 1`` schedules.
    boundaries : sequence of int
        Strictly increasing update counts ``> 0`` at which the next schedule takes over.
    """
    pieces = list(schedules)
    starts = [check_count("boundary", b, minimum=1) for b in boundaries]
    if len(pieces) != len(starts) + 1:
        raise ConfigError(
            f"join() needs one more schedule than boundaries, got {len(pieces)} and {len(starts)}"
        )
    if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
        raise ConfigError(f"join() boundaries must be strictly increasing, got {starts}")
    offsets = [0, *starts]

    def schedule(step: int) -> float:
        index = 0
        while index < len(starts) and step >= starts[index]:
            index += 1
        return pieces[index](step - offsets[index])

    return schedule


_SCHEDULE_OPTIONS: dict[str, tuple[str, ...]] = {
    "constant": (),
    "step": ("decay",),
    "exponential": ("decay",),
    "cosine": ("final_lr",),
    "warmup-cosine": ("final_lr", "warmup_steps", "warmup_epochs"),
}


def make_schedule(
    name: str, lr: float, steps_per_epoch: int, total_steps: int, **options: Any
) -> Schedule:
    """Build a schedule from its command-line name.

    Parameters
    ----------
    name : {'constant', 'step', 'cosine', 'warmup-cosine', 'exponential'}
        ``step``: ``lr * decay ** epoch`` (``decay`` default 0.95, applied at each epoch end);
        ``exponential``: the same factor per epoch applied smoothly at every update;
        ``cosine``: cosine decay to ``final_lr`` (default 0) over ``total_steps``;
        ``warmup-cosine``: linear warmup over ``warmup_steps`` (or ``warmup_epochs``; default one
        epoch, or a tenth of ``total_steps`` when that is shorter), then cosine decay.
    lr : float
        Base (peak) learning rate, ``> 0``.
    steps_per_epoch : int
        Updates per epoch (``>= 1``).
    total_steps : int
        Updates in the whole run (``>= 1``); used by the cosine schedules.
    **options
        The per-schedule options above; anything else raises ``ConfigError``.
    """
    key = str(name).strip().lower()
    if key not in _SCHEDULE_OPTIONS:
        raise ConfigError(
            f"unknown learning-rate schedule {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}"
        )
    allowed = _SCHEDULE_OPTIONS[key]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        accepted = ", ".join(allowed) if allowed else "none"
        raise ConfigError(
            f"schedule {key!r} does not take option(s) {', '.join(unknown)}; accepted: {accepted}"
        )
    per_epoch = check_count("steps_per_epoch", steps_per_epoch, minimum=1)
    total = check_count("total_steps", total_steps, minimum=1)
    if key == "constant":
        return constant(lr)
    if key == "step":
        return step_decay(lr, options.get("decay", 0.95), per_epoch)
    if key == "exponential":
        return exponential_decay(lr, options.get("decay", 0.95), per_epoch)
    final_lr = options.get("final_lr", 0.0)
    if key == "cosine":
        return cosine(lr, total, final_lr=final_lr)
    if "warmup_steps" in options and "warmup_epochs" in options:
        raise ConfigError("give warmup_steps or warmup_epochs, not both")
    if "warmup_steps" in options:
        warmup = check_count("warmup_steps", options["warmup_steps"], minimum=1)
    elif "warmup_epochs" in options:
        epochs = check_non_negative("warmup_epochs", options["warmup_epochs"])
        warmup = max(1, round(epochs * per_epoch))
    else:
        warmup = min(per_epoch, total // 10)
    return cosine(lr, total, final_lr=final_lr, warmup_steps=warmup)
