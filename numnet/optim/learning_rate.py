"""The learning-rate stage: updates times ``schedule(count) * lr_scale`` (negated for descent).

State keys (inside a chain they carry the part's prefix, e.g. ``"1/count"``):

``"count"`` (int)
    Number of updates done so far; the schedule is evaluated at it (0 for the first update).
``"lr_scale"`` (float, initially 1.0)
    Extra multiplier that reduce-on-plateau changes through :func:`scale_learning_rate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from numnet.optim._validate import check_learning_rate, check_positive
from numnet.optim.schedules import constant
from numnet.optim.transform import (
    GradientTransformation,
    Grads,
    Params,
    Schedule,
    State,
    Updates,
    stage,
)

LR_SCALE_KEY = "lr_scale"
COUNT_KEY = "count"


def _as_schedule(learning_rate: float | Schedule) -> Schedule:
    checked = check_learning_rate(learning_rate)
    return checked if callable(checked) else constant(checked)


def _scale_stage(schedule: Schedule, sign: float, kind: str) -> GradientTransformation:
    def init(params: Params) -> State:
        return {COUNT_KEY: 0, LR_SCALE_KEY: 1.0}

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        count = int(state[COUNT_KEY])
        multiplier = sign * float(schedule(count)) * float(state[LR_SCALE_KEY])
        new_state = {COUNT_KEY: count + 1, LR_SCALE_KEY: state[LR_SCALE_KEY]}
        return {name: grad * multiplier for name, grad in grads.items()}, new_state

    return GradientTransformation(init, update, schedule, stage(kind, schedule=schedule))


def scale_by_learning_rate(learning_rate: float | Schedule) -> GradientTransformation:
    """Return the descent step ``u = -learning_rate(count) * lr_scale * g``.

    Parameters
    ----------
    learning_rate : float or schedule ``step -> lr``
        A float ``> 0`` or a schedule from :mod:`numnet.optim.schedules`.
    """
    return _scale_stage(_as_schedule(learning_rate), -1.0, "scale_by_learning_rate")


def scale_by_schedule(schedule: float | Schedule) -> GradientTransformation:
    """Return ``u = schedule(count) * lr_scale * g`` (no sign flip)."""
    return _scale_stage(_as_schedule(schedule), 1.0, "scale_by_schedule")


def _lr_stage_prefixes(state: Mapping[str, Any]) -> list[str]:
    """Return the key prefixes ('' or '1/' ...) of every learning-rate stage in a state."""
    return [
        key[: -len(LR_SCALE_KEY)]
        for key in state
        if key == LR_SCALE_KEY or key.endswith("/" + LR_SCALE_KEY)
    ]


def scale_learning_rate(state: State, factor: float) -> State:
    """Multiply the learning rate of an optimizer state by ``factor`` (reduce-on-plateau's hook).

    Modifies ``state`` in place (every ``lr_scale`` entry is multiplied) and returns it.

    Parameters
    ----------
    state : dict
        Optimizer state holding at least one learning-rate stage.
    factor : float
        Positive multiplier, e.g. the one returned by ``PlateauDetector.step``.
    """
    multiplier = check_positive("learning-rate factor", factor)
    prefixes = _lr_stage_prefixes(state)
    if not prefixes:
        raise ValueError(
            "optimizer state has no 'lr_scale' entry; use an optimizer with a learning-rate stage"
        )
    for prefix in prefixes:
        state[prefix + LR_SCALE_KEY] = float(state[prefix + LR_SCALE_KEY]) * multiplier
    return state


def current_learning_rate(
    opt_or_schedule: GradientTransformation | Schedule | float, state: Mapping[str, Any] | None
) -> float:
    """Return the learning rate the NEXT update will use: ``schedule(count) * lr_scale``.

    Parameters
    ----------
    opt_or_schedule : GradientTransformation, schedule or float
        An optimizer built by this package (its ``learning_rate`` field holds the schedule), a
        schedule ``step -> lr``, or a constant learning rate.
    state : dict or None
        The optimizer state; ``None`` means a fresh one (count 0, scale 1). With several
        learning-rate stages the first one is reported.
    """
    if isinstance(opt_or_schedule, GradientTransformation):
        schedule = opt_or_schedule.learning_rate
        if schedule is None:
            raise ValueError("this optimizer has no learning-rate stage to report")
    elif callable(opt_or_schedule):
        schedule = opt_or_schedule
    else:
        schedule = constant(opt_or_schedule)
    if state is None:
        return float(schedule(0))
    prefixes = _lr_stage_prefixes(state)
    if not prefixes:
        raise ValueError(
            "optimizer state has no 'lr_scale' entry; pass the state of an optimizer with a "
            "learning-rate stage"
        )
    prefix = prefixes[0]
    return float(schedule(int(state[prefix + COUNT_KEY]))) * float(state[prefix + LR_SCALE_KEY])
