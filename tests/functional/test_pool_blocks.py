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
    for need_dx in (False, True):
        got = conv_nhwc_backward(to_blocks(dout), cache, need_dx=need_dx)
        for g, e in zip(got, expected, strict=True):
            if g is None:
                assert not need_dx
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


@pytest.mark.parametrize("algorithm", ["im2col", "winograd"])
def test_convnet_blocks_give_the_same_loss_and_gradients(algorithm):
    from numnet.models import ConvNet

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 1, 8, 8)), rng.integers(0, 3, 4)

    def make():
        model = ConvNet(
            (1, 8, 8), (3, 4), hidden_dims=(5,), num_classes=3, dtype=np.float64, seed=1
        )
        model.net.layers[3].algorithm = algorithm
        return model

    blocked, plain = make(), make()
    first = blocked.net.layers[0]
    assert first.pool_blocks_out and blocked.net.layers[3].pool_blocks_out
    pools = [blocked.net.layers[1], blocked.net.layers[4]]
    assert all(pool.input_grad_in_place for pool in pools)
    plain.net.layers[0].pool_blocks_out = plain.net.layers[3].pool_blocks_out = False
    loss, grads = blocked.loss(X, y)
    loss_plain, grads_plain = plain.loss(X, y)
    assert loss == pytest.approx(loss_plain, rel=1e-12)
    for name in grads_plain:
        np.testing.assert_allclose(grads[name], grads_plain[name], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(blocked.loss(X), plain.loss(X), rtol=1e-12)
    # the whole chain back to the input goes through the blocks too
    blocked.net.forward(blocked._prepare_input(X), train=True)
    plain.net.forward(plain._prepare_input(X), train=True)
    dscores = rng.standard_normal((4, 3))
    np.testing.assert_allclose(
        blocked.net.backward(dscores.copy()), plain.net.backward(dscores.copy()), rtol=1e-10
    )


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_convnet_pools_write_their_input_gradient_over_the_blocks(normalization):
    """The pool's input gradient takes the place of its input (the conv or batch norm output),
    and the step's results are exactly those of a pool with a buffer of its own."""
    from numnet.models import ConvNet
    from numnet.nn import MaxPool2d

    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((3, 1, 8, 8)), rng.integers(0, 3, 3)

    def make():
        return ConvNet(
            (1, 8, 8),
            (3, 4),
            hidden_dims=(5,),
            num_classes=3,
            normalization=normalization,
            dtype=np.float64,
            seed=2,
        )

    in_place, separate = make(), make()
    pools = [layer for layer in separate.net.layers if isinstance(layer, MaxPool2d)]
    for pool in pools:
        pool.input_grad_in_place = False
    loss, grads = in_place.loss(X, y)
    loss_separate, grads_separate = separate.loss(X, y)
    assert loss == loss_separate
    for name in grads_separate:
        np.testing.assert_array_equal(grads[name], grads_separate[name])

    layers = in_place.net.layers
    inputs, outputs = [], []
    h = in_place._prepare_input(X)
    for layer in layers:
        inputs.append(h)
        h = layer.forward(h, train=True)
    d = rng.standard_normal(h.shape)
    for index in range(len(layers) - 1, 0, -1):
        d = layers[index].backward(d)
        outputs.append((index, d))
    for index, dx in outputs:
        if isinstance(layers[index], MaxPool2d):
            assert dx is inputs[index]  # written over the blocks it was given
