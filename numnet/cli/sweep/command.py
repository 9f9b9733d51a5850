"""``numnet sweep``: search train settings with Optuna; every trial is a real ``numnet train`` run.

Order of work: check that Optuna is there, resolve the fixed train settings (flags > ``--config``
> defaults), read and check the space file; only then create ``SWEEP_DIR`` (with its marker
``.numnet-sweep``), open the storage, create the study once, and run the trials, in this process or
in ``--workers K`` worker processes. ``--trials N`` is the total number of finished (complete or
pruned) trials of the study over all workers, machines and restarts: a failed trial (a worker
killed mid-trial, Ctrl-C, settings train refuses) does not count, and a restarted sweep continues
the study up to N. At the end, and with ``--show`` at any time: the table of the best trials,
``SWEEP_DIR/best/`` and the pictures (:mod:`numnet.cli.sweep.show`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from numnet.cli.config import NOT_STORED, merge
from numnet.cli.resolve import file_settings, typed_flags
from numnet.cli.sweep.objective import Objective, TrialRefused, describe
from numnet.cli.sweep.space import Param, load_space, space_digest
from numnet.errors import ConfigError, NumnetError

INSTALL_MESSAGE = "numnet sweep needs Optuna; install it with pip install -e '.[sweep]'"
SWEEP_MARKER = ".numnet-sweep"
DEFAULT_STUDY = "numnet-sweep"
MAX_REFUSED_IN_A_ROW = 3


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise NumnetError(INSTALL_MESSAGE) from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the sweep prints its own line per trial
    return optuna


def sweep_dir_of(args: argparse.Namespace) -> Path:
    """``--sweep-dir``, by default ``sweeps/STUDY``."""
    return Path(args.sweep_dir) if args.sweep_dir else Path("sweeps") / args.study


def _check_args(args: argparse.Namespace) -> None:
    if args.show:
        given = [
            flag for flag, value in (("--space", args.space), ("--trials", args.trials)) if value
        ]
        if given:
            raise ConfigError(f"--show shows an existing study; leave out {' and '.join(given)}")
        return
    for flag, value in (("--space", args.space), ("--trials", args.trials)):
        if value is None:
            raise ConfigError(f"{flag} is required (or --show to show an existing study)")
    checks = (
        ("--trials", args.trials, 1),
        ("--workers", args.workers, 1),
        ("--pruner-startup-trials", args.pruner_startup_trials, 0),
        ("--pruner-warmup-epochs", args.pruner_warmup_epochs, 0),
        ("--heartbeat", args.heartbeat, 1),
    )
    for flag, value, least in checks:
        if value < least:
            raise ConfigError(f"{flag} must be at least {least}, got {value}")
    if args.timeout is not None and not args.timeout > 0:
        raise ConfigError(f"--timeout must be a positive number of seconds, got {args.timeout}")


def _prepare_sweep_dir(path: Path) -> None:
    """Create ``path`` with the sweep marker; an existing folder must be empty or a sweep's."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--sweep-dir {path} is a file; choose another --sweep-dir")
    if path.is_dir() and any(path.iterdir()) and not (path / SWEEP_MARKER).exists():
        raise ConfigError(
            f"--sweep-dir {path} is not empty and not a numnet sweep folder; choose another"
        )
    path.mkdir(parents=True, exist_ok=True)
    (path / SWEEP_MARKER).touch()


def _pruner(optuna: Any, args: argparse.Namespace, params: list[Param], epochs: int) -> Any:
    if args.pruner == "none":
        return optuna.pruners.NopPruner()
    if args.pruner == "hyperband":
        swept = any(p.key == "epochs" for p in params)
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource="auto" if swept else epochs, reduction_factor=3
        )
    return optuna.pruners.MedianPruner(
        n_startup_trials=args.pruner_startup_trials, n_warmup_steps=args.pruner_warmup_epochs
    )


class _TrialLines:
    """Optuna callback: one line per finished trial; stops after too many refused in a row."""

    def __init__(self) -> None:
        self.refused = 0

    def __call__(self, study: Any, trial: Any) -> None:
        state = trial.state.name.lower()
        note = trial.user_attrs.get("note")
        value = "" if trial.value is None else f": val acc {trial.value:.4f}"
        where = trial.user_attrs.get("dir", "")
        line = f"trial {trial.number} {state}{value} ({describe(trial.params)}) {where}"
        print(line + (f"; {note}" if note else ""), flush=True)
        refused = state == "fail" and str(note or "").startswith("refused")
        self.refused = self.refused + 1 if refused else 0
        if self.refused >= MAX_REFUSED_IN_A_ROW:
            raise NumnetError(
                f"{self.refused} trials in a row were refused by numnet train (last: {note}); "
                "narrow the space so that its settings go together"
            )


