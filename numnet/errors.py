"""Exceptions numnet raises for bad input.

Every error a user can cause (a malformed file, a bad argument, a wrong model file) is a subclass of
:class:`NumnetError`. The command line catches exactly these and prints their message as one
line; any other exception is a bug in numnet. Messages name the problem *and* what to do about it.
"""

from __future__ import annotations


class NumnetError(Exception):
    """Base class of all errors caused by the user's input (files, arguments, configuration)."""


class DataError(NumnetError, ValueError):
    """A data file or array is missing, malformed, truncated or inconsistent."""


class ModelFileError(NumnetError, ValueError):
    """A model or checkpoint file is missing, truncated, not a numnet file, or does not match."""


class ConfigError(NumnetError, ValueError):
    """An argument or configuration value is invalid (a usage error: exit code 2 on the CLI)."""


class TrainingDiverged(NumnetError, FloatingPointError):
    """The loss became NaN or infinite during training."""


class NumnetWarning(UserWarning):
    """A value that is almost surely a mistake, but not an error (the command line prints it as
    one line ``numnet: warning: <message>`` on stderr)."""


class InputRangeWarning(NumnetWarning):
    """Inputs whose range does not match the range of the data the model was trained on."""
