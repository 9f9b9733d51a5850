"""Stateful layers: every module's backward (input and parameter gradients) against central
differences in float64, dtype preservation, the skipped input gradient, and layer state."""

import numpy as np
import pytest

from numnet import nn
from numnet.gradcheck import eval_numerical_gradient_array, rel_error
from numnet.kernels.plan import LayerPlan
from numnet.kernels.workspace import Workspace
from tests.functional.test_pool_blocks import to_blocks


def _seeded_dropout():
    layer = nn.Dropout(0.6, rng=np.random.default_rng(0))
    layer.dropout_param["seed"] = 7  # the same mask on every call, for the numerical gradient
    return layer


# (id, factory(rng, dtype), input shape, tolerance)
MODULES = [
    ("linear", lambda r, d: nn.Linear(12, 5, rng=r, dtype=d), (4, 3, 4), 1e-7),
    ("conv", lambda r, d: nn.Conv2d(2, 3, 3, 2, 1, rng=r, dtype=d), (2, 2, 5, 5), 1e-7),
    ("relu", lambda r, d: nn.ReLU(), (3, 6), 1e-7),
    ("leaky", lambda r, d: nn.LeakyReLU(0.1), (3, 6), 1e-7),
    ("tanh", lambda r, d: nn.Tanh(), (3, 6), 1e-7),
    ("sigmoid", lambda r, d: nn.Sigmoid(), (3, 6), 1e-7),
    ("dropout", lambda r, d: _seeded_dropout(), (5, 6), 1e-7),
    ("batchnorm1d", lambda r, d: nn.BatchNorm1d(6, dtype=d), (8, 6), 1e-5),
    ("batchnorm2d", lambda r, d: nn.BatchNorm2d(3, dtype=d), (4, 3, 3, 3), 1e-5),
    ("layernorm", lambda r, d: nn.LayerNorm(6, dtype=d), (4, 6), 1e-5),
    ("maxpool", lambda r, d: nn.MaxPool2d(2), (2, 3, 4, 4), 1e-7),
    ("avgpool", lambda r, d: nn.AvgPool2d(2, stride=1), (2, 3, 4, 4), 1e-7),
    ("flatten", lambda r, d: nn.Flatten(), (2, 3, 2, 2), 1e-7),
]
IDS = [case[0] for case in MODULES]


def _randomise_params(layer, rng):
    """Move gammas/betas/biases away from their 1/0 starts so their gradients are exercised."""
    for name, value in layer.params.items():
        layer.params[name] = value + 0.3 * rng.standard_normal(value.shape)


@pytest.mark.parametrize(("name", "factory", "shape", "tol"), MODULES, ids=IDS)
def test_module_gradients_match_central_differences(name, factory, shape, tol):
    rng = np.random.default_rng(0)
    layer = factory(rng, np.float64)
    _randomise_params(layer, rng)
    x = rng.standard_normal(shape)
    out = layer.forward(x, train=True)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    assert dx.shape == x.shape
    numeric_dx = eval_numerical_gradient_array(lambda v: layer.forward(v, train=True), x, dout)
    assert rel_error(dx, numeric_dx) < tol
    assert set(layer.grads) == set(layer.params)
    for key, value in layer.params.items():
        numeric = eval_numerical_gradient_array(lambda _: layer.forward(x, train=True), value, dout)
        assert layer.grads[key].shape == value.shape
        assert rel_error(layer.grads[key], numeric) < tol, key


