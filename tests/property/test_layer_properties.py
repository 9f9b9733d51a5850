"""Property tests of the layer functions over random shapes, strides, pads and hyperparameters.

Each backward is checked against its forward through the adjoint identity: for a layer that is
linear in ``x`` (conv without bias, affine without bias, average pooling),
``<f(x), dy> = <x, f^T(dy)>`` where ``f^T`` is the backward's ``dx``. Output sizes are checked
against the CS231n/PyTorch formula. Convolution and max pooling hold for each of their CS231n
versions: the vectorised reference, the loops (``*_naive``) and the fast kernels (``*_fast``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numnet import layers as L
from numnet.layers import (
    affine_backward,
    affine_forward,
    avg_pool_backward,
    avg_pool_forward,
    softmax_loss,
    svm_loss,
)
from tests.property.strategies import conv_geometry, normal, pool_geometry, seeds

FAST = settings(max_examples=40, deadline=None)

VERSIONS = ["", "_naive", "_fast"]
"""Suffixes of the CS231n names: reference, loops, fast kernels."""
VERSION_IDS = ["reference", "naive", "fast"]


def _conv(version: str):
    return getattr(L, f"conv_forward{version}"), getattr(L, f"conv_backward{version}")


def _max_pool(version: str):
    return getattr(L, f"max_pool_forward{version}"), getattr(L, f"max_pool_backward{version}")


def _inner(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a * b))


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
@FAST
@given(geometry=conv_geometry(), seed=seeds)
def test_conv_output_size_matches_formula(version: str, geometry: dict, seed: int) -> None:
    g = geometry
    rng = np.random.default_rng(seed)
    x = normal(rng, g["n"], g["c"], g["h"], g["w"])
    w = normal(rng, g["f"], g["c"], g["hh"], g["ww"])
    b = normal(rng, g["f"])
    forward, _ = _conv(version)
    out, _ = forward(x, w, b, {"stride": g["stride"], "pad": g["pad"]})
    out_h = 1 + (g["h"] + 2 * g["pad"] - g["hh"]) // g["stride"]
    out_w = 1 + (g["w"] + 2 * g["pad"] - g["ww"]) // g["stride"]
    assert out.shape == (g["n"], g["f"], out_h, out_w)


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
@FAST
@given(geometry=conv_geometry(), seed=seeds)
def test_conv_backward_is_adjoint_of_forward(version: str, geometry: dict, seed: int) -> None:
    g = geometry
    rng = np.random.default_rng(seed)
    x = normal(rng, g["n"], g["c"], g["h"], g["w"])
    w = normal(rng, g["f"], g["c"], g["hh"], g["ww"])
    zero_bias = np.zeros(g["f"])
    forward, backward = _conv(version)
    out, cache = forward(x, w, zero_bias, {"stride": g["stride"], "pad": g["pad"]})
    dy = normal(rng, *out.shape)
    dx, dw, db = backward(dy, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (g["f"],)
    # conv is bilinear in (x, w): both adjoints must hold, and db is the sum of dy per filter.
    assert _inner(out, dy) == pytest.approx(_inner(x, dx), rel=1e-9, abs=1e-9)
    assert _inner(out, dy) == pytest.approx(_inner(w, dw), rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
@FAST
@given(geometry=conv_geometry(), seed=seeds)
def test_conv_rejects_channel_mismatch_naming_shapes(
    version: str, geometry: dict, seed: int
) -> None:
    g = geometry
    rng = np.random.default_rng(seed)
    x = normal(rng, g["n"], g["c"], g["h"], g["w"])
    w = normal(rng, g["f"], g["c"] + 1, g["hh"], g["ww"])
    forward, _ = _conv(version)
    with pytest.raises(ValueError, match=r"\(F, C, HH, WW\)"):
        forward(x, w, np.zeros(g["f"]), {"stride": g["stride"], "pad": g["pad"]})


@FAST
@given(
    n=st.integers(1, 5),
    dims=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    m=st.integers(1, 6),
    seed=seeds,
)
def test_affine_backward_is_adjoint_of_forward(n: int, dims: list[int], m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = normal(rng, n, *dims)
    d = int(np.prod(dims))
    w = normal(rng, d, m)
    out, cache = affine_forward(x, w, np.zeros(m))
    assert out.shape == (n, m)
    dy = normal(rng, n, m)
    dx, dw, db = affine_backward(dy, cache)
    assert dx.shape == x.shape
    assert _inner(out, dy) == pytest.approx(_inner(x, dx), rel=1e-9, abs=1e-9)
    assert _inner(out, dy) == pytest.approx(_inner(w, dw), rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(db, dy.sum(axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
@FAST
@given(geometry=pool_geometry(), seed=seeds)
def test_pool_output_size_matches_formula(version: str, geometry: dict, seed: int) -> None:
    g = geometry
    rng = np.random.default_rng(seed)
    x = normal(rng, g["n"], g["c"], g["h"], g["w"])
    param = {k: g[k] for k in ("pool_height", "pool_width", "stride")}
    expected = (
        g["n"],
        g["c"],
        1 + (g["h"] - g["pool_height"]) // g["stride"],
        1 + (g["w"] - g["pool_width"]) // g["stride"],
    )
    assert _max_pool(version)[0](x, param)[0].shape == expected
    assert avg_pool_forward(x, param)[0].shape == expected


@FAST
@given(geometry=pool_geometry(), seed=seeds)
def test_avg_pool_backward_is_adjoint_of_forward(geometry: dict, seed: int) -> None:
    g = geometry
    rng = np.random.default_rng(seed)
    x = normal(rng, g["n"], g["c"], g["h"], g["w"])
    param = {k: g[k] for k in ("pool_height", "pool_width", "stride")}
    out, cache = avg_pool_forward(x, param)
    dy = normal(rng, *out.shape)
    dx = avg_pool_backward(dy, cache)
    assert dx.shape == x.shape
    assert _inner(out, dy) == pytest.approx(_inner(x, dx), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
@FAST
@given(geometry=pool_geometry(), seed=seeds)
def test_max_pool_backward_routes_each_gradient_to_one_input(
    version: str, geometry: dict, seed: int
) -> None:
    g = geometry
    # Non-overlapping windows (stride >= window): each output's gradient lands on one input.
    stride = max(g["stride"], g["pool_height"], g["pool_width"])
    param = {"pool_height": g["pool_height"], "pool_width": g["pool_width"], "stride": stride}
    rng = np.random.default_rng(seed)
    # A permutation gives distinct values: no ties, so the arg-max of each window is unique.
    size = g["n"] * g["c"] * g["h"] * g["w"]
    x = rng.permutation(size).astype(np.float64).reshape(g["n"], g["c"], g["h"], g["w"])
    forward, backward = _max_pool(version)
    out, cache = forward(x, param)
    dy = normal(rng, *out.shape)
    dx = backward(dy, cache)
    assert dx.shape == x.shape
    assert dx.sum() == pytest.approx(dy.sum(), rel=1e-12, abs=1e-12)
    assert np.count_nonzero(dx) <= out.size
    # max pooling is linear given the arg-max pattern, so the adjoint identity holds too
    assert _inner(out, dy) == pytest.approx(_inner(x, dx), rel=1e-9, abs=1e-9)


@FAST
@given(
    n=st.integers(1, 8),
    c=st.integers(2, 10),
    scale=st.sampled_from([1e-3, 1.0, 30.0, 1e4]),
    seed=seeds,
)
def test_softmax_loss_probabilities_and_gradient_rows(
    n: int, c: int, scale: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = normal(rng, n, c) * scale
    y = rng.integers(0, c, size=n)
    loss, dx = softmax_loss(x, y)
    assert np.isfinite(loss) and loss >= 0
    assert np.all(np.isfinite(dx))
    # dx = (p - onehot(y)) / N: rows sum to 0; p = N * dx + onehot sums to 1 and lies in [0, 1]
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-12)
    probs = n * dx
    probs[np.arange(n), y] += 1
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    assert probs.min() >= -1e-12 and probs.max() <= 1 + 1e-12


@FAST
@given(n=st.integers(1, 8), c=st.integers(2, 10), seed=seeds)
def test_svm_loss_gradient_rows_sum_to_zero(n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = normal(rng, n, c)
    y = rng.integers(0, c, size=n)
    loss, dx = svm_loss(x, y)
    assert loss >= 0
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@FAST
@given(n=st.integers(1, 4), c=st.integers(2, 5), seed=seeds)
def test_layer_dtype_is_preserved(version: str, dtype: type, n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = normal(rng, n, c, 4, 4).astype(dtype)
    w = normal(rng, 2, c, 3, 3).astype(dtype)
    conv_fwd, conv_bwd = _conv(version)
    out, cache = conv_fwd(x, w, np.zeros(2, dtype=dtype), {"stride": 1, "pad": 1})
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in conv_bwd(np.ones_like(out), cache))
    pool_fwd, pool_bwd = _max_pool(version)
    pooled, pool_cache = pool_fwd(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert pooled.dtype == dtype
    assert pool_bwd(np.ones_like(pooled), pool_cache).dtype == dtype
