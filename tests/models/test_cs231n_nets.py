"""``TwoLayerNet`` and ``ThreeLayerConvNet``: the assignment notebooks' checks, through its names.

The two-layer checks are the notebook's (initial weight statistics, the published scores and losses
with ``np.linspace`` weights, the gradient check for ``reg`` 0 and 0.7); the convolutional ones are
the initial loss near log 10 with ``weight_scale=1e-3`` and the notebook's gradient check; then
a save/load round trip, since both are registered models.
"""

import math

import numpy as np
import pytest

import numnet
from numnet.errors import ConfigError
from numnet.gradcheck import eval_numerical_gradient, rel_error
from numnet.models import ThreeLayerConvNet, TwoLayerNet, build_model
from tests.models.helpers import gradient_errors
from tests.models.test_cs231n_reference import CORRECT_SCORES, C, D, H, N, X, Y


def test_two_layer_init_matches_the_notebook_check():
    std = 1e-3
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std, seed=0)
    assert list(model.params) == ["W1", "b1", "W2", "b2"]
    assert model.params["W1"].shape == (D, H) and model.params["W2"].shape == (H, C)
    assert abs(model.params["W1"].std() - std) < std / 10
    assert abs(model.params["W2"].std() - std) < std / 10
    assert np.all(model.params["b1"] == 0) and np.all(model.params["b2"] == 0)
    assert model.dtype == np.float64


def test_two_layer_published_scores_and_losses():
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-2)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    assert np.abs(model.loss(X) - CORRECT_SCORES).sum() < 1e-6
    loss, _ = model.loss(X, Y)
    assert abs(loss - 3.4702243556) < 1e-10
    model.reg = 1.0
    loss, _ = model.loss(X, Y)
    assert abs(loss - 26.5948426952) < 1e-10


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_gradient_check_as_in_the_notebook(reg):
    # weights of 5e-2, not 1e-3: with 1e-3 some hidden pre-activations lie within the step h of
    # the ReLU's kink, where a central difference is one-sided
    rng = np.random.default_rng(0)
    Xr, yr = rng.standard_normal((N, D)), rng.integers(C, size=N)
    model = TwoLayerNet(
        input_dim=D, hidden_dim=H, num_classes=C, weight_scale=5e-2, reg=reg, seed=0
    )
    loss, grads = model.loss(Xr, yr)
    for name in sorted(grads):
        numeric = eval_numerical_gradient(lambda _: model.loss(Xr, yr)[0], model.params[name])
        assert rel_error(numeric, grads[name]) < 1e-6, name


def test_three_layer_initial_loss_is_log_of_the_class_count():
    rng = np.random.default_rng(0)
    Xc, yc = rng.standard_normal((50, 3, 32, 32)), rng.integers(10, size=50)
    model = ThreeLayerConvNet(seed=0)
    loss, _ = model.loss(Xc, yc)
    assert abs(loss - math.log(10)) < 1e-2
    model.reg = 0.5
    loss_reg, _ = model.loss(Xc, yc)
    assert loss_reg > loss + 1e-3


def test_three_layer_architecture_and_names():
    model = ThreeLayerConvNet(
        input_dim=(3, 16, 16), num_filters=4, filter_size=5, hidden_dim=6, num_classes=3, seed=0
    )
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes == {
        "W1": (4, 3, 5, 5), "b1": (4,), "W2": (4 * 8 * 8, 6), "b2": (6,), "W3": (6, 3), "b3": (3,)
    }  # fmt: skip
    assert model.dtype == np.float32
    assert abs(model.params["W1"].std() - 1e-3) < 1e-4
    assert model.loss(np.zeros((2, 3, 16, 16))).shape == (2, 3)


def test_three_layer_gradient_check_as_in_the_notebook():
    rng = np.random.default_rng(0)
    Xc, yc = rng.standard_normal((2, 3, 16, 16)), rng.integers(10, size=2)
    model = ThreeLayerConvNet(
        num_filters=3, filter_size=3, input_dim=(3, 16, 16), hidden_dim=7, dtype=np.float64,
        reg=0.5, seed=0,
    )  # fmt: skip
    loss, grads = model.loss(Xc, yc)
    for name in sorted(grads):
        f = lambda _: model.loss(Xc, yc)[0]
        numeric = eval_numerical_gradient(f, model.params[name], h=1e-6)
        # The notebook prints the elementwise maximum and accepts "around 1e-2"; with 1e-3
        # weights a step of h can move a max-pool input across a near tie, which spoils single
        # small elements. The whole array must agree; the strict elementwise check is below.
        error = np.linalg.norm(numeric - grads[name])
        assert error < 1e-3 * (np.linalg.norm(numeric) + np.linalg.norm(grads[name])), name


@pytest.mark.parametrize("kernels", ["fast", "reference"])
def test_three_layer_gradients_away_from_kinks(kernels):
    rng = np.random.default_rng(1)
    Xc, yc = rng.standard_normal((2, 3, 8, 8)), rng.integers(4, size=2)
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=5, num_classes=4,
        dtype=np.float64, reg=0.3, seed=0, kernels=kernels,
    )  # fmt: skip
    errors = gradient_errors(model, Xc, yc)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize(
    "model",
    [
        lambda: TwoLayerNet(input_dim=12, hidden_dim=4, num_classes=3, reg=0.1, seed=3),
        lambda: ThreeLayerConvNet(
            input_dim=(2, 6, 6), num_filters=2, filter_size=3, hidden_dim=4, num_classes=3, seed=3
        ),
    ],
    ids=["two-layer", "three-layer-conv"],
)
def test_save_load_round_trip(tmp_path, model):
    model = model()
    for value in model.params.values():
        value += 0.5  # not what a fresh model from the same seed would hold
    path = tmp_path / "model.npz"
    numnet.save(path, model)
    loaded = numnet.load(path)
    assert type(loaded.model) is type(model)
    assert loaded.get_config() == model.get_config()
    assert list(loaded.params) == list(model.params)
    for name, value in model.params.items():
        np.testing.assert_array_equal(loaded.params[name], value)
    assert build_model(model.get_config()).get_config() == model.get_config()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: TwoLayerNet(hidden_dim=0), "hidden_dim"),
        (lambda: ThreeLayerConvNet(num_filters=-1), "num_filters"),
        (lambda: ThreeLayerConvNet(input_dim=(3, 1, 1), filter_size=3), "pool_size 2"),
        (lambda: ThreeLayerConvNet(weight_scale=0), "weight_scale"),
    ],
)
def test_bad_settings_raise_config_error(make, match):
    with pytest.raises(ConfigError, match=match):
        make()
