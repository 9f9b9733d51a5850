"""The search space of ``numnet sweep``: a TOML (or YAML) file mapping train flags to distributions.

Each key is a ``numnet train`` flag name (``lr`` or ``hidden-dims``, with ``-`` or ``_``); its value
is a table:

.. code-block:: toml

    [lr]                      # a float flag: float distribution
    low = 1e-4
    high = 1e-1
    log = true

    [batch-size]              # an int flag: int distribution (step or log allowed)
    low = 32
    high = 256
    step = 32

    [hidden-dims]             # any flag: categorical choices (a list flag takes lists)
    choices = [[128], [256, 128]]

A bare list (``optimizer = ["adam", "sgd"]``) is short for ``choices``. Whether a distribution is
float or int follows the flag's own type. Every bound and every choice is checked the way
``numnet train`` checks the flag (the same constructors judge it), so a range the flag refuses is
one error line before anything runs. The file comes from outside: it is read through
:func:`numnet.files.read_capped`.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numnet.cli.config import OPTIONS_BY_KEY, Option, validate
from numnet.errors import ConfigError

# Train flags a sweep cannot vary: where the trial runs, how it prints, which code computes it.
NOT_SWEPT: dict[str, str] = {
    "out_dir": "each trial runs in SWEEP_DIR/trial-NNNN",
    "data_dir": "it says where the data are, not how to train",
    "quiet": "it changes only what a trial prints",
    "kernels": "both kernels compute the same model",
    "plots": "it changes only which pictures a trial draws",
    "sync_batchnorm": "it matters only to data-parallel training under MPI",
}
ENTRY_KEYS = ("low", "high", "log", "step", "choices")
MAX_COMBINATIONS = 64
# Every choice is checked by building a model: a space file (untrusted) cannot ask for millions.
MAX_CHOICES = 1000


@dataclass(frozen=True)
class Param:
    """One swept setting: ``key`` (the train config key) and its distribution.

    ``kind`` is ``"float"``, ``"int"`` or ``"categorical"``; numeric params have ``low``,
    ``high``, ``log`` and ``step`` (``None`` when not set); categorical ones ``choices`` (list
    flags' choices are lists).
    """

    key: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = ()

    @property
    def labels(self) -> list[Any]:
        """The choices as Optuna stores them (a list becomes its values joined by spaces)."""
        return [label(value) for value in self.choices]

    def suggest(self, trial: Any) -> Any:
        """Ask ``trial`` (an ``optuna.Trial``) for this setting's value, as train takes it."""
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(
                self.key, self.low, self.high, log=self.log, step=self.step or 1
            )
        picked = trial.suggest_categorical(self.key, self.labels)
        return self.choices[self.labels.index(picked)]

    def as_json(self) -> dict[str, Any]:
        """The distribution as plain JSON (for the space digest and the sweep's notes)."""
        if self.kind == "categorical":
            return {"key": self.key, "choices": list(self.choices)}
        return {
            "key": self.key,
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "step": self.step,
        }


def label(value: Any) -> Any:
    """A setting as Optuna records it: lists as their values joined by spaces (``"256 128"``)."""
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value)
    return value


def _read(path: Path) -> dict[str, Any]:
    from numnet.files import MAX_CONFIG_BYTES, read_capped

    raw = read_capped(path, "space file", ConfigError, MAX_CONFIG_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"space file {path} is not UTF-8 text") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml(path, text)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"space file {path} is not valid TOML: {reason}") from None


def _read_yaml(path: Path, text: str) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:  # Optuna depends on PyYAML, so this is rare
        raise ConfigError(
            f"space file {path}: reading YAML needs PyYAML; write the space as TOML or install it "
            "with pip install -e '.[sweep]'"
        ) from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"space file {path} is not valid YAML: {reason}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"space file {path} must map flag names to distributions")
    return loaded


