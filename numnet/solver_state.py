"""What a :class:`~numnet.solver.Solver` saves in a checkpoint and how it is restored.

``state_dict(solver)`` gathers parameters, buffers, optimizer state, histories, RNG states (of the
Solver and of the model's dropout layers), callback states and the run configuration;
``load_state_dict(solver, state)`` puts them back so that training continues exactly. The Solver's
methods of the same names call these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from numnet.errors import ModelFileError
from numnet.serialization import assign_arrays, config_difference


def model_generators(model: Any) -> list[np.random.Generator]:
    """The random generators inside ``model`` (dropout masks), in a stable order.

    Looks at ``model.rng`` and at ``rng`` of every layer in ``model.layers`` (or
    ``model.net.layers``, ``model.network.layers``). Their states go into checkpoints so that
    resumed runs with dropout are exact.
    """
    found: list[np.random.Generator] = []
    seen: set[int] = set()

    def add(obj: Any) -> None:
        rng = getattr(obj, "rng", None)
        if isinstance(rng, np.random.Generator) and id(rng) not in seen:
            seen.add(id(rng))
            found.append(rng)

    add(model)
    containers = [model, getattr(model, "net", None), getattr(model, "network", None)]
    for container in containers:
        layers = getattr(container, "layers", None)
        if isinstance(layers, list | tuple):
            for layer in layers:
                add(layer)
    return found


def jsonable(value: Any) -> Any:
    """``value`` if it is plain JSON data, else a descriptive string (for the run configuration)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return getattr(value, "__qualname__", type(value).__name__)


def optim_arrays(solver: Any) -> dict[str, np.ndarray]:
    from numnet.optim.state import state_to_arrays

    if solver.optimizer is not None:
        return state_to_arrays(solver.opt_state)
    flat = {
        f"{name}/{key}": value
        for name, config in solver.optim_configs.items()
        for key, value in config.items()
    }
    return state_to_arrays(flat)


def load_optim_arrays(solver: Any, arrays: Mapping[str, np.ndarray]) -> None:
    from numnet.optim.state import state_from_arrays

    state = state_from_arrays(arrays)
    if solver.optimizer is not None:
        expected = set(solver.opt_state)
        if set(state) != expected:
            raise ModelFileError(
                "checkpoint optimizer state does not match this optimizer (keys "
                f"{sorted(set(state) ^ expected)[:4]} differ); resume with the same update_rule"
            )
        solver.opt_state = state
        return
    configs: dict[str, dict[str, Any]] = {name: {} for name in solver.model.params}
    for key, value in state.items():
        name, _, field = key.partition("/")
        if name not in configs:
            raise ModelFileError(
                f"checkpoint optimizer state names parameter {name!r} that the model lacks"
            )
        configs[name][field] = value
    solver.optim_configs = configs


def run_config(solver: Any) -> dict[str, Any]:
    """The settings of ``solver``'s run as JSON data (stored in checkpoints)."""
    return {
        "update_rule": solver.update_rule_name,
        "optimizer_kind": "rule" if solver.optimizer is None else "transformation",
        "optim_config": jsonable(solver.optim_config),
        "lr_decay": solver.lr_decay,
        "batch_size": solver.batch_size,
        "num_epochs": solver.num_epochs,
        "num_train_samples": solver.num_train_samples,
        "num_val_samples": solver.num_val_samples,
        "seed": solver.seed,
        "check_finite": solver.check_finite,
        "augment": jsonable(solver.augment),
        "num_train": int(solver.X_train.shape[0]),
    }


def state_dict(solver: Any) -> dict[str, Any]:
    """Everything needed to continue ``solver``'s training exactly (see ``numnet.serialization``).

    The arrays are the live ones (``save_checkpoint`` copies them); copy them to keep a
    snapshot.
    """
    meta = {
        "model_config": solver._config,
        "epoch": solver.epoch,
        "iteration": solver.iteration,
        "best_val_acc": solver.best_val_acc,
        "loss_history": solver.loss_history,
        "train_acc_history": solver.train_acc_history,
        "val_acc_history": solver.val_acc_history,
        "history": solver.history,
        "lr_scale": solver._lr_scale,
        "rng": {
            "train": solver._rng.bit_generator.state,
            "eval": solver._eval_rng.bit_generator.state,
            "model": [g.bit_generator.state for g in model_generators(solver.model)],
        },
        "callbacks": solver.callbacks.get_states(),
        "run_config": run_config(solver),
    }
    return {
        "params": dict(solver.model.params),
        "buffers": dict(solver._buffers()),
        "optim": optim_arrays(solver),
        "best_params": solver.best_params,
        "best_buffers": solver.best_buffers,
        "meta": meta,
    }


