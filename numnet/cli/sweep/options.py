"""The flags of ``numnet sweep`` itself; the parser adds the train flags (the fixed part)."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
    "Search numnet train settings with Optuna. The --space file (TOML; .yaml/.yml: YAML) maps "
    "train flags to distributions: [lr] low = 1e-4, high = 1e-1, log = true; [hidden-dims] "
    "choices = [[128], [256, 128]]. Every trial is a real numnet train run in "
    "SWEEP_DIR/trial-NNNN; its objective is the best validation accuracy, reported each epoch so "
    "that the pruner can stop poor trials early. Train flags given here are fixed for every "
    "trial (trials draw no pictures unless --plots is given). At the end (and with --show at any "
    "time): a table of the best trials, SWEEP_DIR/best/ with the best model, and pictures. "
    "Needs: pip install -e '.[sweep]'."
)


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--space``, ``--trials``, ``--study`` ... and the train ``--config`` to ``parser``."""
    parser.add_argument(
        "--space",
        metavar="FILE",
        default=None,
        help="the search space file (default: none; required unless --show)",
    )
    parser.add_argument(
        "--trials",
        type=int,
        metavar="N",
        default=None,
        help="finished (complete or pruned) trials of the study in total, over all workers and "
        "restarts (default: none; required unless --show)",
    )
    parser.add_argument("--study", metavar="NAME", default="numnet-sweep", help="study name")
    parser.add_argument(
        "--storage",
        metavar="PATH_OR_URL",
        default=None,
        help="where the study lives: a journal file, or a database URL such as "
        "postgresql+psycopg2://user@host/db shared by workers on several machines "
        "(default: SWEEP_DIR/study.journal)",
    )
    parser.add_argument(
        "--workers", type=int, metavar="K", default=1, help="worker processes on this machine"
    )
    parser.add_argument(
        "--pruner",
        choices=("median", "hyperband", "none"),
        default="median",
        help="how poor trials are stopped early",
    )
    parser.add_argument(
        "--pruner-startup-trials",
        type=int,
        metavar="N",
        default=5,
        help="complete trials before the median pruner prunes",
    )
    parser.add_argument(
        "--pruner-warmup-epochs",
        type=int,
        metavar="E",
        default=1,
        help="epochs every trial trains before the median pruner may stop it",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        default=None,
        help="no new trial starts after S seconds (default: no limit)",
    )
    parser.add_argument(
        "--sweep-dir", metavar="DIR", default=None, help="trial directories (default: sweeps/STUDY)"
    )
    parser.add_argument(
        "--heartbeat",
        type=int,
        metavar="S",
        default=10,
        help="seconds between a database worker's heartbeats; a trial silent for 3 x S is "
        "failed and retried once",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        help="only show the study: table, SWEEP_DIR/best/ and pictures",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="TOML file of fixed train settings (as numnet train --config)",
    )
    parser.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)


def flag_argv(settings: dict[str, Any]) -> list[str]:
    """Train settings (config keys) as the command-line flags that give them."""
    from numnet.cli.config import OPTIONS_BY_KEY

    argv: list[str] = []
    for key, value in settings.items():
        option = OPTIONS_BY_KEY[key]
        if option.kind is bool:
            argv.append(option.flag if value else "--no-" + option.flag[2:])
        elif isinstance(value, list | tuple):
            argv += [option.flag, *(str(item) for item in value)]
        else:
            argv += [option.flag, str(value)]
    return argv
