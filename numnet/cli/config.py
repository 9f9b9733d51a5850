"""Training configuration: one table of options, TOML loading, merging and validation.

The table :data:`TRAIN_OPTIONS` is the single source of truth for ``numnet train``: the argparse
flags, the keys accepted in a ``--config`` TOML file and the defaults all come from it. Precedence
is command-line flags > config file > defaults.

Config keys use underscores (``hidden_dims``); a TOML file may spell them with dashes too
(``hidden-dims``), the same as the long flag names.

Validation has two layers. This module checks what only the command line knows: the type of each
value (a finite number, a non-empty list, one of the choices), the settings no library constructor
receives (``--epochs`` of at least one, ``--val-fraction``, ``--max-train-samples``, paths) and
which flags apply together (``--lr-decay`` with a cosine schedule, ``--warmup-epochs``). The value
ranges of everything handed to a model, optimizer, schedule or Solver are checked by that
constructor alone: :func:`validate` builds them (see :func:`numnet.cli.build.check_settings`) and
reports their error as one line naming the flag.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numnet.errors import ConfigError

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "warmup-cosine", "exponential")
MODELS = ("mlp", "cnn")
NORMALIZATIONS = ("none", "batchnorm", "layernorm")
INITS = ("he", "xavier")
# Which layer code runs: "fast" (the kernels the model's plan chooses) or "reference" (the plain
# NumPy functions of numnet.functional). A per-invocation choice, never stored in model files.
KERNELS = ("fast", "reference")


@dataclass(frozen=True)
class Option:
    """One ``numnet train`` setting.

    Attributes
    ----------
    key : str
        Config key with underscores, e.g. ``"hidden_dims"``; the flag is ``--hidden-dims``.
    kind : type
        ``int``, ``float``, ``str`` or ``bool`` (the type of one value).
    default : Any
        Value used when neither a flag nor the config file sets it (``None``: not set).
    help : str
        Help text, without the default (the parser appends it).
    many : bool
        The value is a non-empty list of ``kind`` (``nargs="+"``).
    choices : tuple of str or None
        Allowed values for a string option.
    metavar : str or None
        Name of the value in ``--help``.
    """

    key: str
    kind: type
    default: Any
    help: str
    many: bool = False
    choices: tuple[str, ...] | None = None
    metavar: str | None = None

    @property
    def flag(self) -> str:
        """The long command-line flag, e.g. ``--hidden-dims``."""
        return "--" + self.key.replace("_", "-")


TRAIN_OPTIONS: tuple[Option, ...] = (
    Option(
        "data",
        str,
        "digits",
        "dataset name (digits, fashion-mnist) or a CSV/IDX path",
        metavar="NAME|PATH",
    ),
    Option(
        "data_dir",
        str,
        None,
        "directory holding the mnist/fashion-mnist IDX files (default: $NUMNET_DATA, then "
        "/usr/share/datasets/<name>); nothing is downloaded",
        metavar="DIR",
    ),
    Option("model", str, "mlp", "model family", choices=MODELS),
    Option(
        "hidden_dims",
        int,
        None,
        "sizes of the hidden fully connected layers (default: 256 128 for mlp, 128 for cnn)",
        many=True,
        metavar="N",
    ),
    Option(
        "conv_channels",
        int,
        [32, 64],
        "output channels of each conv block (cnn only)",
        many=True,
        metavar="C",
    ),
    Option("epochs", int, 30, "number of passes over the training data", metavar="N"),
    Option("batch_size", int, 64, "minibatch size", metavar="B"),
    Option("optimizer", str, "adam", "update rule", choices=OPTIMIZERS),
    Option("lr", float, 1e-3, "learning rate", metavar="LR"),
    Option(
        "lr_decay",
        float,
        1.0,
        "multiply the learning rate by D after every epoch; with the default constant schedule "
        "this makes it a step schedule, exponential applies the factor smoothly at each update, "
        "cosine schedules refuse it; 1 disables",
        metavar="D",
    ),
    Option("schedule", str, "constant", "learning rate schedule", choices=SCHEDULES),
    Option("warmup_epochs", int, 0, "epochs of linear warm-up (warmup-cosine)", metavar="N"),
    Option("momentum", float, 0.9, "momentum of the momentum and nesterov optimizers", metavar="M"),
    Option(
        "weight_decay",
        float,
        0.0,
        "decoupled weight decay (adamw) or L2 added to gradients",
        metavar="WD",
    ),
    Option(
        "clip_norm", float, 0.0, "clip gradients to this global norm; 0 disables", metavar="NORM"
    ),
    Option(
        "reg", float, 0.0, "L2 regularisation strength: loss += 0.5 * reg * sum(W**2)", metavar="R"
    ),
    Option(
        "label_smoothing",
        float,
        0.0,
        "softmax targets (1 - eps) * onehot + eps / classes instead of onehot; 0 disables",
        metavar="EPS",
    ),
    Option(
        "dropout",
        float,
        0.7,
        "dropout KEEP probability (CS231n convention, not PyTorch's drop rate): 0.8 drops 20 %% "
        "of the units; 1 disables",
        metavar="P",
    ),
    Option(
        "normalization",
        str,
        "none",
        "normalisation layer after each hidden layer",
        choices=NORMALIZATIONS,
    ),
    Option("init", str, "he", "weight initialisation", choices=INITS),
    Option(
        "augment",
        bool,
        False,
        "random shifts of the training images by up to 1/14 of their width, plus random "
        "horizontal flips for fashion-mnist",
    ),
    Option(
        "val_fraction",
        float,
        0.1,
        "fraction of the training data held out for validation",
        metavar="F",
    ),
    Option(
        "early_stopping",
        int,
        0,
        "stop after this many epochs without validation improvement; 0 disables",
        metavar="PATIENCE",
    ),
    Option(
        "seed",
        int,
        0,
        "seed of every random choice (initialisation, shuffling, split)",
        metavar="S",
    ),
    Option("out_dir", str, None, "run directory (default: the next free runs/NNN)", metavar="DIR"),
    Option(
        "max_train_samples", int, None, "use at most N training samples (quick runs)", metavar="N"
    ),
    Option("quiet", bool, False, "no progress bar or per-epoch lines"),
    Option(
        "plots",
        bool,
        True,
        "draw the .png pictures (curves, confusion matrix, misclassified images); --no-plots "
        "writes the CSV files only (quicker: sweeps, scripts)",
    ),
    Option(
        "kernels",
        str,
        "fast",
        "layer code: the fast kernels, or the plain NumPy reference functions (slower; for "
        "checking a result)",
        choices=KERNELS,
    ),
    Option(  # data-parallel runs (numnet.cli.parallel); one process ignores it
        "sync_batchnorm",
        bool,
        True,
        "under mpiexec, batch norm uses the statistics of the whole global batch, as one process "
        "does; --no-sync-batchnorm uses each rank's share",
    ),
)

OPTIONS_BY_KEY: dict[str, Option] = {option.key: option for option in TRAIN_OPTIONS}

# Settings that define the model or the data it is trained on: a resumed run must keep them.
FIXED_ON_RESUME: tuple[str, ...] = (
    "data",
    "model",
    "hidden_dims",
    "conv_channels",
    "batch_size",
    "optimizer",
    "lr",
    "lr_decay",
    "schedule",
    "warmup_epochs",
    "momentum",
    "weight_decay",
    "clip_norm",
    "reg",
    "label_smoothing",
    "dropout",
    "normalization",
    "init",
    "augment",
    "val_fraction",
    "seed",
    "max_train_samples",
)

# Settings of one invocation only: left out of model files and checkpoints, and not taken from a
# resumed run's stored settings (``--kernels`` may differ on ``--resume``) or its config.json.
NOT_STORED: tuple[str, ...] = ("kernels", "sync_batchnorm", "plots")


def defaults() -> dict[str, Any]:
    """Return a fresh dict of every option's default value (lists copied)."""
    return {
        o.key: list(o.default) if o.many and o.default is not None else o.default
        for o in TRAIN_OPTIONS
    }


