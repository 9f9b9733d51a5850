"""ConvNet: gradients, parameter numbering, input layouts, block-size validation, training."""

import json

import numpy as np
import pytest

from numnet.errors import ConfigError
from numnet.models import ConvNet, build_model
from tests.models.helpers import digits, gradient_errors, train_sgd

SMALL = dict(input_dim=(2, 6, 6), conv_channels=(3, 4), hidden_dims=(5,), num_classes=3)


def make(**kwargs):
    options = dict(SMALL, dtype=np.float64, seed=0)
    options.update(kwargs)
    return ConvNet(**options)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 2, 6, 6)), rng.integers(0, 3, 3)


@pytest.mark.parametrize(
    "options",
    [
        {"reg": 0.5},
        {"normalization": "batchnorm", "reg": 0.3},
        {"dropout_keep_ratio": 0.7, "reg": 0.1},
        {"kernel_size": (3, 1), "pad": (0, 0), "stride": (1, 2), "pool_size": (None, 0)},
        {"init": None, "weight_scale": 0.3, "conv_channels": (2,), "hidden_dims": ()},
        {"label_smoothing": 0.1, "normalization": "batchnorm"},
        {"normalization": "batchnorm", "pool_size": (None, 3), "reg": 0.1},
    ],
    ids=[
        "reg",
        "batchnorm",
        "dropout",
        "per-block",
        "gaussian-shallow",
        "label-smoothing",
        "batchnorm-unpooled",
    ],
)
def test_whole_model_gradients(batch, options):
    model = make(**options)
    errors = gradient_errors(model, *batch)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-5, errors


def test_parameters_numbered_over_convs_then_affines():
    model = make(normalization="batchnorm")
    assert list(model.params) == [
        "W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3", "W4", "b4"
    ]  # fmt: skip
    assert model.params["W1"].shape == (3, 2, 3, 3)
    assert model.params["W2"].shape == (4, 3, 3, 3)
    # 6x6 -> conv (pad 1) 6x6 -> pool 3x3 -> conv 3x3 -> pool 1x1: 4 * 1 * 1 features.
    assert model.output_shapes == [(3, 3, 3), (4, 1, 1)]
    assert model.params["W3"].shape == (4, 5)
    assert model.params["W4"].shape == (5, 3)
    assert model.num_layers == 4
    assert list(model.buffers) == ["running_mean1", "running_var1", "running_mean2", "running_var2"]
    assert len(model.bn_params) == 2


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"normalization": "batchnorm"},
        {"normalization": "batchnorm", "pool_size": (None, 3), "input_dim": (2, 7, 7)},
    ],
    ids=["plain", "batchnorm", "batchnorm-unpooled-odd"],
)
def test_the_fast_plan_equals_the_reference_plan(options):
    from numnet.nn import BatchNorm2d

    rng = np.random.default_rng(2)
    shape = options.get("input_dim", (2, 6, 6))
    X, y = rng.standard_normal((4, *shape)), rng.integers(0, 3, 4)
    fast, plain = make(**options), make(**options, kernels="reference")
    fast_layers = fast.net.layers
    assert fast_layers[0].plan.input_layout == "nchw"
    pooled = "pool_size" not in options
    assert fast_layers[0].plan.output_layout == ("blocks" if pooled else "nhwc")
    assert all(
        layer.plan.kernel == "batchnorm2d.rows"
        for layer in fast_layers
        if isinstance(layer, BatchNorm2d)
    )
    assert all(layer.plan.is_reference and layer.workspace is None for layer in plain.net.layers)
    loss, grads = fast.loss(X, y)
    loss_plain, grads_plain = plain.loss(X, y)
    assert loss == pytest.approx(loss_plain, rel=1e-12)
    for name in grads_plain:
        np.testing.assert_allclose(grads[name], grads_plain[name], rtol=1e-9, atol=1e-12)
    for name in fast.buffers:
        np.testing.assert_allclose(fast.buffers[name], plain.buffers[name], rtol=1e-12)
    np.testing.assert_allclose(fast.loss(X), plain.loss(X), rtol=1e-10)


