"""The Winograd F(2x2, 3x3) kernels against im2col where the layer table does not reach.

The layer table (``numnet.layer_table``) holds the kernel against the reference convolution on
random small shapes; here: larger shapes, workspaces reused across calls and geometries, passes
over the images, the skipped input gradient, and ``nn.Conv2d``'s algorithm setting.
"""

from __future__ import annotations

import numpy as np
import pytest

from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward
from numnet.kernels.conv_winograd import winograd_backward, winograd_forward
from numnet.kernels.workspace import Workspace
from numnet.nn import Conv2d


def _assert_matches_im2col(x, w, b, pad, workspace, rng):
    """Winograd's output and gradients equal im2col's (float64) for one random ``dout``."""
    out, cache = winograd_forward(x, w, b, pad, workspace)
    expected, expected_cache = conv_nhwc_forward(x, w, b, (1, 1, pad, pad))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        winograd_backward(dout, cache), conv_nhwc_backward(dout, expected_cache), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize(
    ("shape", "pad"),
    [
        ((3, 14, 14, 16, 24), 1),  # even output: whole tiles
        ((2, 7, 9, 8, 5), 1),  # odd output height and width: half-used last tiles
        ((2, 6, 5, 3, 4), 0),
        ((1, 4, 4, 1, 1), 2),
        ((2, 3, 3, 2, 2), 0),  # a single output per image
        ((1, 1, 1, 2, 3), 2),  # patch entries that lie wholly in the padding
    ],
)
@pytest.mark.parametrize("use_workspace", [False, True])
def test_matches_im2col_in_float64(shape, pad, use_workspace):
    num_images, height, width, channels, filters = shape
    rng = np.random.default_rng(sum(shape) + pad)
    x = rng.standard_normal((num_images, height, width, channels))
    w = rng.standard_normal((filters, channels, 3, 3))
    b = rng.standard_normal(filters)
    workspace = Workspace() if use_workspace else None
    for _ in range(2):  # a second call reuses the workspace's buffers
        _assert_matches_im2col(x, w, b, pad, workspace, rng)


def test_forward_in_passes_over_the_images(monkeypatch):
    # Passes of 2 images (the last one shorter) instead of one pass over all 3; the workspace
    # twice, with other images: the padding places of its patch buffer must stay zero.
    from numnet.kernels import conv_winograd as _conv_winograd

    monkeypatch.setattr(_conv_winograd, "_PASS_BYTES", 1)
    monkeypatch.setattr(_conv_winograd, "_MIN_PASS_IMAGES", 2)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 7, 9, 3))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    shared = Workspace()
    for workspace in (None, shared, shared, None):
        _assert_matches_im2col(rng.standard_normal(x.shape), w, b, 1, workspace, rng)


def test_one_workspace_across_image_sizes_and_pads():
    # The same tile count (hence the same scratch shapes) with different padding: nothing from
    # the previous call may survive in the patch or gradient buffers.
    rng = np.random.default_rng(7)
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    workspace = Workspace()
    for height, width, pad in [(14, 13, 1), (16, 15, 0), (12, 11, 2), (14, 13, 1)]:
        x = rng.standard_normal((2, height, width, 2))
        _assert_matches_im2col(x, w, b, pad, workspace, rng)


def test_float32_stays_float32_and_close_to_im2col():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 10, 10, 32)).astype(np.float32)
    w = (0.1 * rng.standard_normal((16, 32, 3, 3))).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    out, cache = winograd_forward(x, w, b, 1)
    expected, expected_cache = conv_nhwc_forward(x, w, b, (1, 1, 1, 1))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    got = winograd_backward(dout, cache, input_grad=True)
    want = conv_nhwc_backward(dout, expected_cache)
    for g, e in zip(got, want, strict=True):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-3)
    assert winograd_backward(dout, cache, input_grad=False)[0] is None


@pytest.mark.parametrize("algorithm", ["auto", "im2col", "winograd"])
def test_conv2d_algorithms_agree(algorithm):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 8, 6, 7))
    reference = Conv2d(8, 5, 3, 1, 1, rng=np.random.default_rng(0), dtype=np.float64)
    layer = Conv2d(
        8, 5, 3, 1, 1, rng=np.random.default_rng(0), dtype=np.float64, algorithm=algorithm
    )
    reference.algorithm = "im2col"
    out = layer.forward(x, train=True)
    np.testing.assert_allclose(out, reference.forward(x, train=True), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dx_ref = layer.backward(dout), reference.backward(dout)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)
    for name in ("W", "b"):
        np.testing.assert_allclose(layer.grads[name], reference.grads[name], rtol=1e-12, atol=1e-12)


def test_bad_algorithm_is_a_clear_error():
    with pytest.raises(ValueError, match="algorithm must be one of"):
        Conv2d(3, 4, 3, algorithm="fft")
    with pytest.raises(ValueError, match="3x3 filters with stride 1"):
        Conv2d(3, 4, 5, algorithm="winograd")
    with pytest.raises(ValueError, match="3x3 filters with stride 1"):
        Conv2d(3, 4, 3, stride=2, algorithm="winograd")