def _coerce(option: Option, value: Any, source: str) -> Any:
    """Check the type of one TOML value and return it as the option's Python type."""
    what = f"{source}: '{option.key}'"

    def one(item: Any) -> Any:
        if option.kind is bool:
            if isinstance(item, bool):
                return item
            raise ConfigError(f"{what} must be true or false, got {item!r}")
        if isinstance(item, bool):
            raise ConfigError(f"{what} must be a {option.kind.__name__}, got {item!r}")
        if option.kind is int:
            if isinstance(item, int):
                return item
            if isinstance(item, float) and item.is_integer():
                return int(item)
            raise ConfigError(f"{what} must be an integer, got {item!r}")
        if option.kind is float:
            if isinstance(item, int | float):
                return float(item)
            raise ConfigError(f"{what} must be a number, got {item!r}")
        if isinstance(item, str):
            return item
        raise ConfigError(f"{what} must be a string, got {item!r}")

    if option.many:
        if not isinstance(value, list):
            value = [value]
        return [one(item) for item in value]
    if isinstance(value, list):
        raise ConfigError(f"{what} takes one value, got the list {value!r}")
    return one(value)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML run configuration and return its settings keyed like :data:`OPTIONS_BY_KEY`.

    Parameters
    ----------
    path : str or Path
        File with flat ``key = value`` lines; keys are long flag names with ``-`` or ``_``.

    Returns
    -------
    dict
        Only the keys the file sets, type-checked (ints, floats, lists as the options expect).

    Raises
    ------
    ConfigError
        The file is missing, unreadable or not valid TOML, or holds an unknown key or a value of
        the wrong type.
    """
    from numnet.files import MAX_CONFIG_BYTES, read_capped

    path = Path(path)
    try:
        raw = tomllib.loads(
            read_capped(path, "config file", ConfigError, MAX_CONFIG_BYTES).decode()
        )
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"config file {path} is not valid TOML: {reason}") from None
    settings: dict[str, Any] = {}
    for raw_key, value in raw.items():
        key = raw_key.replace("-", "_")
        if key in ("config", "resume"):
            raise ConfigError(
                f"{path}: '{raw_key}' cannot be set in a config file; "
                f"pass --{key} on the command line"
            )
        if key not in OPTIONS_BY_KEY:
            raise ConfigError(
                f"{path}: unknown key '{raw_key}'; see `numnet train --help` for valid settings"
            )
        if key in settings:
            raise ConfigError(f"{path}: '{raw_key}' is set twice (with '-' and with '_')")
        settings[key] = _coerce(OPTIONS_BY_KEY[key], value, str(path))
    return settings


# Keys of a run's config.json that are not taken by ``--config``: where the run wrote its files (a
# new run needs its own directory), what it read (the data are read again and identified anew)
# and the settings of one invocation.
RUN_ONLY_KEYS: tuple[str, ...] = ("out_dir", "data_identity", *NOT_STORED)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read ``--config``: a TOML file, or a run's ``config.json`` (the file or its run directory).

    A ``config.json`` (JSON: its name ends in ``.json`` or its text starts with ``{``) gives every
    setting the run resolved, so ``--config runs/001/config.json`` trains the same model on the
    same data again; :data:`RUN_ONLY_KEYS` are left out. Flags still win over the file.
    """
    from numnet.files import MAX_CONFIG_BYTES, read_capped

    path = Path(path)
    if path.is_dir() and (path / "config.json").is_file():
        path = path / "config.json"
    raw = read_capped(path, "config file", ConfigError, MAX_CONFIG_BYTES)
    if path.suffix.lower() == ".json" or raw.lstrip()[:1] == b"{":
        return _json_settings(raw, path)
    return load_toml(path)


