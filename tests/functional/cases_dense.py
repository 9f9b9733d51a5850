"""Layer table rows for the dense layers: affine, activations, dropout, normalisations, losses.

Shapes are drawn from the generator so that the PyTorch parity test sees a different shape per seed;
inputs of kinked functions (ReLU, hinge) are kept away from their kinks so central differences hold.
"""

from __future__ import annotations

import numpy as np

from numnet.functional import activations as act
from numnet.functional import affine, dropout, losses, normalization
from tests.functional.layercase import LayerCase


def _dim(rng: np.random.Generator, low: int = 2, high: int = 6) -> int:
    return int(rng.integers(low, high + 1))


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    u = rng.standard_normal(shape)
    return np.sign(u) * (0.1 + np.abs(u))


def _affine_args(rng: np.random.Generator, x_tail: tuple[int, ...]) -> tuple:
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


def _bn_args(rng: np.random.Generator, shape: tuple[int, ...], mode: str) -> tuple:
    channels = shape[1]
    bn_param = {"mode": mode, "eps": 1e-5, "momentum": 0.9}
    if mode == "test":
        bn_param["running_mean"] = rng.standard_normal(channels)
        bn_param["running_var"] = rng.uniform(0.5, 2.0, channels)
    x = 2.0 * rng.standard_normal(shape) + 0.5
    return x, rng.standard_normal(channels), rng.standard_normal(channels), bn_param


def _torch_batchnorm(torch, x, gamma, beta, bn_param):
    training = bn_param["mode"] == "train"
    running = [
        None if training else torch.from_numpy(np.array(bn_param[key], dtype=np.float64))
        for key in ("running_mean", "running_var")
    ]
    return torch.nn.functional.batch_norm(
        x, *running, weight=gamma, bias=beta, training=training, eps=bn_param["eps"]
    )


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
    return 3.0 * rng.standard_normal((n, c)), rng.integers(c, size=n)


