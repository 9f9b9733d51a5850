"""The one planning step: which kernel and layouts each layer gets, and that both plans agree."""

import numpy as np
import pytest

import numnet
from numnet.kernels.catalog import WINOGRAD_MIN_CHANNELS
from numnet.kernels.plan import REFERENCE, plan_layers, use_kernels
from numnet.kernels.registry import KERNELS
from numnet.models import ConvNet, FullyConnectedNet
from numnet.nn import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU


def _small_convnet(**options):
    settings = dict(input_dim=(2, 8, 8), conv_channels=(3, 4), hidden_dims=(6,), num_classes=3)
    settings.update(options)
    return ConvNet(seed=1, **settings)


def test_a_convnet_runs_channel_last_from_its_first_conv_to_flatten():
    model = _small_convnet(normalization="batchnorm")
    plans = {index: layer.plan for index, layer in enumerate(model.net.layers)}
    names = [type(layer).__name__ for layer in model.net.layers]
    assert names[:5] == ["Conv2d", "BatchNorm2d", "MaxPool2d", "ReLU", "Conv2d"]
    conv1, bn1, pool1, relu1, conv2 = (plans[i] for i in range(5))
    assert (conv1.kernel, conv1.input_layout, conv1.output_layout) == (
        "conv2d.im2col",
        "nchw",
        "blocks",
    )
    assert bn1.kernel == "batchnorm2d.rows" and bn1.input_layout == "nhwc"
    assert pool1.kernel == "maxpool2d.blocks" and pool1.input_layout == "blocks"
    assert pool1.grad_into_input  # the blocks are read by the pool alone
    assert relu1.kernel == "relu.in_place"
    assert conv2.input_layout == "nhwc"
    flatten = plans[names.index("Flatten")]
    assert (flatten.input_layout, flatten.output_layout) == ("nhwc", "nchw")
    assert all(plan.workspace is not None for plan in plans.values() if plan.kernel)
    assert len({id(plan.workspace) for plan in plans.values() if plan.workspace}) == len(
        [plan for plan in plans.values() if plan.workspace]
    )


def test_a_run_with_a_layer_that_needs_nchw_stays_nchw():
    layers = [Conv2d(2, 3, 3, pad=1), AvgPool2d(2), ReLU(), Flatten(), Linear(48, 2)]
    plans = plan_layers(layers, "fast")
    assert plans[0].kernel == "conv2d.im2col"
    assert all(plan.input_layout == plan.output_layout == "nchw" for plan in plans)
    assert plans[1] is REFERENCE  # no kernel registered for average pooling


def test_a_pool_without_a_conv_before_it_takes_the_window_kernel():
    layers = [Conv2d(2, 3, 3, pad=1), ReLU(), MaxPool2d(2), Flatten()]
    plans = plan_layers(layers, "fast")
    assert plans[0].output_layout == "nhwc"  # ReLU between: no blocks
    assert plans[2].kernel == "maxpool2d.nhwc" and not plans[2].grad_into_input


def test_the_reference_plan_has_no_kernels_and_no_buffers():
    model = _small_convnet(normalization="batchnorm", kernels="reference")
    assert model.kernels == "reference"
    assert all(layer.plan is REFERENCE for layer in model.net.layers)
    with pytest.raises(ValueError, match="kernels must be 'fast' or 'reference'"):
        model.set_kernels("turbo")


def test_winograd_is_chosen_for_wide_3x3_stride_1_layers():
    def kernel(layer):
        return plan_layers([layer])[0].kernel

    assert kernel(Conv2d(WINOGRAD_MIN_CHANNELS, 4, 3, 1, 1)) == "conv2d.winograd"
    assert kernel(Conv2d(WINOGRAD_MIN_CHANNELS - 1, 4, 3, 1, 1)) == "conv2d.im2col"
    assert kernel(Conv2d(WINOGRAD_MIN_CHANNELS, 4, 3, 2, 1)) == "conv2d.im2col"
    assert kernel(Conv2d(WINOGRAD_MIN_CHANNELS, 4, 5, 1, 2)) == "conv2d.im2col"
    assert kernel(Conv2d(2, 4, 3, 1, 1, algorithm="winograd")) == "conv2d.winograd"
    assert kernel(Conv2d(64, 4, 3, 1, 1, algorithm="im2col")) == "conv2d.im2col"
    assert set(KERNELS) >= {"conv2d.winograd", "conv2d.im2col", "maxpool2d.blocks"}


def _train(model, data, steps=4, **options):
    solver = numnet.Solver(
        model,
        data,
        update_rule="momentum",
        optim_config={"learning_rate": 0.05},
        batch_size=8,
        num_epochs=1,
        seed=0,
        verbose=False,
        **options,
    )
    solver.train()
    return {name: value.copy() for name, value in model.params.items()}, solver.loss_history


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make", ["fc", "conv"])
def test_training_on_either_plan_gives_the_same_parameters(dtype, make):
    rng = np.random.default_rng(0)
    if make == "fc":
        shape, build = (12,), lambda kernels: FullyConnectedNet(
            [7, 5], input_dim=12, num_classes=3, seed=3, dtype=dtype, reg=0.01,
            normalization="batchnorm", kernels=kernels,
        )  # fmt: skip
    else:
        shape, build = (2, 8, 8), lambda kernels: _small_convnet(
            conv_channels=(4, 16, 16), pool_size=(2, None, 2), normalization="batchnorm",
            dtype=dtype, reg=0.01, kernels=kernels,
        )  # fmt: skip
    X = rng.standard_normal((32, *shape))
    y = rng.integers(0, 3, 32)
    data = {"X_train": X, "y_train": y, "X_val": X[:8], "y_val": y[:8]}
    fast, fast_losses = _train(build("fast"), data)
    reference, reference_losses = _train(build("reference"), data)
    tolerance = (
        {"rtol": 1e-9, "atol": 1e-11} if dtype == np.float64 else {"rtol": 2e-4, "atol": 2e-5}
    )
    np.testing.assert_allclose(fast_losses, reference_losses, **tolerance)
    for name, value in reference.items():
        assert fast[name].dtype == dtype
        np.testing.assert_allclose(fast[name], value, **tolerance, err_msg=name)


def test_use_kernels_switches_a_model_to_the_reference_and_back():
    model = _small_convnet(normalization="batchnorm", dtype=np.float64)
    X = np.random.default_rng(1).standard_normal((5, 2, 8, 8))
    fast_scores = model.loss(X)
    with use_kernels("reference"):
        reference_scores = model.loss(X)
        assert all(layer.plan is REFERENCE for layer in model.net.layers)
    np.testing.assert_allclose(model.loss(X), fast_scores, rtol=1e-12)  # re-planned: fast again
    assert model.net.layers[0].plan.kernel == "conv2d.im2col"
    np.testing.assert_allclose(reference_scores, fast_scores, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="kernels must be"):
        with use_kernels("quick"):
            pass


def test_winograd_inference_equals_the_reference():
    options = dict(conv_channels=(16, 16), pool_size=(None, 2), dtype=np.float64)
    fast, reference = _small_convnet(**options), _small_convnet(**options, kernels="reference")
    assert fast.net.layers[2].plan.kernel == "conv2d.winograd"
    X = np.random.default_rng(3).standard_normal((7, 2, 8, 8))
    np.testing.assert_allclose(fast.loss(X), reference.loss(X), rtol=1e-10, atol=1e-12)
    fast.loss(X[:5], np.arange(5) % 3)  # training after inference still has its whole cache
    fast.net.backward(np.ones((5, 3)))
