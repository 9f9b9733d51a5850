"""Sequential: forward/backward through the chain and the ParameterView global names."""

import numpy as np
import pytest

from numnet import nn
from numnet.gradcheck import eval_numerical_gradient_array, rel_error


def make_net(dtype=np.float64):
    rng = np.random.default_rng(0)
    return nn.Sequential(
        [
            nn.Flatten(),
            nn.Linear(6, 5, rng=rng, dtype=dtype),
            nn.BatchNorm1d(5, dtype=dtype),
            nn.ReLU(),
            nn.Linear(5, 4, rng=rng, dtype=dtype),
            nn.LayerNorm(4, dtype=dtype),
            nn.Tanh(),
            nn.Linear(4, 3, rng=rng, dtype=dtype),
        ]
    )


def test_global_names_order_and_length():
    net = make_net()
    expected = ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert list(net.params) == expected
    assert len(net.params) == 10
    assert list(net.buffers) == ["running_mean1", "running_var1"]
    assert net.weight_names == ["W1", "W2", "W3"]
    assert net.names == ["0", "1", "1", "1", "2", "2", "2", "3"]
    assert "W3" in net.params and "W4" not in net.params
    assert net.params["W2"].shape == (5, 4)


def test_assignment_replaces_the_array_inside_the_layer():
    net = make_net()
    linear = net.layers[1]
    new = np.zeros((6, 5))
    net.params["W1"] = new
    assert linear.params["W"] is new
    assert net.params["W1"] is new
    out = net.forward(np.ones((2, 2, 3)))
    # With W1 = 0 the batch norm sees identical rows: both samples give the same scores.
    np.testing.assert_allclose(out[0], out[1])


def test_in_place_edits_are_seen_by_the_layer():
    net = make_net()
    net.params["b3"] += 10.0
    np.testing.assert_array_equal(net.layers[-1].params["b"], np.full(3, 10.0))
    net.buffers["running_mean1"][:] = 2.0
    np.testing.assert_array_equal(net.layers[2].bn_param["running_mean"], np.full(5, 2.0))
    net.buffers["running_var1"] = np.full(5, 9.0)
    assert net.layers[2].bn_param["running_var"] is net.buffers["running_var1"]


def test_view_rejects_unknown_names_wrong_shapes_and_deletion():
    net = make_net()
    with pytest.raises(KeyError, match="W9"):
        net.params["W9"] = np.zeros(3)
    with pytest.raises(KeyError):
        net.params["W9"]
    with pytest.raises(ValueError, match=r"\(6, 5\)"):
        net.params["W1"] = np.zeros((5, 6))
    with pytest.raises(TypeError, match="delete"):
        del net.params["W1"]


def test_grads_view_fills_after_backward_and_matches_numerical():
    net = make_net()
    assert len(net.grads) == 0
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 2, 3))
    out = net.forward(x, train=True)
    dout = rng.standard_normal(out.shape)
    dx = net.backward(dout)
    assert list(net.grads) == list(net.params)
    numeric_dx = eval_numerical_gradient_array(lambda v: net.forward(v, train=True), x, dout)
    assert rel_error(dx, numeric_dx) < 1e-6
    for name in ["W1", "gamma1", "W2", "beta2", "b3"]:
        numeric = eval_numerical_gradient_array(
            lambda _: net.forward(x, train=True), net.params[name], dout
        )
        assert rel_error(net.grads[name], numeric) < 1e-6, name


def test_backward_without_input_gradient_gives_same_parameter_gradients():
    net = make_net()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6))
    dout = rng.standard_normal((4, 3))
    net.forward(x, train=True)
    net.backward(dout)
    full = {k: v.copy() for k, v in net.grads.items()}
    net.forward(x, train=True)
    assert net.backward(dout, input_grad=False) is None
    for name, value in full.items():
        np.testing.assert_allclose(net.grads[name], value, rtol=1e-12, atol=1e-14)


def test_backward_without_input_gradient_skips_layers_before_the_first_weights():
    class Exploding(nn.Module):
        def forward(self, x, train=False):
            return x

        def backward(self, dout, input_grad=True):
            raise AssertionError("this layer should not be asked for a gradient")

    net = nn.Sequential([Exploding(), nn.Linear(3, 2, rng=np.random.default_rng(0))])
    net.forward(np.ones((2, 3), dtype=np.float32), train=True)
    assert net.backward(np.ones((2, 2), dtype=np.float32), input_grad=False) is None
    assert net.grads["W1"].shape == (3, 2)
    with pytest.raises(AssertionError, match="should not"):
        net.backward(np.ones((2, 2), dtype=np.float32), input_grad=True)


def test_name_collisions_and_explicit_names():
    layers = [nn.BatchNorm1d(3), nn.BatchNorm1d(3)]
    with pytest.raises(ValueError, match="gamma0"):
        nn.Sequential(layers)
    net = nn.Sequential(layers, names=["_a", "_b"])
    assert list(net.params) == ["gamma_a", "beta_a", "gamma_b", "beta_b"]
    with pytest.raises(ValueError, match="names"):
        nn.Sequential(layers, names=["_a"])
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential([np.zeros(3)])
