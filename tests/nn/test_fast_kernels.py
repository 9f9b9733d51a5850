"""The fast kernels' special paths against the reference: bias-column im2col with both
copy strategies, col2im without a padded buffer, mask-routed max pooling, fused flat momentum."""

import numpy as np
import pytest

from numnet import optim
from numnet.functional.conv import conv_backward, conv_forward
from numnet.kernels.batchnorm_rows import batchnorm_rows_backward, batchnorm_rows_forward
from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward
from numnet.kernels.flat_update import flat_update
from numnet.kernels.pool_nhwc import max_pool_nhwc_backward, max_pool_nhwc_forward
from numnet.kernels.workspace import Workspace
from numnet.models import ConvNet


def _reference_conv(x, w, b, stride, pad, dout):
    """The reference convolution (numnet.functional, NCHW) and its gradients, channel-last."""
    conv_param = {"stride": stride, "pad": pad}
    out, cache = conv_forward(x.transpose(0, 3, 1, 2), w, b, conv_param)
    dx, dw, db = conv_backward(dout.transpose(0, 3, 1, 2), cache)
    return out.transpose(0, 2, 3, 1), dx.transpose(0, 2, 3, 1), dw, db


@pytest.mark.parametrize("channels", [1, 8])  # window rows of 3 and 24 values: both im2col copies
@pytest.mark.parametrize(("stride", "pad"), [(1, 1), (2, 1), (1, 0), (2, 3), (1, 4)])
def test_conv_kernels_match_direct_convolution(channels, stride, pad):
    rng = np.random.default_rng(channels + 10 * stride + pad)
    x = rng.standard_normal((2, 7, 6, channels))
    w = rng.standard_normal((4, channels, 3, 3))
    b = rng.standard_normal(4)
    settings = (stride, stride, pad, pad)
    for workspace in (None, Workspace()):
        for _ in range(2):  # the second call reuses the workspace buffers
            out, cache = conv_nhwc_forward(x, w, b, settings, workspace)
            dout = rng.standard_normal(out.shape)
            ref_out, ref_dx, ref_dw, ref_db = _reference_conv(x, w, b, stride, pad, dout)
            dx, dw, db = conv_nhwc_backward(dout, cache)
            np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(dx, ref_dx, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(dw, ref_dw, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(db, ref_db, rtol=1e-12, atol=1e-12)
            assert dx.flags.c_contiguous


def test_conv_kernel_offsets_that_only_read_padding_add_nothing():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 1, 2, 8))  # one row: offsets 0 and 1 read only the top padding
    w = rng.standard_normal((3, 8, 3, 3))
    b = rng.standard_normal(3)
    out, cache = conv_nhwc_forward(x, w, b, (3, 3, 2, 2), Workspace())
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx, ref_dw, ref_db = _reference_conv(x, w, b, 3, 2, dout)
    for got, want in zip(
        (out, *conv_nhwc_backward(dout, cache)), (ref_out, ref_dx, ref_dw, ref_db)
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_kernels_read_a_strided_channel_last_view():
    rng = np.random.default_rng(4)
    x_nchw = rng.standard_normal((2, 8, 5, 5))
    x = x_nchw.transpose(0, 2, 3, 1)  # not contiguous: window rows are not contiguous runs
    w = rng.standard_normal((3, 8, 3, 3))
    b = rng.standard_normal(3)
    out, cache = conv_nhwc_forward(x, w, b, (1, 1, 0, 0))
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx, ref_dw, _ = _reference_conv(x, w, b, 1, 0, dout)
    dx, dw, _ = conv_nhwc_backward(dout, cache)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("settings", [(2, 2, 2), (3, 2, 3), (2, 2, 3)])
def test_mask_routed_max_pool_sends_each_window_gradient_to_its_first_maximum(settings):
    pool_h, pool_w, stride = settings
    rng = np.random.default_rng(7)
    x = np.round(rng.standard_normal((2, 7, 8, 3)))  # many ties, inputs outside every window
    out, cache = max_pool_nhwc_forward(x, settings, Workspace())
    dout = rng.standard_normal(out.shape)
    dx = max_pool_nhwc_backward(dout, cache)
    expected = np.zeros_like(x)
    for n, i, j, c in np.ndindex(*out.shape):
        window = x[n, i * stride : i * stride + pool_h, j * stride : j * stride + pool_w, c]
        p, q = np.unravel_index(np.argmax(window), window.shape)  # first maximum, row-major
        assert out[n, i, j, c] == window[p, q]
        expected[n, i * stride + p, j * stride + q, c] += dout[n, i, j, c]
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_backward_needs_a_training_forward():
    x = np.random.default_rng(0).standard_normal((1, 4, 4, 2))
    out, cache = max_pool_nhwc_forward(x, (2, 2, 2), train=False)
    with pytest.raises(RuntimeError, match="train=True"):
        max_pool_nhwc_backward(np.ones_like(out), cache)


@pytest.mark.parametrize("rows", [4 * 6 * 8, 7 * 9])  # folded into wide rows, and not (odd)
def test_row_batchnorm_kernel_equals_the_reference_batchnorm(rows):
    from numnet.functional.normalization import batchnorm_backward, batchnorm_forward

    rng = np.random.default_rng(rows)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    workspace = Workspace()
    kernel_param = {"mode": "train", "momentum": 0.8}
    reference_param = dict(kernel_param)
    for mode in ("train", "train", "test"):  # the second call reuses the workspace's arrays
        x = rng.standard_normal((rows, 5)) * 3 + 2
        dout = rng.standard_normal((rows, 5))
        kernel_param["mode"] = reference_param["mode"] = mode
        out, cache = batchnorm_rows_forward(x, gamma, beta, kernel_param, workspace)
        expected, expected_cache = batchnorm_forward(x, gamma, beta, reference_param)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
        for key in ("running_mean", "running_var"):
            np.testing.assert_allclose(kernel_param[key], reference_param[key], rtol=1e-12)
        for got, want in zip(
            batchnorm_rows_backward(dout, cache),
            batchnorm_backward(dout, expected_cache),
            strict=True,
        ):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_row_batchnorm_kernel_keeps_float32():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((640, 32)) * 4 + 3).astype(np.float32)
    gamma, beta = np.ones(32, np.float32), np.zeros(32, np.float32)
    out, cache = batchnorm_rows_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = batchnorm_rows_backward(np.ones_like(x), cache)
    assert {a.dtype for a in (out, dx, dgamma, dbeta)} == {np.dtype(np.float32)}
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, rtol=1e-3)
    np.testing.assert_allclose(dx, 0, atol=1e-5)  # a constant gradient is normalised away


@pytest.mark.parametrize("nesterov", [False, True])
def test_fused_flat_momentum_on_a_model_equals_the_pure_transformation(nesterov):
    model = ConvNet(
        input_dim=(1, 6, 6), conv_channels=(2,), hidden_dims=(5,), num_classes=3, seed=0
    )
    rng = np.random.default_rng(1)
    opt = optim.SGD(0.1, momentum=0.9, nesterov=nesterov)
    fused = flat_update(opt)
    assert fused is not None
    fused_state = opt.init(model.params)
    pure_state = opt.init(model.params)
    pure_params = {k: v.copy() for k, v in model.params.items()}
    for _ in range(3):
        X, y = rng.standard_normal((4, 1, 6, 6)), rng.integers(0, 3, 4)
        _, grads = model.loss(X, y)
        assert grads.flat_buffer() is not None
        pure_grads = {k: v.copy() for k, v in grads.items()}
        assert fused.step(model.params, grads, fused_state)
        updates, pure_state = opt.update(pure_grads, pure_state, pure_params)
        optim.apply_updates(pure_params, updates)
        for name, value in pure_params.items():
            np.testing.assert_allclose(model.params[name], value, rtol=1e-6, atol=1e-7)
