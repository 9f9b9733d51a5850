"""The ``numnet`` parser: subcommands train, evaluate, predict, gradcheck, export and import."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

from numnet._version import __version__
from numnet.cli.config import OPTIONS_BY_KEY, TRAIN_OPTIONS, Option


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each default once: help texts that already say "(default: ...)" are left as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if "(default:" in (action.help or "") or action.required:
            return action.help
        return super()._get_help_string(action)


_FORMATTER = _Formatter


class NumnetArgumentParser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line: ``numnet: error: <message>; see ... --help``.

    Subparsers made by :meth:`add_subparsers` inherit the class, so every subcommand behaves alike.
    """

    command_parsers: dict[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        """Print one ``numnet: error:`` line with a ``--help`` hint and exit with status 2."""
        text = " ".join(message.split())
        self.exit(2, f"numnet: error: {text}; see {self.prog} --help\n")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """Parse ``args``; unknown flags are reported by the chosen subcommand (for its hint)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            owners = getattr(self, "command_parsers", {})
            owner = owners.get(getattr(parsed, "command", None), self)
            hint = ""
            if isinstance(owner, NumnetArgumentParser):
                hint = owner.flag_suggestions(extras)
            owner.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return parsed

    def flag_suggestions(self, extras: Sequence[str]) -> str:
        """`` (did you mean --hidden-dims?)`` for mistyped flags among ``extras`` ("" if none)."""
        import difflib

        known = [flag for flag in self._option_string_actions if flag.startswith("--")]
        guesses = []
        for extra in extras:
            if not extra.startswith("--"):
                continue
            close = difflib.get_close_matches(extra.split("=", 1)[0], known, n=1, cutoff=0.7)
            if close and close[0] not in guesses:
                guesses.append(close[0])
        return f" (did you mean {' or '.join(guesses)}?)" if guesses else ""


def _shown_default(option: Option) -> str:
    if option.default is None:
        return "not set"
    if option.many:
        return " ".join(str(v) for v in option.default)
    if option.kind is bool:
        return "on" if option.default else "off"
    return str(option.default)


def _add_train_option(parser: argparse.ArgumentParser, option: Option) -> None:
    """Add one :class:`Option` as a flag whose value is absent from the namespace unless typed."""
    help_text = option.help
    if "(default:" not in help_text:
        help_text += f" (default: {_shown_default(option)})"
    kwargs: dict[str, Any] = {"dest": option.key, "default": argparse.SUPPRESS, "help": help_text}
    if option.kind is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    else:
        kwargs["type"] = option.kind
        if option.choices is not None:
            kwargs["choices"] = option.choices
        if option.many:
            kwargs["nargs"] = "+"
        if option.metavar is not None:
            kwargs["metavar"] = option.metavar
    parser.add_argument(option.flag, **kwargs)


def _add_kernels(parser: argparse.ArgumentParser) -> None:
    """``--kernels`` of evaluate and predict: the same choices and help as ``numnet train``'s."""
    option = OPTIONS_BY_KEY["kernels"]
    parser.add_argument(
        option.flag, choices=option.choices, default=option.default, help=option.help
    )


def _add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show the full traceback of errors")


def build_parser() -> argparse.ArgumentParser:
    """Return the ``numnet`` parser; ``args.command`` names the chosen subcommand."""
    parser = NumnetArgumentParser(
        prog="numnet",
        description="Neural networks from scratch in NumPy: train, evaluate, predict, gradcheck; "
        "export to and import from ONNX.",
        formatter_class=_FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"numnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train",
        help="train a model and write a run directory",
        description="Train a model. Settings: flags > --config file > defaults. Writes "
        "model.npz, last.npz, best.npz, config.json, metrics.csv and plots into the run directory.",
        formatter_class=_FORMATTER,
    )
    train.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="settings file: TOML whose keys are the long flag names (with '-' or '_'), or a "
        "run's config.json (or its run directory) to train with that run's settings again",
    )
    train.add_argument(
        "--resume",
        metavar="DIR",
        default=None,
        help="continue the run in DIR from DIR/last.npz with its stored settings "
        "(--epochs may be raised)",
    )
    for option in TRAIN_OPTIONS:
        _add_train_option(train, option)
    _add_debug(train)

    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy, per-class accuracy and confusion matrix of a saved model",
        description="Evaluate MODEL and say on which data: without --data, the test split of its "
        "training dataset, or (a CSV without a labelled test split) the validation rows training "
        "held out; with --data, that dataset's test split or a labelled CSV/IDX file. A score on "
        "data the model was trained on is reported as such, never as a test score.",
        formatter_class=_FORMATTER,
    )
    evaluate.add_argument(
        "model", metavar="MODEL", help="model file (.npz) written by train, or its run directory"
    )
    evaluate.add_argument(
        "--data",
        metavar="NAME|PATH",
        default=None,
        help="dataset name or labelled CSV/IDX images path (default: the test split of the "
        "model's training dataset, else the validation rows training held out)",
    )
    evaluate.add_argument(
        "--labels",
        metavar="PATH",
        default=None,
        help="IDX labels file when --data is an IDX images file",
    )
    evaluate.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="directory holding the mnist/fashion-mnist IDX files (default: without --data, the "
        "one the model was trained from; else $NUMNET_DATA, then /usr/share/datasets/<name>); "
        "nothing is downloaded",
    )
    evaluate.add_argument(
        "--out-dir",
        metavar="DIR",
        default=None,
        help="where to write confusion_matrix.png/.csv (default: MODEL's directory/evaluate, or "
        "evaluate-2, evaluate-3, ... when it already holds an evaluation)",
    )
    evaluate.add_argument(
        "--force", action="store_true", help="overwrite the confusion matrix files in --out-dir"
    )
    _add_kernels(evaluate)
    _add_debug(evaluate)

    predict = commands.add_parser(
        "predict",
        help="write a Kaggle submission (ImageId,Label) for unlabelled images",
        description="Predict labels with MODEL for the images in --input (Kaggle test.csv, a "
        "train-format CSV whose labels are ignored, or IDX images, raw or .gz) and write "
        "ImageId,Label rows with ImageId from 1; with --proba, one probability column per class.",
        formatter_class=_FORMATTER,
    )
    predict.add_argument("model", metavar="MODEL", help="model file (.npz) or run directory")
    predict.add_argument(
        "--input",
        metavar="PATH",
        required=True,
        help="test.csv, train-format CSV, or IDX images file",
    )
    predict.add_argument(
        "--output", metavar="PATH", default="submission.csv", help="submission CSV to write"
    )
    predict.add_argument("--force", action="store_true", help="overwrite an existing --output")
    predict.add_argument(
        "--proba",
        action="store_true",
        help="write class probabilities instead of labels: ImageId,<class names...>",
    )
    predict.add_argument(
        "--batch-size", type=int, default=1000, metavar="B", help="images per forward pass"
    )
    _add_kernels(predict)
    _add_debug(predict)

    gradcheck = commands.add_parser(
        "gradcheck",
        help="check every layer's backward pass against numerical gradients",
        description="Run a float64 central-difference gradient check of every layer and print "
        "a table; exit 1 if any layer fails.",
        formatter_class=_FORMATTER,
    )
    gradcheck.add_argument(
        "--tol",
        type=float,
        default=None,
        metavar="TOL",
        help="maximum relative error allowed (default: each layer's own tolerance)",
    )
    _add_debug(gradcheck)

    export = commands.add_parser(
        "export",
        help="write a saved model as ONNX (needs the onnx extra)",
        description="Write MODEL (a model file, or a run directory's model.npz) as one ONNX file "
        "that takes raw inputs as numnet predict reads them and outputs class probabilities and "
        "labels. Needs: pip install -e '.[onnx]'.",
        formatter_class=_FORMATTER,
    )
    export.add_argument("model", metavar="MODEL", help="model file (.npz) or run directory")
    export.add_argument(
        "-o", "--output", metavar="PATH", default=None, help="ONNX file (default: MODEL as .onnx)"
    )
    export.add_argument("--opset", type=int, default=17, metavar="N", help="ONNX opset, 13 to 21")
    export.add_argument("--force", action="store_true", help="overwrite an existing --output")
    _add_debug(export)

    import_ = commands.add_parser(
        "import",
        help="read a classifier from an ONNX file into a numnet model file (needs the onnx extra)",
        description="Read a plain classifier (Conv, Gemm or MatMul+Add, BatchNormalization, "
        "activations, pooling, Flatten/Reshape, Dropout, Softmax) from an ONNX file and save it "
        "as a numnet model file. Needs: pip install -e '.[onnx]'.",
        formatter_class=_FORMATTER,
    )
    import_.add_argument("model", metavar="ONNX", help="the .onnx file (self-contained)")
    import_.add_argument(
        "-o", "--output", metavar="PATH", default=None, help="model file (default: ONNX as .npz)"
    )
    import_.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default=None,
        help="dtype of the model (default: float64 for float64 weights, else float32)",
    )
    import_.add_argument("--force", action="store_true", help="overwrite an existing --output")
    _add_debug(import_)

    info = commands.add_parser(
        "info",
        help="describe a saved model: layers, preprocessing, training data, results",
        description="Print MODEL's architecture (each layer, its output shape and parameter "
        "count, the total), its stored preprocessing, the data it was trained on and the run's "
        "results (with the run directory's metrics.csv when there is one).",
        formatter_class=_FORMATTER,
    )
    info.add_argument("model", metavar="MODEL", help="model file (.npz) or run directory")
    _add_debug(info)

    from numnet.cli.sweep.options import DESCRIPTION, add_sweep_options

    sweep = commands.add_parser(
        "sweep",
        help="search train settings with Optuna (needs the sweep extra)",
        description=DESCRIPTION,
        formatter_class=_FORMATTER,
    )
    add_sweep_options(sweep)
    for option in TRAIN_OPTIONS:
        if option.key != "out_dir":  # each trial runs in SWEEP_DIR/trial-NNNN
            _add_train_option(sweep, option)
    _add_debug(sweep)
    parser.command_parsers = {
        "train": train,
        "evaluate": evaluate,
        "predict": predict,
        "gradcheck": gradcheck,
        "export": export,
        "import": import_,
        "info": info,
        "sweep": sweep,
    }
    return parser