def _fixed(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """(typed flags, resolved fixed settings, keys set by a flag or --config)."""
    flags = typed_flags(args)
    from_file = file_settings(args)
    return flags, merge(flags, from_file), set(flags) | set(from_file)


def run_sweep(args: argparse.Namespace) -> int:
    """Run ``numnet sweep``; returns the exit code (0; Ctrl-C propagates as KeyboardInterrupt)."""
    optuna = _optuna()
    _check_args(args)
    sweep_dir = sweep_dir_of(args)
    if args.show:
        return _show_only(args, sweep_dir)
    flags, fixed, typed = _fixed(args)
    params = load_space(args.space, fixed, typed)
    digest = space_digest(params, fixed)
    from numnet.cli.sweep import storage

    _prepare_sweep_dir(sweep_dir)
    store = storage.open_storage(args.storage, sweep_dir, heartbeat_s=args.heartbeat)
    label = storage.storage_label(args.storage, sweep_dir)
    worker = args.worker_index is not None
    if not worker:
        space = {
            "params": [p.as_json() for p in params],
            "fixed": {k: v for k, v in fixed.items() if k not in NOT_STORED},
        }
        storage.create_study_once(store, args.study, digest, "maximize", space=space)
        print(
            f"sweep {args.study}: {args.trials} trials in {sweep_dir}, study in {label}, "
            f"pruner {args.pruner}" + (f", {args.workers} workers" if args.workers > 1 else ""),
            flush=True,
        )
        if args.workers > 1:
            return _parent(args, store, sweep_dir, label)
    sampler = optuna.samplers.TPESampler(constant_liar=True)
    pruner = _pruner(optuna, args, params, fixed["epochs"])
    study = storage.load_study(store, args.study, digest, sampler=sampler, pruner=pruner)
    objective = Objective(params, flags, args.config, sweep_dir)
    storage.optimize_until(
        study,
        objective,
        args.trials,
        callbacks=[_TrialLines(), *storage.retry_callbacks(store)],
        timeout=args.timeout,
        catch=(TrialRefused,),
    )
    if not worker:
        _report(study, sweep_dir, label)
    return 0


def _parent(args: argparse.Namespace, store: Any, sweep_dir: Path, label: str) -> int:
    import optuna

    from numnet.cli.sweep.workers import run_workers, threads_per_worker

    print(
        f"starting {args.workers} worker processes, {threads_per_worker(args.workers)} BLAS "
        "thread(s) each",
        flush=True,
    )
    codes = run_workers(args, args.workers)
    study = optuna.load_study(study_name=args.study, storage=store)
    _report(study, sweep_dir, label)
    failed = [f"worker {i} exited with status {code}" for i, code in enumerate(codes) if code]
    if failed:
        raise NumnetError(f"{'; '.join(failed)} (see its error above)")
    return 0


def _report(study: Any, sweep_dir: Path, label: str) -> None:
    from numnet.cli.sweep.show import show

    print(show(study, sweep_dir), flush=True)
    print(f"watch the study live with: optuna-dashboard {label}", flush=True)


def _show_only(args: argparse.Namespace, sweep_dir: Path) -> int:
    import optuna

    from numnet.cli.sweep import storage

    if args.storage is None and not (sweep_dir / storage.JOURNAL_FILE).is_file():
        raise ConfigError(
            f"no sweep in {sweep_dir} (no {storage.JOURNAL_FILE}); give its --sweep-dir, "
            "--study or --storage"
        )
    store = storage.open_storage(args.storage, sweep_dir, heartbeat_s=args.heartbeat)
    if not storage.study_exists(store, args.study):
        label = storage.storage_label(args.storage, sweep_dir)
        raise ConfigError(f"no study {args.study} in {label}; give its --study")
    study = optuna.load_study(study_name=args.study, storage=store)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    _report(study, sweep_dir, storage.storage_label(args.storage, sweep_dir))
    return 0