def _json_settings(raw: bytes, path: Path) -> dict[str, Any]:
    """The settings of a run's ``config.json`` (see :func:`load_config`), type-checked."""
    import json

    try:
        stored = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"config file {path} is not valid JSON: {reason}") from None
    if not isinstance(stored, dict):
        raise ConfigError(f"config file {path} holds no settings (a JSON object of them)")
    settings: dict[str, Any] = {}
    for key, value in stored.items():
        if key in RUN_ONLY_KEYS:
            continue
        if key not in OPTIONS_BY_KEY:
            raise ConfigError(
                f"{path}: unknown key '{key}'; see `numnet train --help` for valid settings"
            )
        option = OPTIONS_BY_KEY[key]
        if value is None and option.default is None:
            continue  # "not set", as the run had it
        settings[key] = _coerce(option, value, str(path))
    return settings


def merge(flags: dict[str, Any], file_settings: dict[str, Any]) -> dict[str, Any]:
    """Resolve the configuration: ``flags`` > ``file_settings`` > defaults.

    Parameters
    ----------
    flags : dict
        Settings given on the command line (only the flags the user typed).
    file_settings : dict
        Settings from the ``--config`` file.

    Returns
    -------
    dict
        Every key of :data:`TRAIN_OPTIONS` with its resolved value.
    """
    config = defaults()
    config.update(file_settings)
    config.update(flags)
    return config


