"""FullyConnectedNet: gradients, the L2 convention, dtypes, validation, batching, training."""

import json

import numpy as np
import pytest

from numnet.models import FullyConnectedNet, build_model
from tests.models.helpers import digits, gradient_errors, train_sgd

N, D, C = 5, 12, 4


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


def make(hidden_dims=(7, 6), **kwargs):
    options = dict(input_dim=D, num_classes=C, weight_scale=0.2, dtype=np.float64, seed=0)
    options.update(kwargs)
    return FullyConnectedNet(hidden_dims, **options)


@pytest.mark.parametrize(
    "options",
    [
        {"reg": 0.0},
        {"reg": 3.14},
        {"normalization": "batchnorm", "reg": 0.7},
        {"normalization": "layernorm", "reg": 0.7},
        {"dropout_keep_ratio": 0.6, "reg": 0.2},
        {"dropout_keep_ratio": 0.75, "normalization": "batchnorm"},
        {"hidden_dims": [], "reg": 0.5},
        {"label_smoothing": 0.2, "reg": 0.1},
    ],
    ids=[
        "plain",
        "reg",
        "batchnorm",
        "layernorm",
        "dropout",
        "dropout-batchnorm",
        "softmax",
        "label-smoothing",
    ],
)
def test_whole_model_gradients(batch, options):
    model = make(**options)
    errors = gradient_errors(model, *batch)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-6, errors


def test_l2_convention_adds_half_reg_sum_of_squares_and_reg_w(batch):
    X, y = batch
    reg = 0.37
    plain = make(normalization="batchnorm")
    regularised = make(normalization="batchnorm", reg=reg)
    loss0, grads0 = plain.loss(X, y)
    loss1, grads1 = regularised.loss(X, y)
    weights = ["W1", "W2", "W3"]
    penalty = 0.5 * reg * sum(np.sum(plain.params[w] ** 2) for w in weights)
    assert loss1 > loss0
    assert loss1 - loss0 == pytest.approx(penalty, rel=1e-12)
    for name in plain.params:
        extra = reg * plain.params[name] if name in weights else 0.0
        np.testing.assert_allclose(grads1[name], grads0[name] + extra, rtol=1e-12, atol=1e-15)


def test_params_keys_shapes_and_cs231n_attributes():
    model = FullyConnectedNet([8, 6], input_dim=10, num_classes=3, normalization="batchnorm")
    assert list(model.params) == [
        "W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"
    ]  # fmt: skip
    assert model.params["W1"].shape == (10, 8) and model.params["b3"].shape == (3,)
    assert model.num_layers == 3
    assert len(model.bn_params) == 2
    assert model.bn_params[0] is model.net.layers[1].bn_param
    assert list(model.buffers) == ["running_mean1", "running_var1", "running_mean2", "running_var2"]
    assert model.reg == 0.0 and model.dtype == np.float32
    np.testing.assert_array_equal(model.params["gamma2"], np.ones(6))
    assert np.std(model.params["W1"]) == pytest.approx(1e-2, rel=0.3)  # CS231n weight_scale


def test_float32_stays_float32():
    model = FullyConnectedNet([9], input_dim=D, num_classes=C, normalization="batchnorm", seed=1)
    X = np.random.default_rng(1).standard_normal((N, 3, 4))  # float64 input, 3-D
    y = np.arange(N) % C
    loss, grads = model.loss(X, y)
    assert isinstance(loss, float)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(b.dtype == np.float32 for b in model.buffers.values())
    assert model.loss(X).dtype == np.float32
    assert model.scores(X).dtype == np.float32