def test_l2_covers_filters_and_matrices_only(batch):
    X, y = batch
    plain, regularised = make(normalization="batchnorm"), make(normalization="batchnorm", reg=0.2)
    loss0, grads0 = plain.loss(X, y)
    loss1, grads1 = regularised.loss(X, y)
    weights = ["W1", "W2", "W3", "W4"]
    penalty = 0.1 * sum(np.sum(plain.params[w] ** 2) for w in weights)
    assert loss1 - loss0 == pytest.approx(penalty, rel=1e-12)
    for name in plain.params:
        extra = 0.2 * plain.params[name] if name in weights else 0.0
        np.testing.assert_allclose(grads1[name], grads0[name] + extra, rtol=1e-12, atol=1e-15)


def test_flattened_and_image_inputs_give_the_same_scores(batch):
    X, _ = batch
    model = make(normalization="batchnorm")
    np.testing.assert_array_equal(model.loss(X.reshape(3, -1)), model.loss(X))
    np.testing.assert_allclose(model.scores(X.reshape(3, -1), batch_size=2), model.loss(X))
    with pytest.raises(ValueError, match=r"\(N, 2, 6, 6\).*\(N, 72\).*got shape \(3, 2, 5, 6\)"):
        model.loss(X[:, :, :5])
    with pytest.raises(ValueError, match=r"got shape \(3, 71\)"):
        model.loss(X.reshape(3, -1)[:, :71])


def test_float32_stays_float32(batch):
    X, y = batch
    model = ConvNet(**SMALL, normalization="batchnorm", dropout_keep_ratio=0.9, seed=0)
    loss, grads = model.loss(X, y)
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(b.dtype == np.float32 for b in model.buffers.values())
    assert model.predict(X).dtype.kind == "i"
    assert model.scores(X).dtype == np.float32


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"input_dim": (1, 4, 4), "conv_channels": (2,), "kernel_size": 7, "pad": 1},
         "conv block 1: kernel_size 7"),
        ({"input_dim": (1, 8, 8), "conv_channels": (2, 2, 2, 2), "pool_size": 2},
         "conv block 4: pool_size 2 is larger than the 1x1"),
        ({"kernel_size": (3, 3, 3)}, "kernel_size has 3 entries"),
        ({"stride": 0}, "stride"),
        ({"pad": -1}, "pad"),
        ({"normalization": "layernorm"}, "normalization"),
        ({"init": "he", "weight_scale": 1e-2}, "weight_scale"),
        ({"init": None}, "weight_scale"),
        ({"input_dim": (28, 28)}, "input_dim"),
        ({"conv_channels": (3, 0)}, r"conv_channels\[1\]"),
    ],
)  # fmt: skip
def test_bad_configuration_raises_config_error(options, match):
    with pytest.raises(ConfigError, match=match):
        make(**options)


def test_config_round_trip_through_json():
    model = make(
        kernel_size=(3, 1), pad=(1, 0), pool_size=(2, None), normalization="batchnorm", reg=0.01
    )
    config = json.loads(json.dumps(model.get_config()))
    assert config["class"] == "ConvNet"
    rebuilt = build_model(config)
    assert rebuilt.get_config() == model.get_config()
    for name in model.params:
        np.testing.assert_array_equal(rebuilt.params[name], model.params[name])


def test_overfits_fifty_digits():
    X, y = digits(50, flat=False)
    model = ConvNet(
        input_dim=(1, 8, 8), conv_channels=(8,), hidden_dims=(32,), num_classes=10, seed=0
    )
    losses = train_sgd(model, X, y, learning_rate=0.2, steps=150)
    assert losses[-1] < 0.1 * losses[0]
    assert np.mean(model.predict(X.reshape(50, -1)) == y) == 1.0