# The metadata fields load_state_dict restores (their types are checked when the file is read, by
# numnet.file_values.check_metadata).
RESTORED_FIELDS = (
    "model_config",
    "epoch",
    "iteration",
    "best_val_acc",
    "loss_history",
    "train_acc_history",
    "val_acc_history",
    "history",
    "rng",
)


def load_state_dict(solver: Any, state: Mapping[str, Any]) -> None:
    """Restore ``solver`` from :func:`state_dict` / ``load_checkpoint`` (same model config)."""
    meta = state["meta"]
    missing = [field for field in RESTORED_FIELDS if field not in meta]
    missing += [f"rng.{key}" for key in ("train", "eval") if key not in meta.get("rng", {})]
    if missing:
        raise ModelFileError(
            f"checkpoint metadata lacks {missing}; it was not written by Solver.state_dict, "
            "resume from last.npz or best.npz written by the Checkpoint callback"
        )
    difference = config_difference(meta["model_config"], solver._config)
    if difference is not None:
        raise ModelFileError(
            f"checkpoint is for a different model: {difference}; build the same model to resume"
        )
    # load_checkpoint validated every field's type (numnet.file_values.check_metadata)
    kind = meta.get("run_config", {}).get("optimizer_kind")
    mine = "rule" if solver.optimizer is None else "transformation"
    if kind is not None and kind != mine:
        saved_rule = meta["run_config"].get("update_rule")
        raise ModelFileError(
            f"checkpoint was trained with update_rule {saved_rule!r} ({kind}); resume with it"
        )
    assign_arrays(solver.model.params, state["params"], "checkpoint parameters")
    buffers = getattr(solver.model, "buffers", None)
    if buffers is not None:
        assign_arrays(buffers, state.get("buffers", {}), "checkpoint buffers")
    load_optim_arrays(solver, state["optim"])
    solver.best_params = {k: np.array(v, copy=True) for k, v in state["best_params"].items()}
    solver.best_buffers = {k: np.array(v, copy=True) for k, v in state["best_buffers"].items()}
    solver.epoch = int(meta["epoch"])
    solver.iteration = int(meta["iteration"])
    solver.best_val_acc = float(meta["best_val_acc"])
    solver.loss_history = [float(v) for v in meta["loss_history"]]
    solver.train_acc_history = [float(v) for v in meta["train_acc_history"]]
    solver.val_acc_history = [float(v) for v in meta["val_acc_history"]]
    solver.history = [dict(record) for record in meta["history"]]
    solver._lr_scale = float(meta.get("lr_scale", 1.0))
    rng = meta["rng"]
    generators = model_generators(solver.model)
    pairs = [(solver._rng, rng["train"], "rng.train"), (solver._eval_rng, rng["eval"], "rng.eval")]
    if len(rng.get("model", [])) == len(generators):
        pairs += [
            (generator, saved, f"rng.model[{i}]")
            for i, (generator, saved) in enumerate(zip(generators, rng["model"], strict=True))
        ]
    for generator, saved, field in pairs:
        try:
            generator.bit_generator.state = saved
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelFileError(
                f"checkpoint metadata field {field!r} is not a valid state of this random "
                f"generator ({type(exc).__name__}: {exc}); the file is corrupt or was edited"
            ) from None
    try:
        solver.callbacks.set_states(meta.get("callbacks", {}))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelFileError(
            f"checkpoint metadata field 'callbacks' holds a state the callbacks cannot use "
            f"({type(exc).__name__}: {exc}); the file is corrupt or was edited"
        ) from None
    solver.improved = False
    solver.stop_training = False
