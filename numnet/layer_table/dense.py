"""Rows of the dense layers: affine, activations, dropout, normalisations, losses.

Shapes are drawn from the generator, so every seed sees other sizes; inputs of kinked functions
(ReLU, the hinge) stay away from their kinks so that central differences hold.
"""

from __future__ import annotations

import numpy as np

from numnet.functional import activations as act
from numnet.functional import affine, dropout, losses, normalization
from numnet.layer_table.case import (
    PIECEWISE_LINEAR_STEP,
    SMOOTH_STEP,
    LayerCase,
    reference_row,
)
from numnet.layer_table.draw import away_from_zero, between


def _dim(rng: np.random.Generator, low: int = 2, high: int = 6) -> int:
    return between(rng, low, high)


def affine_args(rng: np.random.Generator, x_tail: tuple[int, ...]) -> tuple:
    """``(x, w, b)`` with ``x`` of shape ``(N, *x_tail)``, flattened by the layer to (N, D)."""
    n, m = _dim(rng), _dim(rng)
    d = int(np.prod(x_tail))
    return (
        rng.standard_normal((n, *x_tail)),
        rng.standard_normal((d, m)),
        rng.standard_normal(m),
    )


def _linear(torch, x, w_t, b):
    """nn.Linear semantics: weight (M, D), the transpose of numnet's (D, M)."""
    return torch.nn.functional.linear(x.reshape(x.shape[0], -1), w_t, b)


def _transpose_weight(args: tuple) -> tuple:
    x, w, b = args
    return x, np.ascontiguousarray(w.T), b


def _untranspose_grads(grads: list) -> list:
    dx, dw_t, db = grads
    return [dx, dw_t.T, db]


LINEAR_ORACLE = {
    "torch_fn": _linear,
    "torch_args": _transpose_weight,
    "torch_grads": _untranspose_grads,
}


def bn_args(rng: np.random.Generator, shape: tuple[int, ...], mode: str) -> tuple:
    """``(x, gamma, beta, bn_param)``; in test mode with running statistics to use."""
    channels = shape[1]
    bn_param = {"mode": mode, "eps": 1e-5, "momentum": 0.9}
    if mode == "test":
        bn_param["running_mean"] = rng.standard_normal(channels)
        bn_param["running_var"] = rng.uniform(0.5, 2.0, channels)
    x = 2.0 * rng.standard_normal(shape) + 0.5
    return x, rng.standard_normal(channels), rng.standard_normal(channels), bn_param


def torch_batchnorm(torch, x, gamma, beta, bn_param):
    """``F.batch_norm`` with numnet's mode: batch statistics or the given running ones."""
    training = bn_param["mode"] == "train"
    running = [
        None if training else torch.from_numpy(np.array(bn_param[key], dtype=np.float64))
        for key in ("running_mean", "running_var")
    ]
    return torch.nn.functional.batch_norm(
        x, *running, weight=gamma, bias=beta, training=training, eps=bn_param["eps"]
    )


def spatial_bn_args(rng: np.random.Generator, mode: str) -> tuple:
    """Spatial batch-norm arguments: (N, C, H, W) with odd sizes likely."""
    shape = (_dim(rng), _dim(rng, 1, 4), _dim(rng, 1, 4), _dim(rng))
    return bn_args(rng, shape, mode)


def _layernorm_args(rng: np.random.Generator) -> tuple:
    d = _dim(rng, 3, 8)
    x = 2.0 * rng.standard_normal((_dim(rng), d)) - 1.0
    return x, rng.standard_normal(d), rng.standard_normal(d), {"eps": 1e-5}


def _groupnorm_args(rng: np.random.Generator) -> tuple:
    groups = _dim(rng, 1, 3)
    channels = groups * _dim(rng, 1, 3)
    x = rng.standard_normal((_dim(rng), channels, _dim(rng), _dim(rng)))
    gamma = rng.standard_normal((1, channels, 1, 1))
    beta = rng.standard_normal((1, channels, 1, 1))
    return x, gamma, beta, groups, {"eps": 1e-5}