def _check(condition: bool, key: str, message: str, value: Any) -> None:
    if not condition:
        flag = OPTIONS_BY_KEY[key].flag
        raise ConfigError(f"{flag} {message}, got {value!r}")


def check_types(config: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the flag unless every value has its option's form.

    A choice option holds one of its choices, a list option at least one value (as ``nargs="+"``
    asks on the command line) and a number option a finite number: argparse lets ``nan`` and
    ``inf`` through ``float``, and a TOML file can hold an empty list.
    """
    for key, option in OPTIONS_BY_KEY.items():
        value = config[key]
        if option.choices is not None and value not in option.choices:
            allowed = ", ".join(option.choices)
            raise ConfigError(f"{option.flag} must be one of {allowed}, got {value!r}")
        if option.many and value is not None:
            _check(len(value) > 0, key, "needs at least one value", value)
        if option.kind is float and value is not None:
            _check(math.isfinite(value), key, "must be a finite number", value)


def check_cli_rules(config: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the flag for a setting only the command line checks.

    These settings reach no library constructor as given (``--epochs`` must train at least one
    epoch, where the Solver accepts 0; the split and the paths are used before any model exists),
    or say which flags apply together.
    """
    c = config
    _check(c["epochs"] >= 1, "epochs", "must be >= 1", c["epochs"])
    _check(0 <= c["val_fraction"] < 1, "val_fraction", "must be in [0, 1)", c["val_fraction"])
    if c["max_train_samples"] is not None:
        _check(
            c["max_train_samples"] >= 1, "max_train_samples", "must be >= 1", c["max_train_samples"]
        )
    if c["schedule"] in ("cosine", "warmup-cosine"):
        _check(
            c["lr_decay"] == 1.0,
            "lr_decay",
            f"does not apply to --schedule {c['schedule']}; leave it at 1",
            c["lr_decay"],
        )
    if c["warmup_epochs"]:
        _check(
            c["schedule"] == "warmup-cosine",
            "warmup_epochs",
            "needs --schedule warmup-cosine",
            c["warmup_epochs"],
        )
    for key in ("data", "data_dir", "out_dir"):
        if c[key] is not None:
            _check(c[key] != "", key, "must not be empty", c[key])


def validate(config: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` (one line naming the setting) unless every value is usable.

    Checks the types and the command line's own rules here, then builds a small model, the
    optimizer and schedule, and a Solver from the settings, so that their constructors judge every
    value they receive (nothing is written; the model is the configured one on a placeholder
    input, which keeps it cheap).

    Parameters
    ----------
    config : dict
        A resolved configuration from :func:`merge`.
    """
    from numnet.cli.build import check_settings

    check_types(config)
    check_cli_rules(config)
    check_settings(config)
