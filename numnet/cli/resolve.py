"""Turn parsed ``numnet train`` arguments into one resolved, validated configuration.

A fresh run merges flags > ``--config`` file > defaults. A resumed run starts from the settings
stored in its checkpoint ``DIR/last.npz`` (or, for a run killed before its first checkpoint, in
``DIR/config.json``: it then starts again from scratch); flags (or a config file) may only change
the settings that do not alter the model, its data or its optimiser
(:data:`~numnet.cli.config.FIXED_ON_RESUME` lists the others). ``--epochs`` may be raised. A run
killed after its last epoch but before its final files resumes by writing them. Settings of one
invocation (:data:`~numnet.cli.config.NOT_STORED`, such as ``--kernels``) are never taken from the
stored run: they are the flag's value, or the default.

``--resume`` accepts only a numnet run directory (see :mod:`numnet.cli.rundir`: its marker, or the
files only numnet writes), and validates the settings it reads there, every field once: one error
names the file, the field and what it held.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from numnet.cli.build import DEFAULT_HIDDEN_DIMS
from numnet.cli.config import (
    FIXED_ON_RESUME,
    NOT_STORED,
    OPTIONS_BY_KEY,
    defaults,
    load_config,
    merge,
    validate,
)
from numnet.cli.rundir import CONFIG_FILE, RUN_MARKER, read_run_marker
from numnet.errors import ConfigError, ModelFileError
from numnet.words import count

LAST_CHECKPOINT = "last.npz"
FINAL_FILES = ("model.npz", "confusion_matrix.csv")  # written after training, in this order


def typed_flags(args: argparse.Namespace) -> dict[str, Any]:
    """Return the settings typed as flags (the parser leaves untyped ones out of ``args``)."""
    return {key: getattr(args, key) for key in OPTIONS_BY_KEY if hasattr(args, key)}


def file_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Return the settings of the ``--config`` file, TOML or a run's config.json ({} without)."""
    return load_config(args.config) if args.config else {}


def _fill_derived(config: dict[str, Any]) -> dict[str, Any]:
    if config["hidden_dims"] is None:
        config["hidden_dims"] = list(DEFAULT_HIDDEN_DIMS[config["model"]])
    return config