def _svm_args(rng: np.random.Generator) -> tuple:
    n, c = _dim(rng), _dim(rng, 2, 6)
    y = rng.integers(c, size=n)
    while True:  # keep every hinge margin away from its kink at 0
        x = rng.standard_normal((n, c))
        margins = x - x[np.arange(n), y][:, None] + 1
        margins[np.arange(n), y] = 1
        if np.min(np.abs(margins)) > 1e-3:
            return x, y


def _softmax_args(rng: np.random.Generator) -> tuple:
    n, c = _dim(rng), _dim(rng, 2, 6)
    return 2.0 * rng.standard_normal((n, c)), rng.integers(c, size=n)


def relu_args(rng: np.random.Generator) -> tuple:
    """``(x,)`` of shape (N, D) or (N, C, H, W), no entry within 0.1 of the kink."""
    shape = (_dim(rng), _dim(rng)) if rng.random() < 0.5 else (_dim(rng), 3, _dim(rng), _dim(rng))
    return (away_from_zero(rng, shape),)


def _affine_2d(rng: np.random.Generator) -> tuple:
    return affine_args(rng, (_dim(rng),))


def _affine_4d(rng: np.random.Generator) -> tuple:
    return affine_args(rng, (_dim(rng, 1, 3), _dim(rng, 1, 3), 2))


AFFINE_INPUTS = {"2d": _affine_2d, "4d-input": _affine_4d}
"""``variant -> make_args`` of the affine rows (the ``linear.gemm`` kernel reuses them)."""


def _bn_row(spatial: bool, mode: str) -> LayerCase:
    if spatial:
        layer, forward, backward = (
            "spatial_batchnorm",
            normalization.spatial_batchnorm_forward,
            normalization.spatial_batchnorm_backward,
        )
        make_args = lambda rng: spatial_bn_args(rng, mode)
    else:
        layer, forward, backward = (
            "batchnorm",
            normalization.batchnorm_forward,
            normalization.batchnorm_backward,
        )
        make_args = lambda rng: bn_args(rng, (_dim(rng, 3, 8), _dim(rng)), mode)
    return reference_row(
        layer,
        mode,
        forward,
        backward,
        make_args,
        (0, 1, 2),
        tol=1e-5,
        h=SMOOTH_STEP,
        torch_fn=torch_batchnorm,
    )


