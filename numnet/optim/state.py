"""Optimizer state <-> plain arrays, for checkpoints stored with ``np.savez`` / ``np.load``.

An optimizer state is a flat ``dict[str, ndarray | int | float]``. :func:`state_to_arrays` turns it
into ``dict[str, ndarray]`` (Python ints become 0-d int64 arrays, floats 0-d float64 arrays) plus
one entry :data:`SCALARS_KEY` listing which keys were Python scalars, so that
:func:`state_from_arrays` restores exactly the same types and values. Everything is a plain
numeric or unicode array, so the file loads with ``np.load(path, allow_pickle=False)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from numnet.optim.transform import State

SCALARS_KEY = "__scalars__"
"""Key of the unicode array listing the state keys that hold Python ``int``/``float`` values."""


def state_to_arrays(state: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Return the optimizer state as ``dict[str, ndarray]`` that ``np.savez`` can store.

    Parameters
    ----------
    state : Mapping[str, ndarray | int | float]
        An optimizer state (``tx.init(params)`` or one returned by ``tx.update``).

    Returns
    -------
    dict[str, ndarray]
        Array values copied as they are; ``int`` -> 0-d ``int64``; ``float`` -> 0-d ``float64``;
        plus ``"__scalars__"``: unicode array of the keys that were Python scalars.
    """
    if SCALARS_KEY in state:
        raise ValueError(f"optimizer state must not use the reserved key {SCALARS_KEY!r}")
    arrays: dict[str, np.ndarray] = {}
    scalar_keys: list[str] = []
    for key, value in state.items():
        if isinstance(value, bool):
            raise TypeError(f"optimizer state {key!r} is a bool; store it as an int")
        if isinstance(value, int):
            arrays[key] = np.array(value, dtype=np.int64)
            scalar_keys.append(key)
        elif isinstance(value, float):
            arrays[key] = np.array(value, dtype=np.float64)
            scalar_keys.append(key)
        elif isinstance(value, np.ndarray):
            if value.dtype == object:
                raise TypeError(f"optimizer state {key!r} is an object array; it cannot be saved")
            arrays[key] = np.array(value, copy=True)
        elif hasattr(value, "get") and hasattr(value, "shape"):  # CuPy array: bring to host
            arrays[key] = np.asarray(value.get())
        else:
            raise TypeError(
                f"optimizer state {key!r} has type {type(value).__name__}; "
                "expected an array, int or float"
            )
    arrays[SCALARS_KEY] = np.array(sorted(scalar_keys), dtype=np.str_)
    return arrays


def state_from_arrays(arrays: Mapping[str, np.ndarray]) -> State:
    """Rebuild an optimizer state from :func:`state_to_arrays`' output (or an ``np.load`` result).

    Parameters
    ----------
    arrays : Mapping[str, ndarray]
        E.g. ``dict(np.load(path, allow_pickle=False))`` restricted to the optimizer's keys. If the
        ``"__scalars__"`` entry is missing, every 0-d array is taken to be a Python scalar.

    Returns
    -------
    dict[str, ndarray | int | float]
        Arrays are copied; keys listed as scalars become ``int`` (integer dtype) or ``float``.
    """
    if SCALARS_KEY in arrays:
        scalar_keys = {str(k) for k in np.asarray(arrays[SCALARS_KEY]).reshape(-1)}
    else:
        scalar_keys = {k for k, v in arrays.items() if np.ndim(v) == 0}
    state: State = {}
    for key, value in arrays.items():
        if key == SCALARS_KEY:
            continue
        array = np.asarray(value)
        if key in scalar_keys:
            if array.ndim != 0:
                raise ValueError(
                    f"optimizer state {key!r} should be a scalar, got shape {array.shape}"
                )
            state[key] = int(array) if array.dtype.kind in "iu" else float(array)
        else:
            state[key] = np.array(array, copy=True)
    missing = scalar_keys - set(arrays)
    if missing:
        raise ValueError(f"optimizer state arrays lack the scalar entries {sorted(missing)}")
    return state
