"""The fast plan (kernels, reused buffers, flat parameters and gradients, channel-last conv
activations) gives the reference plan's numbers, and never aliases what it hands out."""

from collections.abc import MutableMapping

import numpy as np
import pytest

from numnet import optim
from numnet.functional.pooling import max_pool_backward, max_pool_forward
from numnet.kernels.flat import FlatArrays
from numnet.kernels.pool_nhwc import max_pool_nhwc_backward, max_pool_nhwc_forward
from numnet.models import ConvNet, FullyConnectedNet


def _fc(dtype=np.float32, speed=True):
    model = FullyConnectedNet([7, 5], input_dim=12, num_classes=4, seed=3, dtype=dtype, reg=0.1)
    model.use_workspace(speed)
    return model


def _conv(speed=True, channels_last=True):
    model = ConvNet(
        input_dim=(2, 8, 8), conv_channels=(3, 4), hidden_dims=(6,), num_classes=3, seed=1
    )
    model.use_workspace(speed)
    if speed and not channels_last:  # every layer planned on its own: kernels, NCHW between them
        for layer in model.net.layers:
            layer.set_kernels("fast")
        assert all(layer.plan.input_layout == "nchw" for layer in model.net.layers)
    return model


def _train(model, batches, momentum=0.9):
    opt = optim.SGD(0.05, momentum=momentum)
    state = opt.init(model.params)
    losses = []
    for X, y in batches:
        loss, grads = model.loss(X, y)
        losses.append(loss)
        updates, state = opt.update(grads, state, model.params)
        optim.apply_updates(model.params, updates)
    return losses, {k: v.copy() for k, v in model.params.items()}


def _batches(shape, classes, sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((n, *shape)).astype(np.float32), rng.integers(0, classes, n))
        for n in sizes
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_fc_speed_mode_matches_plain_path(dtype, momentum):
    batches = _batches((12,), 4, [6, 6, 3, 6])  # the short batch reallocates the buffers
    fast_losses, fast_params = _train(_fc(dtype, True), batches, momentum)
    plain_losses, plain_params = _train(_fc(dtype, False), batches, momentum)
    np.testing.assert_allclose(fast_losses, plain_losses, rtol=1e-6)
    for name, value in plain_params.items():
        assert fast_params[name].dtype == dtype
        np.testing.assert_allclose(fast_params[name], value, rtol=1e-5, atol=1e-6)


def test_conv_speed_and_channels_last_match_plain_nchw_path():
    batches = _batches((2, 8, 8), 3, [5, 5, 2])
    reference = _train(_conv(speed=False, channels_last=False), batches)
    for speed, channels_last in [(True, True), (True, False)]:
        losses, params = _train(_conv(speed, channels_last), batches)
        np.testing.assert_allclose(losses, reference[0], rtol=1e-5)
        for name, value in reference[1].items():
            np.testing.assert_allclose(params[name], value, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("make", [_fc, _conv], ids=["fc", "conv"])
def test_returned_grads_and_scores_are_fresh_arrays(make):
    model = make()
    shape = (12,) if isinstance(model, FullyConnectedNet) else (2, 8, 8)
    (X1, y1), (X2, y2) = _batches(shape, 3, [4, 4], seed=5)
    _, grads1 = model.loss(X1, y1)
    kept = {k: v.copy() for k, v in grads1.items()}
    scores1 = model.loss(X1)
    kept_scores = scores1.copy()
    _, grads2 = model.loss(X2, y2)
    model.loss(X2)
    for name, value in kept.items():
        np.testing.assert_array_equal(grads1[name], value)
        assert not np.shares_memory(grads1[name], grads2[name])
    np.testing.assert_array_equal(scores1, kept_scores)
    assert isinstance(grads1, dict) and set(grads1) == set(model.params)


def test_flat_parameters_are_still_a_mutable_mapping_with_rebinding():
    model = _fc()
    params = model.params
    assert isinstance(params, MutableMapping)
    flat = params.flat_buffer()
    assert flat is not None and flat.size == sum(v.size for v in params.values())
    assert all(np.shares_memory(v, flat) for v in params.values())
    new = np.zeros_like(params["W1"])
    params["W1"] = new  # rebinds, as documented: the layer now holds `new`
    assert params["W1"] is new and model.net.layers[0].params["W"] is new
    assert params.flat_buffer() is None
    # Training still works (the per-array path) and matches a plain model given the same change.
    plain = _fc(speed=False)
    plain.params["W1"] = np.zeros_like(plain.params["W1"])
    batches = _batches((12,), 4, [6, 6])
    np.testing.assert_allclose(_train(model, batches)[0], _train(plain, batches)[0], rtol=1e-6)


def test_flat_update_fast_path_equals_per_array_path():
    model = _fc()
    X, y = _batches((12,), 4, [6])[0]
    _, grads = model.loss(X, y)
    assert isinstance(grads, FlatArrays) and grads.flat_buffer() is not None
    expected = {k: v - 0.1 * grads[k] for k, v in model.params.items()}
    opt = optim.SGD(0.1)
    updates, _ = opt.update(grads, opt.init(model.params), model.params)
    optim.apply_updates(model.params, updates)
    for name, value in expected.items():
        np.testing.assert_allclose(model.params[name], value, rtol=1e-6, atol=1e-7)
    # An edited gradient dict is never mistaken for a flat one.
    grads2 = model.loss(X, y)[1]
    grads2["W1"] = grads2["W1"].copy()
    assert grads2.flat_buffer() is None


def test_channel_last_max_pool_routes_ties_like_the_nchw_pool():
    rng = np.random.default_rng(2)
    x = np.maximum(rng.standard_normal((3, 4, 6, 6)), 0)  # many all-zero windows: ties
    dout = rng.standard_normal((3, 4, 3, 3))
    for pool_param in (
        {"pool_height": 2, "pool_width": 2, "stride": 2},
        {"pool_height": 3, "pool_width": 3, "stride": 2},  # overlapping windows, a row left over
    ):
        out, cache = max_pool_forward(x, pool_param)
        dx = max_pool_backward(dout[:, :, : out.shape[2], : out.shape[3]], cache)
        settings = (pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"])
        out_last, cache_last = max_pool_nhwc_forward(x.transpose(0, 2, 3, 1), settings)
        np.testing.assert_array_equal(out_last.transpose(0, 3, 1, 2), out)
        dx_last = max_pool_nhwc_backward(
            dout[:, :, : out.shape[2], : out.shape[3]].transpose(0, 2, 3, 1), cache_last
        )
        np.testing.assert_array_equal(dx_last.transpose(0, 3, 1, 2), dx)
