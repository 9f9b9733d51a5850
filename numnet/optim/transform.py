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
* **Updates are pure**: ``update`` reads ``grads``, ``state`` and ``params`` and never writes into
  them; it returns new update arrays (the caller owns them) and a new state dict whose arrays are
  new too. So the same gradients can be fed to two optimizers, and an old state stays a valid
  snapshot. This is the reference a reader checks; the fused version that updates a flat model
  and its state in place, one NumPy call per stage, is the kernel
  :mod:`numnet.kernels.flat_update`, which the Solver uses when the model is flat.
* :func:`apply_updates` adds the updates to the parameter arrays in place, so layers that hold
  references to those arrays see the new values.
* ``spec`` describes what a transformation computes (:class:`Stage`: the kind of each part, its
  hyperparameters and its state-key prefix). It is data, so that another implementation of the
  same arithmetic (the fused kernel) can be built from it without this package knowing about it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

Params = Mapping[str, np.ndarray]
Grads = Mapping[str, np.ndarray]
Updates = dict[str, np.ndarray]
State = dict[str, "np.ndarray | int | float"]
Schedule = Callable[[int], float]


class Stage(NamedTuple):
    """What one elementary transformation computes, as data.

    Attributes
    ----------
    kind : str
        The name of the factory that built it, e.g. ``"scale_by_adam"``,
        ``"clip_by_global_norm"``, ``"scale_by_learning_rate"``.
    hyper : Mapping[str, Any]
        Its hyperparameters under the factory's argument names (a learning-rate stage holds its
        ``schedule`` callable). Read-only.
    prefix : str
        Prefix of its state keys inside the whole state (``""`` alone, ``"1/"`` as the second part
        of a chain, ``"0/1/"`` nested).
    """

    kind: str
    hyper: Mapping[str, Any]
    prefix: str = ""


def stage(kind: str, **hyper: Any) -> tuple[Stage, ...]:
    """The one-stage spec of an elementary transformation (hyperparameters frozen read-only)."""
    return (Stage(kind, MappingProxyType(dict(hyper))),)


class GradientTransformation(NamedTuple):
    """A pair of pure functions that turn gradients into parameter updates.

    Attributes
    ----------
    init : callable ``(params) -> state``
        Build the initial state (zeros for moment buffers, ``count = 0``, ...).
    update : callable ``(grads, state, params) -> (updates, new_state)``
        Turn gradients into updates. ``params`` may be ``None`` for parts that do not need them.
        Leaves its arguments untouched (see the module notes).
    learning_rate : schedule ``step -> lr`` or None
        The learning-rate schedule this transformation scales by (set by
        :func:`~numnet.optim.learning_rate.scale_by_learning_rate`, propagated by :func:`chain`), so
        that :func:`~numnet.optim.learning_rate.current_learning_rate` can report it. Unpack
        ``init, update = tx[:2]`` if you need tuple unpacking.
    spec : tuple of Stage or None
        What it computes, stage by stage in order (see :class:`Stage`); ``None`` for a
        transformation written by hand, which only its own ``update`` can run.
    """

    init: Callable[[Params], State]
    update: Callable[[Grads, State, Params | None], tuple[Updates, State]]
    learning_rate: Schedule | None = None
    spec: tuple[Stage, ...] | None = None


def copy_updates(grads: Grads) -> Updates:
    """New arrays equal to ``grads``: what a stage returns when it leaves the values as they are."""
    return {name: np.array(grad, copy=True) for name, grad in grads.items()}


def identity() -> GradientTransformation:
    """Return the transformation that passes gradients through unchanged (empty state)."""

    def init(params: Params) -> State:
        return {}

    def update(grads: Grads, state: State, params: Params | None = None) -> tuple[Updates, State]:
        return copy_updates(grads), dict(state)

    return GradientTransformation(init, update, spec=stage("identity"))


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
        ``"0/..."``, ``"1/..."``. Its ``learning_rate`` is the first part's that has one; its
        ``spec`` the parts' stages in order with their prefixes extended (``None`` if a part has
        none).
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
        if updates is grads:  # no parts: still hand back arrays the caller owns
            updates = copy_updates(grads)
        return dict(updates), new_state

    schedule = next((p.learning_rate for p in parts if p.learning_rate is not None), None)
    spec: tuple[Stage, ...] | None = ()
    for index, part in enumerate(parts):
        if part.spec is None or spec is None:
            spec = None
            continue
        spec += tuple(s._replace(prefix=f"{index}/{s.prefix}") for s in part.spec)
    return GradientTransformation(init, update, schedule, spec)


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
    for name, update in updates.items():
        try:
            param = params[name]
        except KeyError:
            raise KeyError(
                f"update for unknown parameter {name!r}; params have {list(params)}"
            ) from None
        np.add(param, update, out=param)
