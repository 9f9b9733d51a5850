"""The values inside a model or checkpoint file, validated once before anything uses them.

A file from outside is untrusted twice: its *bytes* (``numnet.serialization`` checks the archive)
and its *values*. The JSON metadata is read by ``int(...)``, ``.get(...)`` and arithmetic all over
numnet, and the model config decides how much memory building the model allocates. So every field
is checked here, once, right after the JSON is parsed: a wrong type ends in one
:class:`~numnet.errors.ModelFileError` naming the file, the field and what it held, and a model
config is compared with the arrays actually stored *before* a model is built from it (a config
asking for more weights than the file holds was edited, and building it could exhaust memory).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from numnet.errors import ModelFileError

__all__ = ["check_config_size", "check_metadata"]

_SHOWN = 60


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _fail(target: Path, field: str, value: Any, expected: str) -> ModelFileError:
    return ModelFileError(
        f"{target}: metadata field {field!r} holds {_shown(value)} ({type(value).__name__}), "
        f"expected {expected}; the file is corrupt or was edited, re-create it with numnet"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _list_of(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(test(v) for v in value)


def _dict(value: Any) -> bool:
    return isinstance(value, dict)


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _rng_state(value: Any) -> bool:
    return _dict(value) and _str(value.get("bit_generator")) and _dict(value.get("state"))


# field -> (check, what it must hold, required). A checkpoint's solver fields are optional here (a
# checkpoint written through the API may hold a partial state); Solver.load_state_dict requires
# the ones it restores (numnet.solver_state.RESTORED_FIELDS).
_COMMON: dict[str, tuple[Callable[[Any], bool], str, bool]] = {
    "numnet_version": (_str, "a version string", False),
    "metadata": (_dict, "a JSON object", False),
}
_MODEL_METADATA: dict[str, tuple[Callable[[Any], bool], str, bool]] = {
    "class_names": (_list_of(_str), "a list of strings", False),
    "preprocessing": (_dict, "a JSON object", False),
}
_CHECKPOINT: dict[str, tuple[Callable[[Any], bool], str, bool]] = {
    "epoch": (_count, "an integer >= 0", False),
    "iteration": (_count, "an integer >= 0", False),
    "best_val_acc": (_is_number, "a number", False),
    "loss_history": (_list_of(_is_number), "a list of numbers", False),
    "train_acc_history": (_list_of(_is_number), "a list of numbers", False),
    "val_acc_history": (_list_of(_is_number), "a list of numbers", False),
    "history": (_list_of(_dict), "a list of JSON objects", False),
    "lr_scale": (_is_number, "a number", False),
    "rng": (_dict, "a JSON object", False),
    "callbacks": (
        lambda v: _dict(v) and all(_dict(s) for s in v.values()),
        "a JSON object of JSON objects",
        False,
    ),
    "run_config": (_dict, "a JSON object", False),
}
_RNG: dict[str, tuple[Callable[[Any], bool], str, bool]] = {
    "train": (_rng_state, "a generator state {bit_generator, state}", False),
    "eval": (_rng_state, "a generator state {bit_generator, state}", False),
    "model": (_list_of(_rng_state), "a list of generator states", False),
}
_RUN_CONFIG: dict[str, tuple[Callable[[Any], bool], str, bool]] = {
    "update_rule": (lambda v: v is None or _str(v), "a string", False),
    "optimizer_kind": (
        lambda v: v in ("rule", "transformation"),
        "'rule' or 'transformation'",
        False,
    ),
}


def _check_fields(
    target: Path,
    record: Mapping[str, Any],
    schema: Mapping[str, tuple[Callable[[Any], bool], str, bool]],
    prefix: str = "",
) -> None:
    for field, (test, expected, required) in schema.items():
        if field not in record:
            if required:
                raise ModelFileError(
                    f"{target}: metadata field {prefix + field!r} is missing; the file is corrupt "
                    "or was edited, re-create it with numnet"
                )
            continue
        if not test(record[field]):
            raise _fail(target, prefix + field, record[field], expected)


def check_metadata(target: Path, meta: Mapping[str, Any]) -> None:
    """Raise ModelFileError unless every metadata field numnet reads holds the right type.

    ``format``, ``kind`` and ``model_config`` are checked by the caller first; this checks the rest
    for the file's kind (a checkpoint's epoch, iteration, histories, RNG states, callback states and
    run configuration; a model's class names and preprocessing record).
    """
    _check_fields(target, meta, _COMMON)
    if meta.get("kind") == "model":
        _check_fields(target, meta.get("metadata", {}), _MODEL_METADATA, "metadata.")
        return
    _check_fields(target, meta, _CHECKPOINT)
    _check_fields(target, meta.get("rng", {}), _RNG, "rng.")
    _check_fields(target, meta.get("run_config", {}), _RUN_CONFIG, "run_config.")


# --------------------------------------------------------------------------------------------------
# model config against the stored arrays
# --------------------------------------------------------------------------------------------------


def _positive(value: Any) -> bool:
    return _is_int(value) and value > 0


def _per_block(value: Any, blocks: int) -> list[Any] | None:
    values = value if isinstance(value, list) else [value] * blocks
    return values if len(values) == blocks else None


def _fc_weights(config: Mapping[str, Any]) -> int | None:
    """Weight values a FullyConnectedNet built from ``config`` allocates (None: the constructor
    will refuse the config itself)."""
    hidden, input_dim, classes = (
        config.get(k) for k in ("hidden_dims", "input_dim", "num_classes")
    )
    if not (isinstance(hidden, list) and all(map(_positive, [*hidden, input_dim, classes]))):
        return None
    dims = [input_dim, *hidden, classes]
    return sum(a * b for a, b in zip(dims[:-1], dims[1:], strict=True))


def _conv_weights(config: Mapping[str, Any]) -> int | None:
    """Weight values a ConvNet built from ``config`` allocates (None: the constructor refuses)."""
    input_dim, channels = config.get("input_dim", [1, 28, 28]), config.get("conv_channels")
    hidden, classes = config.get("hidden_dims", [128]), config.get("num_classes", 10)
    sizes = [*(input_dim if isinstance(input_dim, list) else [None])]
    if not (isinstance(channels, list) and isinstance(hidden, list) and len(sizes) == 3):
        return None
    if not all(map(_positive, [*sizes, *channels, *hidden, classes])):
        return None
    blocks = len(channels)
    settings = [
        _per_block(config.get(key, default), blocks)
        for key, default in (("kernel_size", 3), ("stride", 1), ("pad", 1), ("pool_size", 2))
    ]
    if any(s is None for s in settings):
        return None
    depth, height, width = sizes
    total = 0
    for index, filters in enumerate(channels):
        k, s, p, pool = (setting[index] for setting in settings)  # type: ignore[index]
        if not (_positive(k) and _positive(s) and _is_int(p) and p >= 0):
            return None
        if pool is not None and not _is_int(pool):
            return None
        total += filters * depth * k * k
        if height + 2 * p < k or width + 2 * p < k:
            return None
        height, width = 1 + (height + 2 * p - k) // s, 1 + (width + 2 * p - k) // s
        if pool is not None and pool > 1:
            if height < pool or width < pool:
                return None
            height, width = 1 + (height - pool) // pool, 1 + (width - pool) // pool
        depth = filters
    dims = [depth * height * width, *hidden, classes]
    return total + sum(a * b for a, b in zip(dims[:-1], dims[1:], strict=True))


def _two_layer_weights(config: Mapping[str, Any]) -> int | None:
    """TwoLayerNet is a FullyConnectedNet with one hidden layer of ``hidden_dim``."""
    return _fc_weights({**config, "hidden_dims": [config.get("hidden_dim")]})


def _three_layer_conv_weights(config: Mapping[str, Any]) -> int | None:
    """ThreeLayerConvNet is a one-block ConvNet: 'same' padding, 2x2 pool, one hidden layer."""
    size = config.get("filter_size")
    if not _positive(size):
        return None
    return _conv_weights(
        {
            "input_dim": config.get("input_dim"),
            "conv_channels": [config.get("num_filters")],
            "kernel_size": size,
            "stride": 1,
            "pad": (size - 1) // 2,
            "pool_size": 2,
            "hidden_dims": [config.get("hidden_dim")],
            "num_classes": config.get("num_classes"),
        }
    )


_SIZE_KEYS = (
    "input_dim",
    "conv_channels",
    "kernel_size",
    "stride",
    "pad",
    "pool_size",
    "hidden_dims",
    "num_classes",
    "hidden_dim",
    "num_filters",
    "filter_size",
)
_WEIGHTS: dict[str, Callable[[Mapping[str, Any]], int | None]] = {
    "FullyConnectedNet": _fc_weights,
    "ConvNet": _conv_weights,
    "TwoLayerNet": _two_layer_weights,
    "ThreeLayerConvNet": _three_layer_conv_weights,
}


def _ints(value: Any, path: str) -> list[tuple[str, int]]:
    if _is_int(value):
        return [(path, value)]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _ints(v, f"{path}[{i}]")]
    return []


def check_config_size(target: Path, config: Mapping[str, Any], arrays: Mapping[str, Any]) -> None:
    """Raise ModelFileError if building ``config`` would allocate more than the file stores.

    Every weight a model allocates is stored in the file's ``params/`` arrays, so an honest config
    never asks for more weight values than those arrays hold. For the built-in classes the exact
    count is computed from the config without building anything; for any other class each size in
    the config is bounded by the stored values (a layer cannot be wider than all its weights).
    """
    stored = sum(
        math.prod(value.shape) for key, value in arrays.items() if key.startswith("params/")
    )
    estimate = _WEIGHTS.get(str(config.get("class")))
    if estimate is not None:
        needed = estimate(config)
        if needed is not None and needed > stored:
            sizes = ", ".join(f"{key}={_shown(config[key])}" for key in _SIZE_KEYS if key in config)
            raise ModelFileError(
                f"{target}: model_config ({sizes}) describes a model with {needed} "
                f"weights but the file stores {stored} parameter values; the config was edited "
                "or the file is corrupt, re-create it with numnet"
            )
        return
    sizes = [
        item
        for key, v in config.items()
        if key != "seed"
        for item in _ints(v, f"model_config.{key}")
    ]
    for name, value in sizes:
        if value > max(stored, 1):
            raise ModelFileError(
                f"{target}: {name} holds {value}, more than the {stored} parameter values the "
                "file stores; the config was edited or the file is corrupt, re-create it"
            )
