"""Numerical robustness: softmax / log-sum-exp / sigmoid at +-1e4 and zero-variance batchnorm."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numnet.layers import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_loss,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

EXTREMES = [-1e4, -1e3, -80.0, 0.0, 80.0, 1e3, 1e4]
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_finite_and_saturates_at_extremes(dtype: type) -> None:
    x = np.array(EXTREMES, dtype=dtype)
    with np.errstate(all="raise"):
        out, cache = sigmoid_forward(x)
        dx = sigmoid_backward(np.ones_like(x), cache)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert out[0] == 0.0 and out[-1] == 1.0 and out[3] == 0.5
    assert np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", [1e4, -1e4])
def test_softmax_loss_finite_for_huge_logits(dtype: type, big: float) -> None:
    # Log-sum-exp of [big, 0, -big]: the shift by the row maximum keeps every exp finite.
    x = np.array([[big, 0.0, -big], [0.0, big, big], [big, big, big]], dtype=dtype)
    y = np.array([0, 2, 1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dx = softmax_loss(x, y)
    assert np.isfinite(loss)
    assert np.all(np.isfinite(dx))
    assert dx.dtype == dtype
    # reference: the row-max-shifted log-sum-exp in float64
    x64 = x.astype(np.float64)
    top = x64.max(axis=1, keepdims=True)
    log_sum_exp = top[:, 0] + np.log(np.exp(x64 - top).sum(axis=1))
    expected = float(np.mean(log_sum_exp - x64[np.arange(3), y]))
    assert loss == pytest.approx(expected, rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False), min_size=2, max_size=12
    ),
    label=st.integers(0, 11),
)
def test_softmax_loss_matches_stable_log_sum_exp(values: list[float], label: int) -> None:
    x = np.array([values], dtype=np.float64)
    y = np.array([label % len(values)])
    loss, dx = softmax_loss(x, y)
    top = x.max()
    log_sum_exp = top + np.log(np.sum(np.exp(x - top)))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    assert loss == pytest.approx(log_sum_exp - x[0, y[0]], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_with_zero_variance_features_stays_finite(dtype: type) -> None:
    x = np.full((6, 4), 3.0, dtype=dtype)
    x[:, 1] = np.arange(6)  # one varying feature among constant ones
    gamma = np.ones(4, dtype=dtype)
    beta = np.zeros(4, dtype=dtype)
    bn_param = {"mode": "train"}
    with np.errstate(all="raise"):
        out, cache = batchnorm_forward(x, gamma, beta, bn_param)
        dx, dgamma, dbeta = batchnorm_backward(np.ones_like(x), cache)
    for a in (out, dx, dgamma, dbeta, bn_param["running_mean"], bn_param["running_var"]):
        assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(out[:, 0], 0)
    test_out, _ = batchnorm_forward(x, gamma, beta, {**bn_param, "mode": "test"})
    assert np.all(np.isfinite(test_out))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_batchnorm_and_layernorm_on_constant_input_stay_finite(dtype: type) -> None:
    x = np.full((2, 3, 4, 4), -7.0, dtype=dtype)
    ones, zeros = np.ones(3, dtype=dtype), np.zeros(3, dtype=dtype)
    with np.errstate(all="raise"):
        out, cache = spatial_batchnorm_forward(x, ones, zeros, {"mode": "train"})
        grads = spatial_batchnorm_backward(np.ones_like(x), cache)
        flat = x.reshape(2, -1)
        ln_out, _ = layernorm_forward(flat, np.ones(48, dtype=dtype), np.zeros(48, dtype=dtype), {})
    assert np.all(np.isfinite(out)) and all(np.all(np.isfinite(g)) for g in grads)
    assert np.all(np.isfinite(ln_out))