def _unknown_key(path: Path, raw_key: str) -> ConfigError:
    names = [key.replace("_", "-") for key in OPTIONS_BY_KEY if key not in NOT_SWEPT]
    close = difflib.get_close_matches(raw_key.replace("_", "-"), names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "; see `numnet train --help` for the flags"
    return ConfigError(f"space file {path}: '{raw_key}' is not a numnet train flag{hint}")


def _number(option: Option, value: Any, where: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    if option.kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{where} must be an integer (--{_flag(option)} takes integers)")
        return int(value)
    return float(value)


def _flag(option: Option) -> str:
    return option.key.replace("_", "-")


def _choice(option: Option, value: Any, where: str) -> Any:
    """One categorical choice in the form train takes it (a list for a list flag)."""
    if option.many:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ConfigError(f"{where} must not be an empty list")
        return [_scalar(option, item, where) for item in items]
    if isinstance(value, list | dict):
        raise ConfigError(f"{where} must be one value, got {value!r}")
    return _scalar(option, value, where)


def _scalar(option: Option, value: Any, where: str) -> Any:
    if option.kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if option.kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    return _number(option, value, where)


def _param(path: Path, key: str, raw_key: str, entry: Any) -> Param:
    option = OPTIONS_BY_KEY[key]
    where = f"space file {path}: '{raw_key}'"
    if isinstance(entry, list):
        entry = {"choices": entry}
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{where} must be a table (low/high/log/step, or choices) or a list of choices, got "
            f"{entry!r}; give a fixed value as a flag instead (--{_flag(option)})"
        )
    extra = [name for name in entry if name not in ENTRY_KEYS]
    if extra:
        raise ConfigError(f"{where} has unknown field '{extra[0]}'; use {', '.join(ENTRY_KEYS)}")
    if "choices" in entry:
        if set(entry) != {"choices"}:
            raise ConfigError(f"{where}: choices cannot be combined with low/high/log/step")
        choices = entry["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}: choices must be a non-empty list")
        if len(choices) > MAX_CHOICES:
            raise ConfigError(f"{where}: at most {MAX_CHOICES} choices, got {len(choices)}")
        values = [_choice(option, item, f"{where} choice {item!r}") for item in choices]
        labels = [label(value) for value in values]
        if len(set(map(repr, labels))) != len(labels):
            raise ConfigError(f"{where}: choices must differ, got {choices!r}")
        return Param(key, "categorical", choices=tuple(values))
    if option.kind not in (int, float) or option.many:
        raise ConfigError(
            f"{where}: --{_flag(option)} is not a number flag; give its values as choices = [...]"
        )
    missing = [name for name in ("low", "high") if name not in entry]
    if missing:
        raise ConfigError(f"{where} needs '{missing[0]}' (or choices = [...])")
    low = _number(option, entry["low"], f"{where} low")
    high = _number(option, entry["high"], f"{where} high")
    if not low < high:
        raise ConfigError(f"{where}: low must be below high, got low {low!r} and high {high!r}")
    log = entry.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: log must be true or false, got {log!r}")
    step = None
    if "step" in entry:
        step = _number(option, entry["step"], f"{where} step")
        if step <= 0:
            raise ConfigError(f"{where}: step must be positive, got {step!r}")
        if log:
            raise ConfigError(f"{where}: step and log cannot be used together")
        span = (high - low) / step
        if abs(span - round(span)) > 1e-9 * max(1.0, abs(span)):
            raise ConfigError(f"{where}: high - low must be a multiple of step ({step!r})")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log range needs low > 0, got {low!r}")
    kind = "int" if option.kind is int else "float"
    return Param(key, kind, low=low, high=high, log=log, step=step)


def _endpoints(param: Param) -> list[Any]:
    return list(param.choices) if param.kind == "categorical" else [param.low, param.high]


def _accepted(config: dict[str, Any]) -> ConfigError | None:
    try:
        validate(config)
    except ConfigError as exc:
        return exc
    return None


def _check_ranges(path: Path, params: list[Param], fixed: dict[str, Any]) -> None:
    """Each bound and choice must pass train's own validation with the fixed settings and some
    bounds or choices of the other swept settings (the first ones tried first): a value refused
    whatever the others are is one error line. Combinations are tried up to
    :data:`MAX_COMBINATIONS` per value; a combination train refuses fails only its trial."""
    fixed_error = _accepted(fixed)
    for param in params:
        others = [p for p in params if p is not param]
        for value in _endpoints(param):
            first_error = None
            combos = itertools.product(*(_endpoints(p) for p in others))
            for combo in itertools.islice(combos, MAX_COMBINATIONS):
                config = {**fixed, **{p.key: v for p, v in zip(others, combo, strict=True)}}
                error = _accepted({**config, param.key: value})
                if error is None:
                    break
                first_error = first_error or error
            else:
                if fixed_error is not None:  # the fixed flags themselves: say so plainly
                    raise fixed_error
                what = "choice" if param.kind == "categorical" else "bound"
                raise ConfigError(
                    f"space file {path}: '{param.key.replace('_', '-')}' {what} {label(value)!r} "
                    f"is refused by numnet train: {first_error}"
                )


def load_space(path: str | Path, fixed: dict[str, Any], typed: set[str]) -> list[Param]:
    """Read, parse and check the space file ``path``; raise one-line :class:`ConfigError`.

    Parameters
    ----------
    path : str or Path
        The TOML (``.yaml``/``.yml``: YAML) space file.
    fixed : dict
        The resolved fixed train settings (flags > ``--config`` > defaults); every bound and
        choice is validated together with them.
    typed : set of str
        Config keys set by a flag or ``--config`` (a key both fixed and swept is refused).

    Returns
    -------
    list of Param
        In file order.
    """
    path = Path(path)
    raw = _read(path)
    params: list[Param] = []
    seen: set[str] = set()
    for raw_key, entry in raw.items():
        key = str(raw_key).replace("-", "_")
        if key in NOT_SWEPT:
            raise ConfigError(
                f"space file {path}: '{raw_key}' cannot be swept ({NOT_SWEPT[key]}); pass it as a "
                "flag instead"
            )
        if key not in OPTIONS_BY_KEY:
            raise _unknown_key(path, str(raw_key))
        if key in seen:
            raise ConfigError(f"space file {path}: '{raw_key}' is set twice (with '-' and '_')")
        if key in typed:
            raise ConfigError(
                f"space file {path}: '{raw_key}' is both swept and fixed "
                f"(--{key.replace('_', '-')} on the command line or in --config); drop one"
            )
        seen.add(key)
        params.append(_param(path, key, str(raw_key), entry))
    if not params:
        raise ConfigError(f"space file {path} sweeps nothing; map at least one train flag")
    _check_ranges(path, params, fixed)
    return params


# Settings that do not change what a trial computes: a study may be continued with other values.
NOT_IN_DIGEST = ("data_dir", "out_dir", "quiet", "kernels", "plots", "sync_batchnorm")


def space_digest(params: list[Param], fixed: dict[str, Any]) -> str:
    """SHA-256 of the space and of the fixed settings that shape the objective.

    A study remembers it: continuing the study with another space (or other fixed settings such as
    ``--epochs``) would mix trials of two different searches.
    """
    shaping = {key: value for key, value in fixed.items() if key not in NOT_IN_DIGEST}
    text = json.dumps(
        {"space": [p.as_json() for p in params], "fixed": shaping}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()