def absolute_data(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with ``data`` and ``data_dir`` made absolute when they name existing paths.

    A run stores its settings: a relative ``--data train.csv`` would name another file (or none)
    when the model is evaluated or the run resumed from another directory. Dataset names
    (``digits``, ``mnist``, ...) and paths that do not exist (the loader reports them) are kept.
    """
    from numnet.data.datasets import is_dataset_name

    data = config.get("data")
    if isinstance(data, str) and not is_dataset_name(data) and Path(data).exists():
        config["data"] = str(Path(data).resolve())
    data_dir = config.get("data_dir")
    if isinstance(data_dir, str) and data_dir and Path(data_dir).is_dir():
        config["data_dir"] = str(Path(data_dir).resolve())
    return config


def fresh_config(args: argparse.Namespace) -> dict[str, Any]:
    """Resolve and validate the configuration of a new run (flags > config file > defaults).

    Returns every setting with its value; ``hidden_dims`` filled with the model family's default
    when unset; ``data`` and ``data_dir`` absolute when they name paths (:func:`absolute_data`).
    ``out_dir`` stays ``None`` when not given (the caller picks ``runs/NNN``).
    """
    config = merge(typed_flags(args), file_settings(args))
    validate(config)
    return absolute_data(_fill_derived(config))


def _read_config_json(run_dir: Path) -> dict[str, Any]:
    """The settings a run stored in ``config.json`` before it was killed (no checkpoint yet)."""
    from numnet.files import MAX_CONFIG_BYTES, read_capped

    path = run_dir / CONFIG_FILE
    # a regular file of at most MAX_CONFIG_BYTES (a run's config.json is about 1 KB): a FIFO or a
    # huge file named config.json is refused, not read
    raw = read_capped(path, f"--resume {run_dir}: {CONFIG_FILE}", ConfigError, MAX_CONFIG_BYTES)
    try:
        stored = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"--resume {run_dir}: it has no {LAST_CHECKPOINT} and its {CONFIG_FILE} is unreadable "
            f"({type(exc).__name__}); start a new run instead"
        ) from None
    if not isinstance(stored, dict):
        raise ConfigError(
            f"--resume {run_dir}: {CONFIG_FILE} holds no numnet train settings; start a new run"
        )
    return stored


def _kind_name(option: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    name = names[option.kind]
    return f"a list of {name.split(' ', 1)[1]}s" if option.many else name


def _holds_kind(option: Any, value: Any) -> bool:
    def one(item: Any) -> bool:
        if option.kind is bool:
            return isinstance(item, bool)
        if option.kind is int:
            return isinstance(item, int) and not isinstance(item, bool)
        if option.kind is float:
            return isinstance(item, int | float) and not isinstance(item, bool)
        return isinstance(item, str)

    if value is None:
        return option.default is None
    if option.many:
        return isinstance(value, list) and all(one(item) for item in value)
    return one(value)


def check_stored_settings(stored: dict[str, Any], source: Path) -> None:
    """Raise ``ConfigError`` naming ``source``, the field and its value unless every stored
    setting is usable: of its option's type, then valid as a whole (:func:`validate`).

    Only the settings a run stores are read; other keys (the stored ``data_identity``, settings
    of one invocation) are not settings and are left alone here.
    """
    kept = [key for key in OPTIONS_BY_KEY if key not in NOT_STORED]
    for key in kept:
        if key in stored and not _holds_kind(OPTIONS_BY_KEY[key], stored[key]):
            raise ConfigError(
                f"{source}: field {key!r} must be {_kind_name(OPTIONS_BY_KEY[key])}, "
                f"got {stored[key]!r:.80}; the run's settings are damaged, start a new run"
            )
    config = defaults()
    config.update({key: stored[key] for key in kept if key in stored})
    try:
        validate(config)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc} (a stored setting)") from None


def _is_legacy_unstarted(stored: dict[str, Any], run_dir: Path) -> bool:
    """A run written before the marker and killed before its first checkpoint: its
    ``config.json`` names ``run_dir`` as ``out_dir`` and holds every stored setting."""
    out_dir = stored.get("out_dir")
    kept = set(OPTIONS_BY_KEY) - set(NOT_STORED)
    return (
        isinstance(out_dir, str)
        and Path(out_dir).resolve() == run_dir.resolve()
        and kept <= set(stored)
    )


def read_stored_run(run_dir: Path) -> tuple[dict[str, Any], int]:
    """Return ``(settings, epochs_done)`` stored in ``run_dir/last.npz``.

    A run killed before its first checkpoint has only ``config.json``: its settings are returned
    with ``epochs_done = 0``, so ``--resume`` starts it again from scratch.

    Raises
    ------
    ConfigError
        ``run_dir`` is not a directory, or has neither ``last.npz`` nor a readable ``config.json``.
    ModelFileError
        ``last.npz`` is unreadable or was not written by ``numnet train``.
    """
    from numnet.serialization import read_header

    if not run_dir.is_dir():
        raise ConfigError(f"--resume {run_dir}: no such run directory; give a numnet train run dir")
    marker = read_run_marker(run_dir)
    if marker == "bad":
        raise ConfigError(
            f"--resume {run_dir}: its {RUN_MARKER} is not a numnet run marker, so this is not a "
            "numnet run directory; nothing was changed"
        )
    last = run_dir / LAST_CHECKPOINT
    if not last.is_file():
        if (run_dir / CONFIG_FILE).is_file():
            stored = _read_config_json(run_dir)
            if marker == "absent" and not _is_legacy_unstarted(stored, run_dir):
                raise ConfigError(
                    f"--resume {run_dir}: not a numnet run directory (no {RUN_MARKER} marker and "
                    f"no numnet checkpoint {LAST_CHECKPOINT}); nothing was changed, start a new "
                    "run with --out-dir instead"
                )
            check_stored_settings(stored, run_dir / CONFIG_FILE)
            return stored, 0
        raise ConfigError(
            f"--resume {run_dir}: it has no {LAST_CHECKPOINT}, so there is nothing to resume; "
            "start a new run instead"
        )
    header = read_header(last)
    stored = (
        header.get("metadata", {}).get("train_config") if header["kind"] == "checkpoint" else None
    )
    if not isinstance(stored, dict):
        raise ModelFileError(
            f"{last} holds no numnet train settings; --resume needs a run written by numnet train"
        )
    check_stored_settings(stored, last)
    epoch = header.get("epoch", 0)
    if type(epoch) is not int or epoch < 0:
        raise ModelFileError(f"{last}: field 'epoch' must be a count >= 0, got {epoch!r:.80}")
    return stored, epoch


def stored_data_identity(run_dir: Path) -> dict[str, Any] | None:
    """The data identity stored in ``run_dir/last.npz`` (None for a run written before numnet
    stored one). Raises ``ConfigError`` naming the file for a malformed one."""
    from numnet.cli.data_identity import check_identity_form
    from numnet.serialization import read_header

    last = run_dir / LAST_CHECKPOINT
    metadata = read_header(last).get("metadata", {})
    if not isinstance(metadata, dict) or "data_identity" not in metadata:
        return None
    return check_identity_form(metadata["data_identity"], str(last))


def is_finished_run(run_dir: Path) -> bool:
    """True when the run wrote its final files (``model.npz`` and, last, the confusion matrix)."""
    return all((run_dir / name).is_file() for name in FINAL_FILES)


def resume_config(
    stored: dict[str, Any],
    given: dict[str, Any],
    run_dir: Path,
    epochs_done: int,
) -> dict[str, Any]:
    """Combine a run's stored settings with the settings given when resuming it.

    Parameters
    ----------
    stored : dict
        The run's resolved settings (from its checkpoint).
    given : dict
        Settings typed on the command line or set in ``--config`` for the resumed run.
    run_dir : Path
        The run directory being resumed.
    epochs_done : int
        Epochs the checkpoint has completed; ``--epochs`` must not be lower. Equal means nothing
        is left to train: resuming then only writes the final files a killed run did not write.

    Returns
    -------
    dict
        The validated configuration to continue with.

    Raises
    ------
    ConfigError
        A setting in :data:`FIXED_ON_RESUME` differs from the stored one (all such flags are named),
        ``--out-dir`` is not ``run_dir``, or ``--epochs`` is below ``epochs_done``.
    """
    config = defaults()
    kept = set(OPTIONS_BY_KEY) - set(NOT_STORED)
    config.update({key: value for key, value in stored.items() if key in kept})
    given = absolute_data(dict(given))  # --data train.csv names the stored absolute path
    if "data" in given and "data" in stored:  # a run stored before paths were made absolute
        config["data"] = absolute_data({"data": config["data"]})["data"]
    changed = [
        OPTIONS_BY_KEY[key].flag
        for key in FIXED_ON_RESUME
        if key in given and given[key] != config[key]
    ]
    if changed:
        raise ConfigError(
            f"--resume continues the stored model and data; cannot change {', '.join(changed)} "
            "(start a new run with another --out-dir instead)"
        )
    out_dir = given.get("out_dir")
    if out_dir is not None and Path(out_dir).resolve() != run_dir.resolve():
        raise ConfigError(
            f"--out-dir {out_dir} differs from --resume {run_dir}; give only --resume"
        )
    config.update({key: value for key, value in given.items() if key not in FIXED_ON_RESUME})
    config["out_dir"] = str(run_dir)
    validate(config)
    if config["epochs"] < epochs_done:
        raise ConfigError(
            f"--epochs {config['epochs']}: {run_dir} has already trained "
            f"{count(epochs_done, 'epoch')}; "
            f"pass --epochs above {epochs_done} to train further"
        )
    return _fill_derived(config)


def resumed_config(args: argparse.Namespace) -> tuple[dict[str, Any], Path, int]:
    """Resolve ``numnet train --resume DIR``: ``(config, run_dir, epochs_done)``."""
    run_dir = Path(args.resume)
    stored, epochs_done = read_stored_run(run_dir)
    given = {**file_settings(args), **typed_flags(args)}
    return resume_config(stored, given, run_dir, epochs_done), run_dir, epochs_done
