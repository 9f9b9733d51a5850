"""Conv output as 2x2 pooling-window blocks (a ConvNet's first layer) against the plain path."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward
from numnet.kernels.pool_nhwc import (
    max_pool_blocks_backward,
    max_pool_blocks_forward,
    max_pool_nhwc_backward,
    max_pool_nhwc_forward,
)
from numnet.kernels.workspace import Workspace


def to_blocks(image: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (4, N, H/2, W/2, C), block 2p + q holding the pixels (2i + p, 2j + q)."""
    return np.stack([image[:, p::2, q::2] for p in range(2) for q in range(2)])


@pytest.mark.parametrize(
    ("shape", "kernel", "settings"),
    [
        ((2, 8, 6, 1, 4), 3, (1, 1, 1, 1)),  # the first layer of a ConvNet on 1-channel images
        ((3, 8, 8, 3, 5), 3, (1, 1, 1, 1)),  # wide enough rows for the sliding-window im2col
        ((2, 11, 9, 2, 3), 3, (2, 2, 1, 2)),  # stride 2, unequal padding: 6 x 6 outputs
        ((1, 7, 7, 6, 2), 2, (1, 1, 0, 0)),  # even kernel, no padding: 6 x 6 outputs
    ],
)
@pytest.mark.parametrize("use_workspace", [False, True])
def test_conv_blocks_hold_the_same_outputs_and_gradients(shape, kernel, settings, use_workspace):
    num_images, height, width, channels, filters = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal((num_images, height, width, channels))
    w = rng.standard_normal((filters, channels, kernel, kernel))
    b = rng.standard_normal(filters)
    workspace = Workspace() if use_workspace else None
    plain, plain_cache = conv_nhwc_forward(x, w, b, settings)
    blocks, cache = conv_nhwc_forward(x, w, b, settings, workspace, pool_blocks=True)
    np.testing.assert_allclose(blocks, to_blocks(plain), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(plain.shape)
    expected = conv_nhwc_backward(dout, plain_cache)
    for input_grad in (False, True):
        got = conv_nhwc_backward(to_blocks(dout), cache, input_grad=input_grad)
        for g, e in zip(got, expected, strict=True):
            if g is None:
                assert not input_grad
                continue
            np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("train", [True, False])
def test_max_pool_blocks_match_the_strided_pool(train):
    rng = np.random.default_rng(3)
    image = rng.standard_normal((3, 6, 8, 5)).astype(np.float32)
    image[0, :2, :2, 0] = 1.5  # a tie: the first maximum in window order gets the gradient
    out, cache = max_pool_blocks_forward(to_blocks(image), Workspace(), train=train)
    expected, expected_cache = max_pool_nhwc_forward(image, (2, 2, 2))
    np.testing.assert_array_equal(out, expected)
    if not train:
        with pytest.raises(RuntimeError, match="train=True"):
            max_pool_blocks_backward(np.ones_like(out), cache)
        return
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = max_pool_blocks_backward(dout, cache)
    np.testing.assert_array_equal(dx, to_blocks(max_pool_nhwc_backward(dout, expected_cache)))


def test_max_pool_blocks_backward_writes_into_the_input_when_asked():
    rng = np.random.default_rng(4)
    blocks = to_blocks(rng.standard_normal((2, 6, 4, 3)).astype(np.float32))
    out, cache = max_pool_blocks_forward(blocks, Workspace())
    dout = rng.standard_normal(out.shape).astype(np.float32)
    expected = max_pool_blocks_backward(dout, cache).copy()
    dx = max_pool_blocks_backward(dout, cache, out=blocks)
    assert dx is blocks
    np.testing.assert_array_equal(blocks, expected)
    for wrong in (blocks[:, :1], blocks.astype(np.float64)):
        with pytest.raises(ValueError, match="out must have shape"):
            max_pool_blocks_backward(dout, cache, out=wrong)


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_winograd_blocks_hold_the_same_outputs_and_gradients(pad):
    from numnet.kernels.conv_winograd import winograd_backward, winograd_forward

    rng = np.random.default_rng(pad)
    size = 8 - 2 * pad  # 6 x 6 outputs
    x = rng.standard_normal((2, size, size, 3))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    plain, plain_cache = winograd_forward(x, w, b, pad)
    blocks, cache = winograd_forward(x, w, b, pad, Workspace(), pool_blocks=True)
    np.testing.assert_allclose(blocks, to_blocks(plain), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(plain.shape)
    expected = winograd_backward(dout, plain_cache)
    for g, e in zip(winograd_backward(to_blocks(dout), cache), expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-11)


def _convnet(algorithm: str, normalization: str | None, kernels: str):
    from numnet.models import ConvNet

    model = ConvNet(
        (1, 8, 8),
        (3, 4),
        hidden_dims=(5,),
        num_classes=3,
        normalization=normalization,
        dtype=np.float64,
        seed=1,
        kernels=kernels,
    )
    conv2 = [layer for layer in model.net.layers if type(layer).__name__ == "Conv2d"][1]
    conv2.algorithm = algorithm
    model.set_kernels(kernels)  # plan again with the second convolution's algorithm
    return model


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
@pytest.mark.parametrize("algorithm", ["im2col", "winograd"])
def test_convnet_blocks_give_the_reference_loss_and_gradients(algorithm, normalization):
    """Both convolutions hand their pools blocks; the pools write their input gradients over
    them; loss, every parameter gradient and the input gradient are the reference network's."""
    from numnet.nn import MaxPool2d

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 1, 8, 8)), rng.integers(0, 3, 4)
    blocked = _convnet(algorithm, normalization, "fast")
    reference = _convnet(algorithm, normalization, "reference")
    layers = blocked.net.layers
    kernels = [layer.plan.kernel for layer in layers]
    conv_kernel = "conv2d.winograd" if algorithm == "winograd" else "conv2d.im2col"
    assert kernels.count("maxpool2d.blocks") == 2 and conv_kernel in kernels
    pools = [index for index, layer in enumerate(layers) if isinstance(layer, MaxPool2d)]
    assert all(layers[i].plan.grad_into_input for i in pools)

    loss, grads = blocked.loss(X, y)
    loss_reference, grads_reference = reference.loss(X, y)
    assert loss == pytest.approx(loss_reference, rel=1e-12)
    for name in grads_reference:
        np.testing.assert_allclose(grads[name], grads_reference[name], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(blocked.loss(X), reference.loss(X), rtol=1e-12)

    # the whole chain back to the input, the pools writing over the blocks they were given
    inputs = []
    h = blocked._prepare_input(X)
    for layer in layers:
        inputs.append(h)
        h = layer.forward(h, train=True)
    reference.net.forward(reference._prepare_input(X), train=True)
    dscores = rng.standard_normal((4, 3))
    d = dscores.copy()  # a kernel's backward may write over its dout
    for index in range(len(layers) - 1, -1, -1):
        d = layers[index].backward(d)
        if index in pools:
            assert d is inputs[index]
    np.testing.assert_allclose(d, reference.net.backward(dscores.copy()), rtol=1e-10, atol=1e-12)