@pytest.mark.parametrize(("name", "factory", "shape", "tol"), MODULES, ids=IDS)
def test_module_keeps_float32(name, factory, shape, tol):
    rng = np.random.default_rng(1)
    layer = factory(rng, np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    out = layer.forward(x, train=True)
    assert out.dtype == np.float32
    dx = layer.backward(np.ones_like(out))
    assert dx.dtype == np.float32
    for key, grad in layer.grads.items():
        assert grad.dtype == np.float32, key
    for key, value in layer.buffers.items():
        assert value.dtype == np.float32, key


@pytest.mark.parametrize("layer", [nn.Linear(3, 2), nn.ReLU(), nn.BatchNorm1d(3), nn.Flatten()])
def test_backward_needs_a_training_forward(layer):
    x = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(x)
    out = layer.forward(x, train=False)
    with pytest.raises(RuntimeError, match="train=True"):
        layer.backward(np.ones_like(out))


@pytest.mark.parametrize(
    "make",
    [
        lambda r: nn.Linear(6, 4, rng=r, dtype=np.float64),
        lambda r: nn.Conv2d(2, 3, 3, 1, 1, rng=r, dtype=np.float64),
    ],
    ids=["linear", "conv"],
)
def test_skipping_the_input_gradient_keeps_parameter_gradients(make):
    rng = np.random.default_rng(2)
    layer = make(rng)
    x = rng.standard_normal((3, 6) if isinstance(layer, nn.Linear) else (3, 2, 4, 4))
    out = layer.forward(x, train=True)
    dout = rng.standard_normal(out.shape)
    assert layer.backward(dout, input_grad=True) is not None
    full = {k: v.copy() for k, v in layer.grads.items()}
    assert layer.backward(dout, input_grad=False) is None
    for key in full:
        np.testing.assert_allclose(layer.grads[key], full[key], rtol=1e-12, atol=1e-12)


def test_linear_reads_replaced_parameters():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0), dtype=np.float64)
    layer.params["W"] = np.arange(6.0).reshape(3, 2)
    layer.params["b"] = np.array([1.0, -1.0])
    out = layer.forward(np.array([[1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(out, [[0.0 + 8.0 + 1.0, 1.0 + 10.0 - 1.0]])


def test_batchnorm_running_stats_are_buffers_and_bn_param():
    layer = nn.BatchNorm1d(4, momentum=0.5, dtype=np.float64)
    assert list(layer.buffers) == ["running_mean", "running_var"]
    np.testing.assert_array_equal(layer.buffers["running_var"], np.ones(4))
    x = np.random.default_rng(3).standard_normal((10, 4)) * 2 + 5
    layer.forward(x, train=True)
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.5 * x.mean(axis=0))
    np.testing.assert_allclose(layer.buffers["running_var"], 0.5 + 0.5 * x.var(axis=0))
    assert layer.buffers["running_mean"] is layer.bn_param["running_mean"]
    new_mean = np.full(4, 5.0)
    layer.buffers["running_mean"] = new_mean
    assert layer.bn_param["running_mean"] is new_mean
    layer.buffers["running_var"] = np.full(4, 4.0 - 1e-5)
    out = layer.forward(np.full((1, 4), 7.0), train=False)  # test mode uses the running stats
    np.testing.assert_allclose(out, np.ones((1, 4)))
    with pytest.raises(KeyError):
        layer.buffers["mean"] = new_mean
    with pytest.raises(TypeError):
        del layer.buffers["running_mean"]


@pytest.mark.parametrize("blocks", [False, True])
def test_channel_last_batchnorm2d_equals_the_nchw_layer(blocks):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 6, 8)) * 2 + 1  # (N, C, H, W)
    dout = rng.standard_normal(x.shape)
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    nchw, last = nn.BatchNorm2d(4, dtype=np.float64), nn.BatchNorm2d(4, dtype=np.float64)
    last.plan = LayerPlan(
        "batchnorm2d.rows", Workspace(), input_layout="nhwc", output_layout="nhwc"
    )
    for layer in (nchw, last):
        layer.params["gamma"], layer.params["beta"] = gamma, beta

    def to_last(a):  # (N, C, H, W) -> (N, H, W, C), or the 2x2 pooling blocks (4, N, H/2, W/2, C)
        a = a.transpose(0, 2, 3, 1)
        if blocks:
            a = to_blocks(a)
        return np.ascontiguousarray(a)

    for train in (True, False):
        out = nchw.forward(x, train=train)
        out_last = last.forward(to_last(x), train=train)
        np.testing.assert_allclose(out_last, to_last(out), rtol=1e-12, atol=1e-12)
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(last.buffers[name], nchw.buffers[name], rtol=1e-12)
    nchw.forward(x, train=True)
    last.forward(to_last(x), train=True)
    dx = nchw.backward(dout)
    np.testing.assert_allclose(last.backward(to_last(dout)), to_last(dx), rtol=1e-10, atol=1e-12)
    for name in ("gamma", "beta"):
        np.testing.assert_allclose(last.grads[name], nchw.grads[name], rtol=1e-10, atol=1e-12)
    with pytest.raises(
        ValueError, match=r"BatchNorm2d\(4\) expects inputs \(\.\.\., C\) with C = 4"
    ):
        last.forward(x, train=True)  # (N, C, H, W) has W = 8 channels last


def test_dropout_generator_masks_and_test_mode():
    x = np.ones((200, 50), dtype=np.float32)
    layer = nn.Dropout(0.8, rng=np.random.default_rng(0))
    assert layer.forward(x, train=False) is x
    first = layer.forward(x, train=True)
    second = layer.forward(x, train=True)
    assert not np.array_equal(first, second)  # the generator advances between calls
    assert set(np.unique(first)) <= {0.0, np.float32(1 / 0.8)}
    assert abs((first > 0).mean() - 0.8) < 0.02
    again = nn.Dropout(0.8, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again.forward(x, train=True), first)


@pytest.mark.parametrize("keep", [0, 1.5, -0.1, "0.5", True])
def test_dropout_rejects_bad_keep_probability(keep):
    with pytest.raises(ValueError, match="keep"):
        nn.Dropout(keep)


def test_linear_rejects_mismatched_input():
    layer = nn.Linear(5, 2)
    with pytest.raises(ValueError, match="shape"):
        layer.forward(np.ones((3, 4), dtype=np.float32))
