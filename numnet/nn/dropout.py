"""``Dropout``: inverted dropout with its own random generator."""

from __future__ import annotations

import numbers

import numpy as np

from numnet.errors import ConfigError
from numnet.functional.dropout import dropout_backward, dropout_forward
from numnet.nn.module import Module


class Dropout(Module):
    """Keep each unit with probability ``keep_prob`` in training (scaling it by 1/keep_prob).

    Parameters
    ----------
    keep_prob : float
        Probability of *keeping* a unit, in (0, 1] (CS231n's ``p``).
    rng : numpy.random.Generator, optional
        Generator the masks are drawn from; it advances with every training forward. A fresh
        unseeded one if omitted.

    Attributes
    ----------
    dropout_param : dict
        The CS231n ``dropout_param`` passed to :func:`numnet.functional.dropout.dropout_forward`
        (``'p'``, ``'mode'``, ``'rng'``). Setting ``dropout_param['seed']`` makes every call draw
        the same mask (what a numerical gradient check needs).

    Notes
    -----
    Test mode (``train=False``) is the identity. Any input shape.
    """

    def __init__(self, keep_prob: float, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(keep_prob, bool) or not isinstance(keep_prob, numbers.Real):
            raise ConfigError(
                f"dropout keep probability must be a number in (0, 1], got {keep_prob!r}"
            )
        if not 0.0 < keep_prob <= 1.0:
            raise ConfigError(f"dropout keep probability must lie in (0, 1], got {keep_prob!r}")
        rng = np.random.default_rng() if rng is None else rng
        self.dropout_param: dict = {"p": float(keep_prob), "mode": "test", "rng": rng}

    @property
    def rng(self) -> np.random.Generator:
        """The generator the masks come from (assignable, e.g. when restoring a checkpoint)."""
        return self.dropout_param["rng"]

    @rng.setter
    def rng(self, value: np.random.Generator) -> None:
        self.dropout_param["rng"] = value

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self.dropout_param["mode"] = "train" if train else "test"
        out, cache = dropout_forward(x, self.dropout_param)
        self._cache = cache if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return dropout_backward(dout, self._take_cache())

    def extra_repr(self) -> str:
        return f"keep_prob={self.dropout_param['p']}"
