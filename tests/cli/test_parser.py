"""``numnet --help`` / subcommand help, usage errors and ``python -m numnet``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from numnet.cli import main
from numnet.cli.config import TRAIN_OPTIONS


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "gradcheck"])
def test_subcommand_help_exits_zero_and_shows_defaults(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: numnet {command}" in out
    assert "default" in out


def test_train_help_shows_every_flag_with_its_default(capsys):
    assert main(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # undo argparse line wrapping
    for option in TRAIN_OPTIONS:
        assert option.flag in out
    assert (
        "--hidden-dims N [N ...] sizes of the hidden fully connected layers (default: 256 128 "
        in out
    )
    assert "--optimizer {sgd,momentum,nesterov,rmsprop,adam,adamw}" in out
    assert "(default: adam)" in out


def test_top_level_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "predict", "gradcheck"):
        assert command in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["fly"],
        ["train", "--optimizer", "lbfgs"],
        ["train", "--schedule", "linear"],
        ["train", "--epochs", "ten"],
        ["train", "--lr"],
        ["train", "--no-such-flag"],
        ["predict", "model.npz"],  # --input is required
    ],
)
def test_usage_errors_exit_2_with_one_error_line_and_help_hint(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("numnet: error: ")
    command = argv[0] if argv and argv[0] in ("train", "predict") else None
    hint = f"see numnet {command} --help" if command else "see numnet --help"
    assert lines[0].endswith(hint), lines[0]
    assert "usage:" not in err and "Traceback" not in err


def test_untyped_train_flags_are_absent_from_namespace():
    from numnet.cli.parser import build_parser

    args = build_parser().parse_args(["train", "--lr", "0.1", "--no-augment"])
    assert args.lr == 0.1 and args.augment is False
    assert not hasattr(args, "epochs")  # so a config file value is not overridden by a default


def test_python_dash_m_numnet_help():
    result = subprocess.run(
        [sys.executable, "-m", "numnet", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "usage: numnet" in result.stdout


def test_version(capsys):
    from numnet import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
