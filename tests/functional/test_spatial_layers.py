"""Checks of conv / pooling beyond the layer table: sizes, adjoints, ties, dtypes, errors.

The loop versions (``conv_forward_naive``, ``max_pool_forward_naive``) are the definitions; the
layer table holds the vectorised reference against them.
"""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from numnet.functional import conv, pooling
from numnet.functional.conv import conv_backward, conv_forward, conv_forward_naive
from numnet.functional.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)


def _random_conv_setting(rng):
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    h = max(1, kh - 2 * pad) + int(rng.integers(0, 7))
    w = max(1, kw - 2 * pad) + int(rng.integers(0, 7))
    n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
    return (n, c, h, w), (f, c, kh, kw), stride, pad


def test_conv_output_size_and_gradients_match_torch_on_random_settings():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for _ in range(60):
        x_shape, w_shape, stride, pad = _random_conv_setting(rng)
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        b = rng.standard_normal(w_shape[0])
        out, cache = conv_forward(x, w, b, {"stride": stride, "pad": pad})
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        t_out = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=pad)
        assert out.shape == tuple(t_out.shape), (x_shape, w_shape, stride, pad)
        np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-9, atol=1e-10)
        dout = rng.standard_normal(out.shape)
        t_out.backward(torch.from_numpy(dout))
        for ours, theirs in zip(conv_backward(dout, cache), (tx, tw, tb), strict=True):
            np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_conv_per_axis_stride_and_pad_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 9, 7)), rng.standard_normal((4, 3, 3, 2)), np.zeros(4)
    param = {"stride_h": 2, "stride_w": 1, "pad_h": 0, "pad_w": 2}
    out, _ = conv_forward(x, w, b, param)
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(w), stride=(2, 1), padding=(0, 2)
    )
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_conv_backward_is_the_adjoint_of_the_forward():
    """<conv(x, w), dy> = <x, dx> = <w, dw> for the bias-free (bilinear) convolution."""
    rng = np.random.default_rng(3)
    for stride, pad in [(1, 0), (1, 1), (2, 1), (3, 2)]:
        x, w = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 2))
        out, cache = conv_forward(x, w, np.zeros(4), {"stride": stride, "pad": pad})
        dy = rng.standard_normal(out.shape)
        dx, dw, db = conv_backward(dy, cache)
        inner = float(np.sum(out * dy))
        assert np.isclose(inner, float(np.sum(x * dx)), rtol=1e-10)
        assert np.isclose(inner, float(np.sum(w * dw)), rtol=1e-10)
        np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)))


@pytest.mark.parametrize(("ph", "pw", "stride"), [(2, 2, 2), (3, 3, 2), (2, 3, 1), (2, 2, 3)])
def test_avg_pool_is_the_loop_convolution_with_a_constant_filter(ph, pw, stride):
    """The mean of a window is its sum against weights 1 / (ph pw), channel by channel."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 9, 8))
    out, _ = avg_pool_forward(x, {"pool_height": ph, "pool_width": pw, "stride": stride})
    per_channel = x.reshape(6, 1, 9, 8)
    weights = np.full((1, 1, ph, pw), 1.0 / (ph * pw))
    param = {"stride": stride, "pad": 0}
    expected, _ = conv_forward_naive(per_channel, weights, np.zeros(1), param)
    np.testing.assert_allclose(out, expected.reshape(out.shape), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("ph", "pw", "stride"), [(2, 2, 2), (3, 3, 1), (3, 2, 2), (2, 2, 3)])
def test_max_pool_with_ties_routes_like_torch(ph, pw, stride):
    """Ties (coarse integer values, overlapping windows) go to the first element of the window."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, size=(2, 3, 10, 9)).astype(np.float64)
    param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = max_pool_forward(x, param)
    dout = rng.standard_normal(out.shape)
    tx = torch.tensor(x, requires_grad=True)
    t_out = torch.nn.functional.max_pool2d(tx, (ph, pw), stride)
    t_out.backward(torch.from_numpy(dout))
    np.testing.assert_array_equal(out, t_out.detach().numpy())
    np.testing.assert_allclose(max_pool_backward(dout, cache), tx.grad.numpy(), rtol=1e-12)


def test_max_pool_gradient_of_a_constant_window_goes_to_one_element():
    x = np.ones((1, 1, 2, 2))
    out, cache = max_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = max_pool_backward(np.full(out.shape, 5.0), cache)
    np.testing.assert_array_equal(dx, [[[[5.0, 0.0], [0.0, 0.0]]]])