def test_input_and_label_validation(batch):
    X, y = batch
    model = make()
    with pytest.raises(ValueError, match=r"\(N, 12\).*got shape \(5, 11\)"):
        model.loss(X[:, :11], y)
    with pytest.raises(ValueError, match="shape"):
        model.loss(X[0])
    with pytest.raises(ValueError, match=r"labels y must have shape \(N,\) = \(5,\)"):
        model.loss(X, y[:3])
    with pytest.raises(ValueError, match="labels must lie in"):
        model.loss(X, np.full(N, C))
    with pytest.raises(TypeError, match="integer"):
        model.loss(X, y.astype(np.float64))
    with pytest.raises(TypeError, match="numeric"):
        model.loss(np.full((N, D), "a"))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"normalization": "groupnorm"}, "normalization"),
        ({"init": "lecun"}, "init"),
        ({"dropout_keep_ratio": 0}, "dropout_keep_ratio"),
        ({"reg": -1}, "reg"),
        ({"dtype": np.int32}, "dtype"),
        ({"hidden_dims": [4, 0]}, r"hidden_dims\[1\]"),
        ({"hidden_dims": 5}, "hidden_dims"),
        ({"weight_scale": -0.1}, "weight_scale"),
        ({"seed": -3}, "seed"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"label_smoothing": -0.1}, "label_smoothing"),
    ],
)
def test_bad_configuration_raises_config_error(options, match):
    from numnet.errors import ConfigError

    with pytest.raises(ConfigError, match=match):
        make(**options)


def test_scores_and_predict_in_batches_match_one_pass():
    model = make(normalization="batchnorm", dropout_keep_ratio=0.5)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((23, D))
    model.loss(X, rng.integers(0, C, 23))  # move the running statistics away from 0 / 1
    full = model.loss(X)
    np.testing.assert_allclose(model.scores(X, batch_size=4), full, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X, batch_size=5), full.argmax(axis=1))
    # Test mode: batch norm uses running statistics, so scores do not depend on the batch.
    np.testing.assert_allclose(model.loss(X[:1]), full[:1], rtol=1e-12)
    np.testing.assert_array_equal(model.loss(X), full)  # no dropout at test time
    with pytest.raises(ValueError, match="batch_size"):
        model.scores(X, batch_size=0)


def test_dropout_masks_change_between_steps_and_follow_the_seed(batch):
    X, y = batch
    a = make(dropout_keep_ratio=0.5, seed=5)
    b = make(dropout_keep_ratio=0.5, seed=5)
    losses_a = [a.loss(X, y)[0] for _ in range(3)]
    losses_b = [b.loss(X, y)[0] for _ in range(3)]
    assert losses_a == losses_b
    assert len(set(losses_a)) == 3


def test_seed_fixes_weights_independently_of_dropout():
    a = make(seed=11)
    b = make(seed=11, dropout_keep_ratio=0.5, normalization="layernorm")
    c = make(seed=12)
    for name in ["W1", "W2", "W3"]:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_he_and_xavier_init():
    he = FullyConnectedNet([400], input_dim=300, num_classes=10, init="he", seed=0)
    assert np.std(he.params["W1"]) == pytest.approx(np.sqrt(2 / 300), rel=0.02)
    xavier = FullyConnectedNet([400], input_dim=300, num_classes=10, init="xavier", seed=0)
    assert np.std(xavier.params["W1"]) == pytest.approx(np.sqrt(2 / 700), rel=0.02)


def test_config_round_trip_through_json():
    model = make(normalization="layernorm", dropout_keep_ratio=0.8, reg=0.1, init="he")
    config = json.loads(json.dumps(model.get_config()))
    assert config["class"] == "FullyConnectedNet"
    rebuilt = build_model(config)
    assert isinstance(rebuilt, FullyConnectedNet)
    assert rebuilt.get_config() == model.get_config()
    for name in model.params:
        np.testing.assert_array_equal(rebuilt.params[name], model.params[name])


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_overfits_fifty_digits(normalization):
    X, y = digits(50)
    model = FullyConnectedNet(
        [64], input_dim=64, num_classes=10, normalization=normalization, init="he", seed=0
    )
    losses = train_sgd(model, X, y, learning_rate=0.5, steps=150)
    assert losses[-1] < 0.1 * losses[0]
    assert np.mean(model.predict(X) == y) == 1.0
