"""Gradient transformations (optax's design): ``init(params) -> state`` and
``update(grads, state, params) -> (updates, new_state)``, composed with :func:`chain`.

Conventions
-----------
* ``params``, ``grads`` and ``updates`` are mappings ``name -> ndarray`` with the same keys
  (``"W1"``, ``"b1"``, ...). Any ``Mapping`` works, including a model's parameter view.
* ``State`` is a FLAT ``dict[str, ndarray | int | float]`` (keys such as ``"m/W1"``, ``"count"``,
  ``"lr_scale"``) so that a checkpoint can store it in an ``.npz`` file; see
  :mod:`numnet.optim.state`. :func:`chain` prefixes each part's keys with its position
  (``"0/m/W1"``, ``"1/lr_scale"``) so parts never collide.
* **Grads are consumed**: for speed, ``update`` writes the updates into the ``grads`` arrays
  (``np.multiply(g, -lr, out=g)``) and returns them. Do not reuse a ``grads`` array after passing
  it to ``update``; pass copies if you need the gradients afterwards. Moment arrays in the state
  (``m``, ``v``, momentum buffers) are also updated in place; the returned state shares them.
* :func:`apply_updates` adds the updates to the parameter arrays in place, so layers that hold
  references to those arrays see the new values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import NamedTuple

import numpy as np

from numnet.optim._flat import flat_buffer_of

Params = Mapping[str, np.ndarray]
Grads = Mapping[str, np.ndarray]
Updates = dict[str, np.ndarray]
State = dict[str, "np.ndarray | int | float"]
Schedule = Callable[[int], float]


class GradientTransformation(NamedTuple):
    """A pair of pure-ish functions that turn gradients into parameter updates.

    Attributes
    ----------
    init : callable ``(params) -> state``
        Build the initial state (zeros for moment buffers, ``count = 0``, ...).
    update : callable ``(grads, state, params) -> (updates, new_state)``
        Turn gradients into updates. ``params`` may be ``None`` for parts that do not need them.
        The ``grads`` arrays may be overwritten and returned as the updates (see module notes).
    learning_rate : schedule ``step -> lr`` or None
        The learning-rate schedule this transformation scales by (set by
        :func:`~numnet.optim.learning_rate.scale_by_learning_rate`, propagated by :func:`chain`), so
        that :func:`~numnet.optim.learning_rate.current_learning_rate` can report it. Unpack
        ``init, update = tx[:2]`` if you need tuple unpacking.
    """

    init: Callable[[Params], State]
    update: Callable[[Grads, State, Params | None], tuple[Updates, State]]
    learning_rate: Schedule | None = None


def identity() -> GradientTransformation:
    """Return the transformation that passes gradients through unchanged (empty state)."""

    def init(params: Params) -> State:
        return {}

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        return dict(grads), state

    return GradientTransformation(init, update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Compose transformations left to right: the updates of one are the grads of the next.

    Parameters
    ----------
    *transforms : GradientTransformation
        Applied in order, e.g. ``chain(clip_by_global_norm(5.0), scale_by_adam(),
        scale_by_learning_rate(1e-3))``.

    Returns
    -------
    GradientTransformation
        Its state is the union of the parts' states with each key prefixed by the part's index:
        ``"0/..."``, ``"1/..."``. Its ``learning_rate`` is the first part's that has one.
    """
    parts = tuple(transforms)
    for part in parts:
        if not isinstance(part, GradientTransformation):
            raise TypeError(
                f"chain() takes GradientTransformation objects, got {type(part).__name__}"
            )

    def init(params: Params) -> State:
        state: State = {}
        for index, part in enumerate(parts):
            for key, value in part.init(params).items():
                state[f"{index}/{key}"] = value
        return state

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        sub_states: list[State] = [{} for _ in parts]
        for key, value in state.items():
            index, _, local_key = key.partition("/")
            if not index.isdigit() or int(index) >= len(parts):
                raise ValueError(
                    f"optimizer state key {key!r} does not belong to this chain of {len(parts)} "
                    "transformations; initialise the state with this optimizer's init()"
                )
            sub_states[int(index)][local_key] = value
        updates: Mapping[str, np.ndarray] = grads
        new_state: State = {}
        for index, part in enumerate(parts):
            updates, part_state = part.update(updates, sub_states[index], params)
            for key, value in part_state.items():
                new_state[f"{index}/{key}"] = value
        if isinstance(updates, dict) and flat_buffer_of(updates) is not None:
            return updates, new_state  # keep the flat gradient dict (apply_updates' fast path)
        return dict(updates), new_state

    schedule = next((p.learning_rate for p in parts if p.learning_rate is not None), None)
    return GradientTransformation(init, update, schedule)


def apply_updates(
    params: MutableMapping[str, np.ndarray], updates: Mapping[str, np.ndarray]
) -> None:
    """Add ``updates`` to ``params`` in place: ``params[k] += updates[k]`` on the arrays themselves.

    Parameters
    ----------
    params : MutableMapping[str, ndarray]
        Parameter arrays, e.g. ``model.params``. Each array is modified in place
        (``np.add(p, u, out=p)``), so references held by layers see the change.
    updates : Mapping[str, ndarray]
        Same keys and shapes as the matching ``params`` (a subset of the keys is allowed).
    """
    flat_update = flat_buffer_of(updates)
    if flat_update is not None:
        flat_param = flat_buffer_of(params)
        if (
            flat_param is not None
            and getattr(params, "flat_layout", None) is getattr(updates, "layout", False)
            and flat_param.shape == flat_update.shape
        ):
            np.add(flat_param, flat_update, out=flat_param)  # every parameter in one call
            return
    for name, update in updates.items():
        try:
            param = params[name]
        except KeyError:
            raise KeyError(
                f"update for unknown parameter {name!r}; params have {list(params)}"
            ) from None
        np.add(param, update, out=param)