def test_overlapping_windows_add_their_gradients():
    x = np.zeros((1, 1, 1, 3))
    x[0, 0, 0, 1] = 1.0  # the middle element is the max of both 1x2 windows (stride 1)
    param = {"pool_height": 1, "pool_width": 2, "stride": 1}
    out, cache = max_pool_forward(x, param)
    dx = max_pool_backward(np.array([[[[2.0, 3.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 5.0, 0.0]]]])
    _, cache = avg_pool_forward(x, param)
    dx = avg_pool_backward(np.array([[[[2.0, 3.0]]]]), cache)
    np.testing.assert_allclose(dx, [[[[1.0, 2.5, 1.5]]]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 8, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    out, cache = conv_forward(x, w, b, {"stride": 1, "pad": 1})
    grads = conv_backward(np.ones_like(out), cache)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    param = {"pool_height": 3, "pool_width": 3, "stride": 2}
    for forward, backward in [
        (max_pool_forward, max_pool_backward),
        (avg_pool_forward, avg_pool_backward),
    ]:
        pooled, cache = forward(x, param)
        assert pooled.dtype == dtype
        assert backward(np.ones_like(pooled), cache).dtype == dtype


def test_float32_conv_agrees_with_float64():
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((4, 8, 12, 12)), rng.standard_normal((6, 8, 3, 3)), np.ones(6)
    param = {"stride": 1, "pad": 1}
    out64, cache64 = conv_forward(x, w, b, param)
    out32, cache32 = conv_forward(*(a.astype(np.float32) for a in (x, w, b)), param)
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-4)
    dout = rng.standard_normal(out64.shape)
    for g32, g64 in zip(
        conv_backward(dout.astype(np.float32), cache32), conv_backward(dout, cache64), strict=True
    ):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "param", "pattern"),
    [
        ((2, 3, 8, 8), (4, 2, 3, 3), {"stride": 1, "pad": 0}, r"3 channels.*\(2, 3, 8, 8\)"),
        ((3, 8, 8), (4, 3, 3, 3), {"stride": 1, "pad": 0}, r"x must have shape \(N, C, H, W\)"),
        ((2, 3, 8, 8), (4, 3, 3), {"stride": 1, "pad": 0}, r"w must have shape"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": 0, "pad": 0}, r"'stride'.*>= 1, got 0"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": 1, "pad": -1}, r"'pad'.*>= 0, got -1"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": 1.5, "pad": 0}, r"'stride'.*integer"),
        ((2, 3, 2, 8), (4, 3, 5, 3), {"stride": 1, "pad": 1}, r"5x3 does not fit.*increase 'pad'"),
    ],
)
def test_conv_rejects_bad_shapes_and_settings(x_shape, w_shape, param, pattern):
    x, w = np.zeros(x_shape), np.zeros(w_shape)
    with pytest.raises(ValueError, match=pattern):
        conv_forward(x, w, np.zeros(w_shape[0]), param)


def test_conv_rejects_wrong_bias_and_integer_input():
    x, w = np.zeros((2, 3, 8, 8)), np.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"b must have shape \(F,\) = \(4,\)"):
        conv_forward(x, w, np.zeros(5), {"stride": 1, "pad": 0})
    with pytest.raises(TypeError, match="float32 or float64"):
        conv_forward(x.astype(np.int64), w, np.zeros(4), {"stride": 1, "pad": 0})


@pytest.mark.parametrize("forward", [max_pool_forward, avg_pool_forward])
def test_pooling_rejects_bad_input(forward):
    x = np.zeros((2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"window 5x2 is larger than the input 4x4"):
        forward(x, {"pool_height": 5, "pool_width": 2, "stride": 1})
    with pytest.raises(ValueError, match="missing 'stride'"):
        forward(x, {"pool_height": 2, "pool_width": 2})
    with pytest.raises(ValueError, match=r"'stride'.*>= 1, got 0"):
        forward(x, {"pool_height": 2, "pool_width": 2, "stride": 0})
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        forward(np.zeros((3, 4, 4)), {"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(TypeError, match="float32 or float64"):
        forward(x.astype(np.int32), {"pool_height": 2, "pool_width": 2, "stride": 2})


def test_backward_rejects_dout_of_the_wrong_shape():
    x, w = np.zeros((2, 3, 8, 8)), np.zeros((4, 3, 3, 3))
    _, cache = conv_forward(x, w, np.zeros(4), {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"dout must have shape .* = \(2, 4, 8, 8\)"):
        conv_backward(np.zeros((2, 4, 6, 6)), cache)
    _, cache = max_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(ValueError, match=r"dout must have shape .* = \(2, 3, 4, 4\)"):
        max_pool_backward(np.zeros((2, 3, 8, 8)), cache)


def test_no_add_at_in_the_spatial_layers():
    """np.add.at is ~10x slower than strided slice-adds: no code (prose aside) may call it."""
    for module in (conv, pooling):
        tree = ast.parse(inspect.getsource(module))
        uses = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr == "at"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "add"
        ]
        assert not uses, f"{module.__name__} uses add.at on lines {uses}"


@pytest.mark.parametrize("channels", [1, 3])
def test_nhwc_conv_gradients_do_not_alias_workspace_buffers(channels):
    # with one filter, db (and with one channel, dw) is a contiguous slice of a scratch buffer;
    # the returned arrays must still be copies that the next call leaves alone
    from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward
    from numnet.kernels.workspace import Workspace

    rng = np.random.default_rng(0)
    workspace = Workspace()
    x = rng.standard_normal((2, 5, 5, channels))
    w, b = rng.standard_normal((1, channels, 3, 3)), rng.standard_normal(1)
    out, cache = conv_nhwc_forward(x, w, b, (1, 1, 1, 1), workspace)
    _, dw, db = conv_nhwc_backward(rng.standard_normal(out.shape), cache)
    kept = dw.copy(), db.copy()
    out, cache = conv_nhwc_forward(x, w, b, (1, 1, 1, 1), workspace)
    conv_nhwc_backward(rng.standard_normal(out.shape), cache)
    np.testing.assert_array_equal(dw, kept[0])
    np.testing.assert_array_equal(db, kept[1])
