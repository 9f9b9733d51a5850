"""The loop versions (``*_naive``) against the vectorised reference and against PyTorch.

Random geometries with odd sizes, per-axis strides 1-3 and padding 0-2, non-square kernels and
overlapping pooling windows; inputs with many ties for max pooling. float64 throughout, so the
three implementations must agree to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from numnet.functional.conv import (
    check_conv_dout,
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
)
from numnet.functional.pooling import (
    max_pool_backward,
    max_pool_backward_naive,
    max_pool_forward,
    max_pool_forward_naive,
)

TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def _conv_geometry(rng: np.random.Generator) -> tuple[tuple, tuple, dict]:
    """Shapes of x and w and a conv_param with per-axis strides and padding (filter always fits)."""
    kernel_h, kernel_w = (int(k) for k in rng.integers(1, 5, size=2))
    stride_h, stride_w = (int(s) for s in rng.integers(1, 4, size=2))
    pad_h, pad_w = (int(p) for p in rng.integers(0, 3, size=2))
    height = max(1, kernel_h - 2 * pad_h) + int(rng.integers(0, 7))
    width = max(1, kernel_w - 2 * pad_w) + int(rng.integers(0, 7))
    num_images, channels, num_filters = (int(v) for v in rng.integers(1, 4, size=3))
    param = {"stride_h": stride_h, "stride_w": stride_w, "pad_h": pad_h, "pad_w": pad_w}
    return (num_images, channels, height, width), (num_filters, channels, kernel_h, kernel_w), param


def _pool_geometry(rng: np.random.Generator) -> tuple[tuple, dict]:
    """Shape of x and a pool_param; stride below the window size gives overlapping windows."""
    pool_h, pool_w = (int(k) for k in rng.integers(1, 4, size=2))
    stride = int(rng.integers(1, 4))
    height, width = pool_h + int(rng.integers(0, 7)), pool_w + int(rng.integers(0, 7))
    num_images, channels = (int(v) for v in rng.integers(1, 4, size=2))
    param = {"pool_height": pool_h, "pool_width": pool_w, "stride": stride}
    return (num_images, channels, height, width), param


@pytest.mark.parametrize("seed", range(16))
def test_conv_naive_equals_reference_on_random_geometries(seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, param = _conv_geometry(rng)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out_naive, cache_naive = conv_forward_naive(x, w, b, param)
    out_ref, cache_ref = conv_forward(x, w, b, param)
    np.testing.assert_allclose(out_naive, out_ref, **TIGHT)
    dout = rng.standard_normal(out_ref.shape)
    grads_naive = conv_backward_naive(dout, cache_naive)
    grads_ref = conv_backward(dout, cache_ref)
    for name, g_naive, g_ref, a in zip("x w b".split(), grads_naive, grads_ref, (x, w, b)):
        assert g_naive.shape == g_ref.shape == a.shape, name
        np.testing.assert_allclose(g_naive, g_ref, **TIGHT, err_msg=f"d{name}")


@pytest.mark.parametrize("seed", range(16))
def test_max_pool_naive_equals_reference_on_random_geometries_with_ties(seed):
    rng = np.random.default_rng(100 + seed)
    x_shape, param = _pool_geometry(rng)
    # values from {-2, ..., 2}: most windows hold their maximum more than once
    x = rng.integers(-2, 3, size=x_shape).astype(np.float64)
    out_naive, cache_naive = max_pool_forward_naive(x, param)
    out_ref, cache_ref = max_pool_forward(x, param)
    np.testing.assert_array_equal(out_naive, out_ref)
    dout = rng.standard_normal(out_ref.shape)
    np.testing.assert_allclose(
        max_pool_backward_naive(dout, cache_naive), max_pool_backward(dout, cache_ref), **TIGHT
    )


@pytest.mark.parametrize("seed", range(10))
def test_conv_naive_and_reference_match_torch(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(200 + seed)
    x_shape, w_shape, param = _conv_geometry(rng)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    t_out = torch.nn.functional.conv2d(
        tx,
        tw,
        tb,
        stride=(param["stride_h"], param["stride_w"]),
        padding=(param["pad_h"], param["pad_w"]),
    )
    dout = rng.standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(dout))
    expected = [t.detach().numpy() for t in (t_out, tx.grad, tw.grad, tb.grad)]
    for forward, backward in (
        (conv_forward_naive, conv_backward_naive),
        (conv_forward, conv_backward),
    ):
        out, cache = forward(x, w, b, param)
        got = [out, *backward(dout, cache)]
        for name, g, e in zip(("out", "dx", "dw", "db"), got, expected):
            np.testing.assert_allclose(g, e, **TIGHT, err_msg=f"{forward.__name__}: {name}")


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool_naive_and_reference_match_torch(seed, ties):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(300 + seed)
    x_shape, param = _pool_geometry(rng)
    if ties:
        x = rng.integers(-2, 3, size=x_shape).astype(np.float64)
    else:
        x = rng.standard_normal(x_shape)
    tx = torch.tensor(x, requires_grad=True)
    t_out = torch.nn.functional.max_pool2d(
        tx, (param["pool_height"], param["pool_width"]), param["stride"]
    )
    dout = rng.standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(dout))
    pairs = (
        (max_pool_forward_naive, max_pool_backward_naive),
        (max_pool_forward, max_pool_backward),
    )
    for forward, backward in pairs:
        out, cache = forward(x, param)
        np.testing.assert_array_equal(out, t_out.detach().numpy(), err_msg=forward.__name__)
        np.testing.assert_allclose(
            backward(dout, cache), tx.grad.numpy(), **TIGHT, err_msg=backward.__name__
        )


def test_conv_on_a_hand_computed_example():
    x = np.arange(9.0).reshape(1, 1, 3, 3)  # 0 1 2 / 3 4 5 / 6 7 8
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # top-left minus bottom-right
    b = np.array([0.5])
    expected = np.full((1, 1, 2, 2), -4.0 + 0.5)  # x[i, j] - x[i + 1, j + 1] = -4 everywhere
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    # dx[h, v] = dout[h, v] (as a top-left) - dout[h - 1, v - 1] (as a bottom-right)
    expected_dx = np.array([[[[1.0, 2.0, 0.0], [3.0, 3.0, -2.0], [0.0, -3.0, -4.0]]]])
    # dw[p, q] = sum_{i, j} dout[i, j] x[i + p, j + q]
    expected_dw = np.array(
        [[[[0 + 2 + 9 + 16, 1 + 4 + 12 + 20], [3 + 8 + 18 + 28, 4 + 10 + 21 + 32]]]]
    )
    for forward, backward in (
        (conv_forward_naive, conv_backward_naive),
        (conv_forward, conv_backward),
    ):
        out, cache = forward(x, w, b, {"stride": 1, "pad": 0})
        np.testing.assert_array_equal(out, expected)
        dx, dw, db = backward(dout, cache)
        np.testing.assert_array_equal(dx, expected_dx)
        np.testing.assert_array_equal(dw, expected_dw)
        np.testing.assert_array_equal(db, [10.0])


def test_max_pool_ties_route_to_the_first_maximum_of_each_overlapping_window():
    x = np.zeros((1, 1, 3, 3))  # every element ties: each 2x2 window routes to its top-left
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = np.array([[[[1.0, 2.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]])
    param = {"pool_height": 2, "pool_width": 2, "stride": 1}
    x[0, 0, 1, 1] = 1.0  # now all four windows share one maximum: their gradients add there
    expected_shared = np.zeros((1, 1, 3, 3))
    expected_shared[0, 0, 1, 1] = 10.0
    for forward, backward in (
        (max_pool_forward_naive, max_pool_backward_naive),
        (max_pool_forward, max_pool_backward),
    ):
        np.testing.assert_array_equal(
            backward(dout, forward(np.zeros((1, 1, 3, 3)), param)[1]), expected
        )
        np.testing.assert_array_equal(backward(dout, forward(x, param)[1]), expected_shared)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_naive_and_reference_keep_the_input_dtype(dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    w, b = rng.standard_normal((4, 3, 3, 2)).astype(dtype), rng.standard_normal(4).astype(dtype)
    conv_param = {"stride": 2, "pad": 1}
    pool_param = {"pool_height": 3, "pool_width": 2, "stride": 1}
    for forward, backward in (
        (conv_forward_naive, conv_backward_naive),
        (conv_forward, conv_backward),
    ):
        out, cache = forward(x, w, b, conv_param)
        assert out.dtype == dtype
        assert all(g.dtype == dtype for g in backward(np.ones_like(out), cache))
    for forward, backward in (
        (max_pool_forward_naive, max_pool_backward_naive),
        (max_pool_forward, max_pool_backward),
    ):
        out, cache = forward(x, pool_param)
        assert out.dtype == dtype
        assert backward(np.ones_like(out), cache).dtype == dtype


def test_naive_versions_validate_as_the_reference_does():
    x, w, b = np.zeros((2, 3, 8, 8)), np.zeros((4, 2, 3, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=r"3 channels.*\(2, 3, 8, 8\)"):
        conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match=r"'stride'.*>= 1, got 0"):
        conv_forward_naive(x, np.zeros((4, 3, 3, 3)), b, {"stride": 0, "pad": 0})
    with pytest.raises(ValueError, match=r"window 5x2 is larger than the input 4x4"):
        max_pool_forward_naive(
            np.zeros((1, 1, 4, 4)), {"pool_height": 5, "pool_width": 2, "stride": 1}
        )
    _, cache = conv_forward_naive(x, np.zeros((4, 3, 3, 3)), b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"dout must have shape .* = \(2, 4, 8, 8\)"):
        conv_backward_naive(np.zeros((2, 4, 6, 6)), cache)
    _, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(ValueError, match=r"dout must have shape .* = \(2, 3, 4, 4\)"):
        max_pool_backward_naive(np.zeros((2, 3, 8, 8)), cache)


def test_check_conv_dout_reads_both_caches():
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 3, 9, 7)), rng.standard_normal((5, 3, 2, 4)), np.zeros(5)
    param = {"stride_h": 2, "stride_w": 1, "pad_h": 0, "pad_w": 2}
    for forward in (conv_forward_naive, conv_forward):
        out, cache = forward(x, w, b, param)
        assert out.shape == (2, 5, 4, 8)  # 1 + (9 - 2) // 2, 1 + (7 + 4 - 4) // 1
        check_conv_dout(out, cache)
        with pytest.raises(ValueError, match="dout must have shape"):
            check_conv_dout(out[:, :, :-1], cache)
