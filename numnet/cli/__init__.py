"""The ``numnet`` command: ``main(argv) -> exit code``; ``python -m numnet`` and the console script.

Exit codes: 0 success, 1 data / model-file / I/O errors and failed gradient checks, 2 usage and
configuration errors (argparse and :class:`~numnet.errors.ConfigError`), 130 interrupted (Ctrl-C),
141 when the reader of stdout closed the pipe (``numnet gradcheck | head -1``; nothing printed).
Errors caused by the user print one line ``numnet: error: <message>`` to stderr; ``--debug`` adds
the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from numnet.cli.parser import build_parser
from numnet.errors import ConfigError, NumnetError, NumnetWarning

__all__ = ["main"]

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool its pipe closed


def _run_train(args: argparse.Namespace) -> int:
    from numnet.cli.train import run_train

    return run_train(args)


def _run_evaluate(args: argparse.Namespace) -> int:
    from numnet.cli.evaluate import run_evaluate

    return run_evaluate(args)


def _run_predict(args: argparse.Namespace) -> int:
    from numnet.cli.predict import run_predict

    return run_predict(args)


def _run_gradcheck(args: argparse.Namespace) -> int:
    from numnet.cli.gradcheck import run_gradcheck

    return run_gradcheck(args)


def _run_export(args: argparse.Namespace) -> int:
    from numnet.cli.export import run_export

    return run_export(args)


def _run_import(args: argparse.Namespace) -> int:
    from numnet.cli.import_onnx import run_import

    return run_import(args)


def _run_sweep(args: argparse.Namespace) -> int:
    from numnet.cli.sweep.command import run_sweep

    return run_sweep(args)


def _run_info(args: argparse.Namespace) -> int:
    from numnet.cli.info import run_info

    return run_info(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": _run_train,
    "evaluate": _run_evaluate,
    "predict": _run_predict,
    "gradcheck": _run_gradcheck,
    "export": _run_export,
    "import": _run_import,
    "sweep": _run_sweep,
    "info": _run_info,
}


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


@contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Print each :class:`~numnet.errors.NumnetWarning` as one ``numnet: warning:`` line on stderr
    (every time it is raised); other warnings keep Python's format."""
    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *rest: object, **kw: object) -> None:
        if issubclass(category, NumnetWarning):
            print(f"numnet: warning: {_one_line(message)}", file=sys.stderr)
        else:
            shown(message, category, *rest, **kw)  # type: ignore[arg-type]

    with warnings.catch_warnings():
        warnings.simplefilter("always", NumnetWarning)
        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``numnet`` command line and return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 for data/model-file/I/O errors, 2 for usage/config errors, 130 on Ctrl-C.
    """
    from numnet.cli import parallel  # under mpiexec: rank 0 speaks, one rank's error ends the job

    parallel.silence_other_ranks()
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    debug = getattr(args, "debug", False)
    try:
        parallel.start(args.command)
        with _one_line_warnings():
            return parallel.finish(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("numnet: interrupted", file=sys.stderr)
        return parallel.finish(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader of stdout went away (numnet info MODEL | head -1): stop quietly, as other
        # tools do, and keep Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (NumnetError, OSError) as exc:
        if debug:
            traceback.print_exc()
        if isinstance(exc, OSError) and not isinstance(exc, NumnetError):
            where = f" ({exc.filename})" if exc.filename else ""
            message = f"{exc.strerror or exc}{where}; check the path and its permissions"
        else:
            message = str(exc)
        code = 2 if isinstance(exc, ConfigError) else 1
        line = f"numnet: error: {_one_line(message)}"
        return parallel.fail(exc, line, code)  # one process: prints line; MPI: see cli/parallel
    except BaseException as exc:
        parallel.crash(exc)  # a bug on one MPI rank: its traceback, then MPI_Abort
        raise