CASES: list[LayerCase] = [
    LayerCase(
        id="affine/2d",
        forward=affine.affine_forward,
        backward=affine.affine_backward,
        make_args=lambda rng: _affine_args(rng, (_dim(rng),)),
        grad_args=(0, 1, 2),
        torch_fn=_linear,
        torch_args=_transpose_weight,
        torch_grads=_untranspose_grads,
    ),
    LayerCase(
        id="affine/4d-input",
        forward=affine.affine_forward,
        backward=affine.affine_backward,
        make_args=lambda rng: _affine_args(rng, (_dim(rng, 1, 3), _dim(rng, 1, 3), 2)),
        grad_args=(0, 1, 2),
        torch_fn=_linear,
        torch_args=_transpose_weight,
        torch_grads=_untranspose_grads,
    ),
    LayerCase(
        id="relu",
        forward=act.relu_forward,
        backward=act.relu_backward,
        make_args=lambda rng: (_away_from_zero(rng, (_dim(rng), _dim(rng))),),
        grad_args=(0,),
        torch_fn=lambda torch, x: torch.relu(x),
    ),
    LayerCase(
        id="leaky_relu/default-slope",
        forward=act.leaky_relu_forward,
        backward=act.leaky_relu_backward,
        make_args=lambda rng: (_away_from_zero(rng, (_dim(rng), _dim(rng))),),
        grad_args=(0,),
        torch_fn=lambda torch, x: torch.nn.functional.leaky_relu(x),
    ),
    LayerCase(
        id="leaky_relu/slope0.2",
        forward=act.leaky_relu_forward,
        backward=act.leaky_relu_backward,
        make_args=lambda rng: (_away_from_zero(rng, (_dim(rng), 3, _dim(rng))), 0.2),
        grad_args=(0,),
        torch_fn=lambda torch, x, slope: torch.nn.functional.leaky_relu(x, slope),
    ),
    LayerCase(
        id="tanh",
        forward=act.tanh_forward,
        backward=act.tanh_backward,
        make_args=lambda rng: (2.0 * rng.standard_normal((_dim(rng), _dim(rng))),),
        grad_args=(0,),
        torch_fn=lambda torch, x: torch.tanh(x),
    ),
    LayerCase(
        id="sigmoid",
        forward=act.sigmoid_forward,
        backward=act.sigmoid_backward,
        make_args=lambda rng: (1.5 * rng.standard_normal((_dim(rng), _dim(rng))),),
        grad_args=(0,),
        torch_fn=lambda torch, x: torch.sigmoid(x),
    ),
    LayerCase(
        id="dropout/train-seeded",
        forward=dropout.dropout_forward,
        backward=dropout.dropout_backward,
        make_args=lambda rng: (
            rng.standard_normal((_dim(rng), _dim(rng))),
            {"p": 0.7, "mode": "train", "seed": int(rng.integers(1000))},
        ),
        grad_args=(0,),
    ),
    LayerCase(
        id="dropout/test",
        forward=dropout.dropout_forward,
        backward=dropout.dropout_backward,
        make_args=lambda rng: (
            rng.standard_normal((_dim(rng), _dim(rng))),
            {"p": 0.5, "mode": "test"},
        ),
        grad_args=(0,),
        torch_fn=lambda torch, x, param: torch.nn.functional.dropout(
            x, p=1 - param["p"], training=False
        ),
    ),
    LayerCase(
        id="batchnorm/train",
        forward=normalization.batchnorm_forward,
        backward=normalization.batchnorm_backward,
        make_args=lambda rng: _bn_args(rng, (_dim(rng, 3, 8), _dim(rng)), "train"),
        grad_args=(0, 1, 2),
        tol=1e-5,
        torch_fn=_torch_batchnorm,
    ),
    LayerCase(
        id="batchnorm/test",
        forward=normalization.batchnorm_forward,
        backward=normalization.batchnorm_backward,
        make_args=lambda rng: _bn_args(rng, (_dim(rng, 3, 8), _dim(rng)), "test"),
        grad_args=(0, 1, 2),
        tol=1e-5,
        torch_fn=_torch_batchnorm,
    ),
    LayerCase(
        id="spatial_batchnorm/train",
        forward=normalization.spatial_batchnorm_forward,
        backward=normalization.spatial_batchnorm_backward,
        make_args=lambda rng: _bn_args(rng, (_dim(rng), _dim(rng, 1, 4), 3, _dim(rng)), "train"),
        grad_args=(0, 1, 2),
        tol=1e-5,
        torch_fn=_torch_batchnorm,
    ),
    LayerCase(
        id="spatial_batchnorm/test",
        forward=normalization.spatial_batchnorm_forward,
        backward=normalization.spatial_batchnorm_backward,
        make_args=lambda rng: _bn_args(rng, (_dim(rng), _dim(rng, 1, 4), 2, _dim(rng)), "test"),
        grad_args=(0, 1, 2),
        tol=1e-5,
        torch_fn=_torch_batchnorm,
    ),
    LayerCase(
        id="layernorm",
        forward=normalization.layernorm_forward,
        backward=normalization.layernorm_backward,
        make_args=_layernorm_args,
        grad_args=(0, 1, 2),
        tol=1e-5,
        torch_fn=lambda torch, x, gamma, beta, param: torch.nn.functional.layer_norm(
            x, (x.shape[1],), gamma, beta, eps=param["eps"]
        ),
    ),
    LayerCase(
        id="spatial_groupnorm",
        forward=normalization.spatial_groupnorm_forward,
        backward=normalization.spatial_groupnorm_backward,
        make_args=_groupnorm_args,
        grad_args=(0, 1, 2),
        tol=1e-5,
        torch_fn=lambda torch, x, gamma, beta, groups, param: torch.nn.functional.group_norm(
            x, groups, gamma.reshape(-1), beta.reshape(-1), eps=param["eps"]
        ),
    ),
    LayerCase(
        id="softmax_loss",
        forward=losses.softmax_loss,
        backward=None,
        make_args=_softmax_args,
        grad_args=(0,),
        kind="loss",
        tol=1e-5,
        torch_fn=lambda torch, x, y: torch.nn.functional.cross_entropy(x, torch.from_numpy(y)),
    ),
    LayerCase(
        id="softmax_loss/label-smoothing",
        forward=losses.softmax_loss,
        backward=None,
        make_args=lambda rng: (*_softmax_args(rng), float(rng.uniform(0.05, 0.5))),
        grad_args=(0,),
        kind="loss",
        tol=1e-5,
        torch_fn=lambda torch, x, y, eps: torch.nn.functional.cross_entropy(
            x, torch.from_numpy(y), label_smoothing=eps
        ),
    ),
    LayerCase(
        id="svm_loss",
        forward=losses.svm_loss,
        backward=None,
        make_args=_svm_args,
        grad_args=(0,),
        kind="loss",
        tol=1e-5,
        # multi_margin_loss divides each sample's hinge sum by C; CS231n's loss does not.
        torch_fn=lambda torch, x, y: (
            x.shape[1] * torch.nn.functional.multi_margin_loss(x, torch.from_numpy(y), margin=1.0)
        ),
    ),
]