ROWS: list[LayerCase] = [
    *(
        reference_row(
            "affine",
            variant,
            affine.affine_forward,
            affine.affine_backward,
            make_args,
            (0, 1, 2),
            h=PIECEWISE_LINEAR_STEP,
            **LINEAR_ORACLE,
        )
        for variant, make_args in AFFINE_INPUTS.items()
    ),
    reference_row(
        "relu",
        "",
        act.relu_forward,
        act.relu_backward,
        relu_args,
        (0,),
        h=PIECEWISE_LINEAR_STEP,
        torch_fn=lambda torch, x: torch.relu(x),
    ),
    reference_row(
        "leaky_relu",
        "default-slope",
        act.leaky_relu_forward,
        act.leaky_relu_backward,
        lambda rng: (away_from_zero(rng, (_dim(rng), _dim(rng))),),
        (0,),
        h=PIECEWISE_LINEAR_STEP,
        torch_fn=lambda torch, x: torch.nn.functional.leaky_relu(x),
    ),
    reference_row(
        "leaky_relu",
        "slope0.2",
        act.leaky_relu_forward,
        act.leaky_relu_backward,
        lambda rng: (away_from_zero(rng, (_dim(rng), 3, _dim(rng))), 0.2),
        (0,),
        h=PIECEWISE_LINEAR_STEP,
        torch_fn=lambda torch, x, slope: torch.nn.functional.leaky_relu(x, slope),
    ),
    reference_row(
        "tanh",
        "",
        act.tanh_forward,
        act.tanh_backward,
        lambda rng: (2.0 * rng.standard_normal((_dim(rng), _dim(rng))),),
        (0,),
        h=SMOOTH_STEP,
        torch_fn=lambda torch, x: torch.tanh(x),
    ),
    reference_row(
        "sigmoid",
        "",
        act.sigmoid_forward,
        act.sigmoid_backward,
        lambda rng: (1.5 * rng.standard_normal((_dim(rng), _dim(rng))),),
        (0,),
        h=SMOOTH_STEP,
        torch_fn=lambda torch, x: torch.sigmoid(x),
    ),
    reference_row(
        "dropout",
        "train-seeded",
        dropout.dropout_forward,
        dropout.dropout_backward,
        lambda rng: (
            rng.standard_normal((_dim(rng), _dim(rng))),
            {"p": 0.7, "mode": "train", "seed": int(rng.integers(1000))},
        ),
        (0,),
        h=PIECEWISE_LINEAR_STEP,
    ),
    reference_row(
        "dropout",
        "test",
        dropout.dropout_forward,
        dropout.dropout_backward,
        lambda rng: (rng.standard_normal((_dim(rng), _dim(rng))), {"p": 0.5, "mode": "test"}),
        (0,),
        h=PIECEWISE_LINEAR_STEP,
        torch_fn=lambda torch, x, param: torch.nn.functional.dropout(
            x, p=1 - param["p"], training=False
        ),
    ),
    _bn_row(False, "train"),
    _bn_row(False, "test"),
    _bn_row(True, "train"),
    _bn_row(True, "test"),
    reference_row(
        "layernorm",
        "",
        normalization.layernorm_forward,
        normalization.layernorm_backward,
        _layernorm_args,
        (0, 1, 2),
        tol=1e-5,
        h=SMOOTH_STEP,
        torch_fn=lambda torch, x, gamma, beta, param: torch.nn.functional.layer_norm(
            x, (x.shape[1],), gamma, beta, eps=param["eps"]
        ),
    ),
    reference_row(
        "spatial_groupnorm",
        "",
        normalization.spatial_groupnorm_forward,
        normalization.spatial_groupnorm_backward,
        _groupnorm_args,
        (0, 1, 2),
        tol=1e-5,
        h=SMOOTH_STEP,
        torch_fn=lambda torch, x, gamma, beta, groups, param: torch.nn.functional.group_norm(
            x, groups, gamma.reshape(-1), beta.reshape(-1), eps=param["eps"]
        ),
    ),
    reference_row(
        "softmax_loss",
        "",
        losses.softmax_loss,
        None,
        _softmax_args,
        (0,),
        kind="loss",
        tol=1e-5,
        h=SMOOTH_STEP,
        torch_fn=lambda torch, x, y: torch.nn.functional.cross_entropy(x, torch.from_numpy(y)),
    ),
    reference_row(
        "softmax_loss",
        "label-smoothing",
        losses.softmax_loss,
        None,
        lambda rng: (*_softmax_args(rng), float(rng.uniform(0.05, 0.5))),
        (0,),
        kind="loss",
        tol=1e-5,
        h=SMOOTH_STEP,
        torch_fn=lambda torch, x, y, eps: torch.nn.functional.cross_entropy(
            x, torch.from_numpy(y), label_smoothing=eps
        ),
    ),
    reference_row(
        "svm_loss",
        "",
        losses.svm_loss,
        None,
        _svm_args,
        (0,),
        kind="loss",
        tol=1e-5,
        # multi_margin_loss divides each sample's hinge sum by C; CS231n's loss does not.
        torch_fn=lambda torch, x, y: (
            x.shape[1] * torch.nn.functional.multi_margin_loss(x, torch.from_numpy(y), margin=1.0)
        ),
    ),
]
