"""Shared helpers of the model tests: whole-model gradient check, digits data, a plain SGD loop."""

from __future__ import annotations

import numpy as np

from numnet.gradcheck import eval_numerical_gradient, rel_error


def gradient_error(numeric, analytic):
    """CS231n relative error, except for an all-zero gradient (a bias followed by batch norm has a
    true gradient of exactly zero): that one is compared absolutely, since there the relative error
    only measures rounding."""
    if max(np.abs(numeric).max(), np.abs(analytic).max()) < 1e-8:
        return float(np.abs(numeric - analytic).max())
    return rel_error(numeric, analytic)


def gradient_errors(model, X, y, h=1e-5):
    """Error of every analytic gradient of ``model.loss(X, y)`` against central differences.

    Dropout layers get a fixed ``seed`` in their ``dropout_param`` so every loss evaluation draws
    the same mask. Every parameter is first moved by a little noise: zero biases put ReLU inputs
    exactly on the kink (e.g. a sample whose hidden units were all dropped), where the numerical
    derivative is one-sided; and gammas/betas away from 1/0 exercise their gradients.
    """
    rng = np.random.default_rng(99)
    for name, value in model.params.items():
        value += value.dtype.type(0.1) * rng.standard_normal(value.shape).astype(value.dtype)
    for layer in model.dropout_layers:
        layer.dropout_param["seed"] = 123
    _, grads = model.loss(X, y)
    grads = {name: value.copy() for name, value in grads.items()}
    errors = {}
    for name in model.params:
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], h=h)
        errors[name] = gradient_error(numeric, grads[name])
    return errors


def digits(n=50, flat=True):
    """The first ``n`` images of sklearn's 8x8 digits, scaled to [0, 1], and their labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = data.images[:n] / 16.0
    if flat:
        X = X.reshape(n, -1)
    else:
        X = X[:, None, :, :]
    return X.astype(np.float32), data.target[:n].astype(np.int64)


def train_sgd(model, X, y, learning_rate, steps):
    """Full-batch plain SGD through ``model.params`` (what a CS231n Solver does, minus the rest)."""
    losses = []
    for _ in range(steps):
        loss, grads = model.loss(X, y)
        losses.append(loss)
        for name, grad in grads.items():
            model.params[name] = model.params[name] - learning_rate * grad
    return losses
