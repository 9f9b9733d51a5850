"""CS231n update rules: ``rule(w, dw, config=None) -> (next_w, config)``.

Drop-in compatible with the assignment's ``optim.py``: same names, config keys and defaults. The
``config`` dict is filled with defaults via ``setdefault`` and carries the rule's state between
calls (``velocity``, ``cache``, ``m``/``v``/``t``), created as ``zeros_like(w)`` on first use.

These lower-case functions update ONE array per call, the CS231n way (``Solver(update_rule='adam')``
uses them). The capitalised ``numnet.optim.SGD``, ``Adam``, ... beside them are the optax-style
transformations over all parameters at once (:mod:`numnet.optim.optimizers`): same mathematics,
PyTorch's conventions, with schedules, clipping and weight decay. ``sgd_momentum`` here is
``Momentum`` there, but mind the convention: CS231n's velocity already holds the learning rate
(``v = momentum * v - learning_rate * dw``), PyTorch's buffer does not, so the two agree only for a
constant learning rate.

=============  ========================================================================
rule           config keys (defaults)
=============  ========================================================================
sgd            learning_rate (1e-2)
sgd_momentum   learning_rate (1e-2), momentum (0.9), velocity
rmsprop        learning_rate (1e-2), decay_rate (0.99), epsilon (1e-8), cache
adam           learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8), m, v, t (0)
=============  ========================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

Config = dict[str, Any]


def sgd(w: np.ndarray, dw: np.ndarray, config: Config | None = None) -> tuple[np.ndarray, Config]:
    """Vanilla SGD: ``w -= learning_rate * dw`` (``w`` is updated in place and returned, as CS231n).

    Parameters
    ----------
    w : ndarray, any shape
        Weights.
    dw : ndarray, same shape as ``w``
        Gradient of the loss with respect to ``w``.
    config : dict, optional
        ``learning_rate`` (default 1e-2).

    Returns
    -------
    next_w : ndarray, shape of ``w``
    config : dict
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: Config | None = None
) -> tuple[np.ndarray, Config]:
    """SGD with momentum: ``v = momentum * v - learning_rate * dw``; ``next_w = w + v``.

    Parameters
    ----------
    w, dw : ndarray, same shape
        Weights and their gradient.
    config : dict, optional
        ``learning_rate`` (1e-2), ``momentum`` (0.9), ``velocity`` (``zeros_like(w)``).

    Returns
    -------
    next_w : ndarray, shape of ``w`` (a new array)
    config : dict with the updated ``velocity``
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config


def rmsprop(
    w: np.ndarray, dw: np.ndarray, config: Config | None = None
) -> tuple[np.ndarray, Config]:
    """RMSProp: ``cache = decay_rate * cache + (1 - decay_rate) * dw**2``;
    ``next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)``.

    Parameters
    ----------
    w, dw : ndarray, same shape
        Weights and their gradient.
    config : dict, optional
        ``learning_rate`` (1e-2), ``decay_rate`` (0.99), ``epsilon`` (1e-8), ``cache``
        (``zeros_like(w)``).

    Returns
    -------
    next_w : ndarray, shape of ``w`` (a new array)
    config : dict with the updated ``cache``
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    decay = config["decay_rate"]
    cache = decay * config["cache"] + (1 - decay) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache
    return next_w, config


def adam(w: np.ndarray, dw: np.ndarray, config: Config | None = None) -> tuple[np.ndarray, Config]:
    """Adam with bias correction; ``t`` is incremented BEFORE the correction (first step t = 1).

    ``m = beta1 m + (1 - beta1) dw``; ``v = beta2 v + (1 - beta2) dw**2``;
    ``next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)`` with
    ``m_hat = m / (1 - beta1**t)``, ``v_hat = v / (1 - beta2**t)``.

    Parameters
    ----------
    w, dw : ndarray, same shape
        Weights and their gradient.
    config : dict, optional
        ``learning_rate`` (1e-3), ``beta1`` (0.9), ``beta2`` (0.999), ``epsilon`` (1e-8), ``m`` and
        ``v`` (``zeros_like(w)``), ``t`` (0).

    Returns
    -------
    next_w : ndarray, shape of ``w`` (a new array)
    config : dict with the updated ``m``, ``v``, ``t``
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    config["m"] = beta1 * config["m"] + (1 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1 - beta2) * dw**2
    m_hat = config["m"] / (1 - beta1**t)
    v_hat = config["v"] / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config
