"""Ready-made optimizers (PyTorch's update formulas) and :func:`get_optimizer` for names.

Each factory returns a :class:`~numnet.optim.transform.GradientTransformation` built with
:func:`~numnet.optim.transform.chain` from the pieces in this package, so its state is flat with
index prefixes, e.g. ``Adam``: ``"0/m/W1"``, ``"0/v/W1"``, ``"0/count"``, ``"1/count"``,
``"1/lr_scale"``.

Two families, two spellings: these capitalised factories (``SGD``, ``Adam``) build
transformations, objects you keep and call; the lower-case ``numnet.optim.sgd``, ``adam``, ... are
the CS231n update rules ``rule(w, dw, config) -> (next_w, config)`` of :mod:`numnet.optim.cs231n`,
kept with the assignment's names and signatures. The capital letter marks the object, as in
``torch.optim.Adam``.

Typical loop::

    opt = Adam(1e-3)
    state = opt.init(model.params)
    loss, grads = model.loss(X, y)
    updates, state = opt.update(grads, state, model.params)   # grads and old state untouched
    apply_updates(model.params, updates)                      # in place

The :class:`~numnet.solver.Solver` runs the same optimizer through the fused kernel
(:mod:`numnet.kernels.flat_update`) when the model keeps its parameters in one flat array.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from numnet.errors import ConfigError
from numnet.optim._validate import (
    check_learning_rate,
    check_non_negative,
    check_positive,
    check_unit_interval,
)
from numnet.optim.clipping import clip_by_global_norm
from numnet.optim.learning_rate import scale_by_learning_rate
from numnet.optim.moments import scale_by_adam, scale_by_momentum, scale_by_rms
from numnet.optim.transform import GradientTransformation, Schedule, chain
from numnet.optim.weight_decay import add_decayed_weights

LearningRate = float | Schedule


def _preprocessing(weight_decay: float, clip_norm: float | None) -> list[GradientTransformation]:
    """Clip the raw gradients (as ``clip_grad_norm_`` before ``step()``), then add L2 decay."""
    parts: list[GradientTransformation] = []
    if clip_norm is not None:
        parts.append(clip_by_global_norm(check_positive("clip_norm", clip_norm)))
    if check_non_negative("weight_decay", weight_decay) > 0:
        parts.append(add_decayed_weights(weight_decay))
    return parts


def SGD(
    learning_rate: LearningRate,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
) -> GradientTransformation:
    """Stochastic gradient descent as ``torch.optim.SGD`` (dampening 0), optional clipping.

    Parameters
    ----------
    learning_rate : float or schedule ``step -> lr``
        ``> 0``.
    momentum : float
        In ``[0, 1)``; 0 is plain SGD (``p -= lr * g``, no state but the step count).
    nesterov : bool
        Nesterov momentum (needs ``momentum > 0``).
    weight_decay : float
        L2 coefficient added to the gradient (``g + weight_decay * p``), ``>= 0``.
    clip_norm : float or None
        If given, clip the raw gradients to this global L2 norm first.
    """
    lr = check_learning_rate(learning_rate)
    mu = check_unit_interval("momentum", momentum)
    if nesterov and mu == 0.0:
        raise ConfigError("nesterov momentum needs momentum > 0, e.g. momentum=0.9")
    parts = _preprocessing(weight_decay, clip_norm)
    if mu > 0.0:
        parts.append(scale_by_momentum(mu, nesterov=bool(nesterov)))
    parts.append(scale_by_learning_rate(lr))
    return chain(*parts)


def Momentum(
    learning_rate: LearningRate,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
) -> GradientTransformation:
    """SGD with heavy-ball momentum (``torch.optim.SGD(momentum=...)``); see :func:`SGD`."""
    if check_unit_interval("momentum", momentum) == 0.0:
        raise ConfigError("Momentum needs momentum > 0 (e.g. 0.9); use SGD for plain descent")
    return SGD(learning_rate, momentum, False, weight_decay, clip_norm)


def Nesterov(
    learning_rate: LearningRate,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
) -> GradientTransformation:
    """SGD with Nesterov momentum (``torch.optim.SGD(momentum=..., nesterov=True)``)."""
    return SGD(learning_rate, momentum, True, weight_decay, clip_norm)


def RMSProp(
    learning_rate: LearningRate,
    decay_rate: float = 0.99,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
) -> GradientTransformation:
    """RMSProp as ``torch.optim.RMSprop(alpha=decay_rate, eps=epsilon)`` (eps outside the sqrt).

    ``v = decay_rate * v + (1 - decay_rate) * g**2``; ``p -= lr * g / (sqrt(v) + epsilon)``.
    """
    lr = check_learning_rate(learning_rate)
    rho = check_unit_interval("decay_rate", decay_rate)
    eps = check_positive("epsilon", epsilon)
    parts = _preprocessing(weight_decay, clip_norm)
    return chain(*parts, scale_by_rms(rho, eps), scale_by_learning_rate(lr))


def _adam_hypers(beta1: float, beta2: float, epsilon: float) -> tuple[float, float, float]:
    return (
        check_unit_interval("beta1", beta1),
        check_unit_interval("beta2", beta2),
        check_positive("epsilon", epsilon),
    )


def Adam(
    learning_rate: LearningRate,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
) -> GradientTransformation:
    """Adam as ``torch.optim.Adam`` (``weight_decay`` is the L2 term added to the gradient).

    ``p -= lr * m_hat / (sqrt(v_hat) + epsilon)`` with bias-corrected moments.
    """
    lr = check_learning_rate(learning_rate)
    b1, b2, eps = _adam_hypers(beta1, beta2, epsilon)
    parts = _preprocessing(weight_decay, clip_norm)
    return chain(*parts, scale_by_adam(b1, b2, eps), scale_by_learning_rate(lr))


def AdamW(
    learning_rate: LearningRate,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 1e-2,
    clip_norm: float | None = None,
) -> GradientTransformation:
    """AdamW as ``torch.optim.AdamW``: decoupled decay ``p -= lr * (adam_step + weight_decay * p)``.

    The decay uses the scheduled learning rate, like PyTorch's ``p *= 1 - lr * weight_decay``.
    """
    lr = check_learning_rate(learning_rate)
    b1, b2, eps = _adam_hypers(beta1, beta2, epsilon)
    decay = check_non_negative("weight_decay", weight_decay)
    parts = _preprocessing(0.0, clip_norm)
    parts.append(scale_by_adam(b1, b2, eps))
    if decay > 0:
        parts.append(add_decayed_weights(decay))
    parts.append(scale_by_learning_rate(lr))
    return chain(*parts)


OPTIMIZERS: dict[str, Callable[..., GradientTransformation]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}
"""Optimizer names accepted by :func:`get_optimizer` (and the command line)."""


def get_optimizer(name: str, learning_rate: LearningRate, **hyper: Any) -> GradientTransformation:
    """Build an optimizer from its name.

    Parameters
    ----------
    name : {'sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adamw'}
        Case-insensitive.
    learning_rate : float or schedule
        ``> 0``.
    **hyper
        Keyword arguments of the matching factory (e.g. ``momentum=0.9``, ``weight_decay=1e-4``).

    Raises
    ------
    ConfigError
        Unknown name (the message lists the valid ones), unknown hyperparameter, or invalid value.
    """
    key = str(name).strip().lower()
    if key not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    factory = OPTIMIZERS[key]
    accepted = [p for p in inspect.signature(factory).parameters if p != "learning_rate"]
    unknown = sorted(set(hyper) - set(accepted))
    if unknown:
        raise ConfigError(
            f"optimizer {key!r} does not take {', '.join(unknown)}; accepted: {', '.join(accepted)}"
        )
    return factory(learning_rate, **hyper)
