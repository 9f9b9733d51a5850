"""One sweep trial = one real ``numnet train`` run in ``SWEEP_DIR/trial-NNNN/``, in this process.

The objective is the run's best validation accuracy. After every epoch the validation accuracy is
reported to Optuna; when the pruner says stop (before the last epoch), :class:`EpochReporter` sets
``solver.stop_training``, the run ends after that epoch and writes its files as any run does, and
the objective then raises ``optuna.TrialPruned``. A run whose loss diverges is recorded as pruned
too (it is a poor trial stopped early). Either way the trial directory stays and holds a ``PRUNED``
note saying why. A combination of settings train refuses (each bound was checked alone, not every
combination) fails that trial only (:class:`TrialRefused`). Ctrl-C marks the running trial failed
(an ``INTERRUPTED`` note) and stops the worker.

The run's own output (its progress lines, notes and warnings) goes to ``trial-NNNN/train.log``;
the sweep prints one line per trial. Trials draw no pictures (``--no-plots``) unless the sweep is
given ``--plots``: at a sweep's sizes, drawing them would take most of each trial's time.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from numnet.callbacks.base import Callback
from numnet.callbacks.trainer import Trainer
from numnet.cli.sweep.space import Param, label
from numnet.errors import ConfigError, NumnetError, TrainingDiverged

NOTE_FILE = "PRUNED"
INTERRUPTED_FILE = "INTERRUPTED"
LOG_FILE = "train.log"


class TrialRefused(NumnetError):
    """numnet train refused this combination of settings (the trial fails, the sweep goes on)."""


class EpochReporter(Callback):
    """Reports each epoch's validation accuracy to the trial; stops the run when it is pruned."""

    order = 50

    def __init__(self, trial: Any) -> None:
        self.trial = trial
        self.pruned_at: int | None = None
        self.best = float("nan")

    def on_epoch_end(self, solver: Trainer) -> None:
        """Report; prune (``solver.stop_training``) unless this was the last epoch anyway."""
        step = solver.epoch
        value = float(solver.history[-1]["val_acc"])
        self.best = value if math.isnan(self.best) else max(self.best, value)
        self.trial.report(value, step)
        if step < solver.num_epochs and self.trial.should_prune():
            solver.stop_training = True
            self.pruned_at = step


def trial_dir(sweep_dir: Path, number: int) -> Path:
    """``SWEEP_DIR/trial-NNNN`` of trial ``number``."""
    return sweep_dir / f"trial-{number:04d}"


def describe(params: dict[str, Any]) -> str:
    """``lr=0.0031 hidden-dims=256 128``: a trial's settings as one short text."""
    parts = []
    for key, value in params.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(label(value))
        parts.append(f"{key.replace('_', '-')}={shown}")
    return " ".join(parts)


@contextlib.contextmanager
def _output_to(path: Path) -> Iterator[None]:
    with open(path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        with contextlib.redirect_stderr(log):
            yield


def _write_note(directory: Path, name: str, text: str) -> None:
    if directory.is_dir():
        (directory / name).write_text(text + "\n", encoding="utf-8")


class Objective:
    """Callable objective for ``study.optimize``.

    Parameters
    ----------
    params : list of Param
        The swept settings.
    fixed_flags : dict
        Train settings typed on the sweep's command line (the fixed part).
    config_file : str or None
        The sweep's ``--config`` TOML file, passed to every trial.
    sweep_dir : Path
        Where the trial directories go.
    """

    def __init__(
        self,
        params: list[Param],
        fixed_flags: dict[str, Any],
        config_file: str | None,
        sweep_dir: Path,
    ) -> None:
        self.params = params
        self.fixed_flags = dict(fixed_flags)
        self.fixed_flags.setdefault("quiet", False)  # epoch lines go to train.log
        self.fixed_flags.setdefault("plots", False)  # pictures cost most of a small trial's time
        self.config_file = config_file
        self.sweep_dir = sweep_dir

    def __call__(self, trial: Any) -> float:
        import optuna

        from numnet.cli.train import run_train

        values = {param.key: param.suggest(trial) for param in self.params}
        run_dir = trial_dir(self.sweep_dir, trial.number)
        trial.set_user_attr("dir", str(run_dir.resolve()))
        trial.set_user_attr("host", socket.gethostname())
        args = self._train_args({**self.fixed_flags, **values, "out_dir": str(run_dir)})
        reporter = EpochReporter(trial)
        log = self.sweep_dir / f".trial-{trial.number:04d}.log"
        try:
            with _output_to(log):
                code = run_train(args, extra_callbacks=[reporter])
        except TrainingDiverged as exc:
            note = f"pruned: training diverged ({' '.join(str(exc).split())})"
            self._finish(trial, run_dir, log, NOTE_FILE, note)
            raise optuna.TrialPruned(note) from None
        except ConfigError as exc:
            note = f"refused by numnet train: {' '.join(str(exc).split())}"
            self._finish(trial, run_dir, log, None, note)
            raise TrialRefused(note) from None
        except KeyboardInterrupt:  # outside the training loop, where train does not catch it
            self._finish(trial, run_dir, log, INTERRUPTED_FILE, "interrupted by Ctrl-C")
            raise
        except BaseException:
            self._finish(trial, run_dir, log, None, None)
            raise
        if code != 0:  # run_train returns 130 after Ctrl-C inside training
            self._finish(trial, run_dir, log, INTERRUPTED_FILE, "interrupted by Ctrl-C")
            raise KeyboardInterrupt
        if reporter.pruned_at is not None:
            note = (
                f"pruned after epoch {reporter.pruned_at}: its validation accuracy was below "
                "what the pruner asks of this epoch"
            )
            self._finish(trial, run_dir, log, NOTE_FILE, note)
            raise optuna.TrialPruned(note)
        self._finish(trial, run_dir, log, None, None)
        return float(reporter.best)

    def _train_args(self, settings: dict[str, Any]) -> argparse.Namespace:
        """The trial's arguments as ``numnet train`` itself parses them."""
        from numnet.cli.parser import build_parser
        from numnet.cli.sweep.options import flag_argv

        config = ["--config", self.config_file] if self.config_file else []
        return build_parser().parse_args(["train", *config, *flag_argv(settings)])

    def _finish(
        self, trial: Any, run_dir: Path, log: Path, name: str | None, note: str | None
    ) -> None:
        """Move the captured output into the trial directory; record the note, if any."""
        if note is not None:
            trial.set_user_attr("note", note)
            if name is not None:
                _write_note(run_dir, name, note)
        try:
            if run_dir.is_dir():
                os.replace(log, run_dir / LOG_FILE)
            else:
                log.unlink(missing_ok=True)
        except OSError as exc:
            print(f"numnet: warning: cannot move {log} into {run_dir}: {exc}", file=sys.stderr)
