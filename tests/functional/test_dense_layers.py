"""Behaviour of the dense layer functions beyond their gradients: validation, dtypes, stability,
dropout statistics, batch-norm running statistics and the CS231n notebook's reference values."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.functional import activations as act
from numnet.functional.affine import affine_backward, affine_forward
from numnet.functional.dropout import dropout_backward, dropout_forward
from numnet.functional.losses import softmax_loss, svm_loss
from numnet.functional.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# --- CS231n notebook reference values ------------------------------------------------------------


def test_affine_forward_matches_cs231n_reference():
    x = np.linspace(-0.1, 0.5, num=2 * 4 * 5 * 6).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=120 * 3).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = affine_forward(x, w, b)
    expected = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    np.testing.assert_allclose(out, expected, rtol=1e-8)


def test_relu_forward_matches_cs231n_reference():
    out, _ = act.relu_forward(np.linspace(-0.5, 0.5, num=12).reshape(3, 4))
    expected = np.array(
        [
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.04545455, 0.13636364],
            [0.22727273, 0.31818182, 0.40909091, 0.5],
        ]
    )
    np.testing.assert_allclose(out, expected, rtol=1e-7, atol=1e-12)


def test_losses_on_tiny_scores_match_chance_level(rng):
    """CS231n sanity check: near-zero scores over 10 classes give log(10) and C - 1 = 9."""
    x = 0.001 * rng.standard_normal((50, 10))
    y = rng.integers(10, size=50)
    assert softmax_loss(x, y)[0] == pytest.approx(np.log(10), abs=1e-2)
    assert svm_loss(x, y)[0] == pytest.approx(9.0, abs=1e-2)


def test_loss_values_on_a_hand_computed_example():
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]])
    y = np.array([2, 0])
    loss, dx = softmax_loss(x, y)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert isinstance(loss, float)
    assert loss == pytest.approx(-(np.log(p[0, 2]) + np.log(p[1, 0])) / 2, rel=1e-12)
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(dx, (p - onehot) / 2, rtol=1e-12)

    # hinge: row 0 margins max(0, 1-3+1)=0, max(0, 2-3+1)=0; row 1: 1 (class 1) + 0 (class 2)
    loss, dx = svm_loss(x, y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(0.5)
    np.testing.assert_allclose(dx, [[0, 0, 0], [-0.5, 0.5, 0]])


def test_label_smoothing_on_a_hand_computed_example():
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]])
    y = np.array([2, 0])
    eps = 0.3
    loss, dx = softmax_loss(x, y, eps)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    q = (1 - eps) * np.eye(3)[y] + eps / 3
    assert loss == pytest.approx(-(q * np.log(p)).sum() / 2, rel=1e-12)
    np.testing.assert_allclose(dx, (p - q) / 2, rtol=1e-12, atol=1e-15)
    assert softmax_loss(x, y, 0.0)[0] == pytest.approx(softmax_loss(x, y)[0], rel=0)
    # float32 in, float32 out, same values
    loss32, dx32 = softmax_loss(x.astype(np.float32), y, eps)
    assert dx32.dtype == np.float32 and loss32 == pytest.approx(loss, rel=1e-6)


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [-0.1, 1.0, 1.5, np.nan, True, "0.1"])
def test_label_smoothing_validation(eps):
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\)"):
        softmax_loss(np.zeros((2, 3)), np.array([0, 1]), eps)


def test_affine_shape_mismatch_names_both_shapes(rng):
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(13, 5\)"):
        affine_forward(rng.standard_normal((2, 3, 4)), rng.standard_normal((13, 5)), np.zeros(5))
    with pytest.raises(ValueError, match=r"b must have shape.*\(5,\).*\(4,\)"):
        affine_forward(rng.standard_normal((2, 3)), rng.standard_normal((3, 5)), np.zeros(4))
    with pytest.raises(ValueError, match=r"w must have shape \(D, M\)"):
        affine_forward(rng.standard_normal((2, 3)), rng.standard_normal(3), np.zeros(4))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: affine_forward(x, np.ones((3, 2)), np.ones(2)),
        act.relu_forward,
        act.leaky_relu_forward,
        act.tanh_forward,
        act.sigmoid_forward,
        lambda x: dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 0}),
        lambda x: batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"}),
        lambda x: layernorm_forward(x, np.ones(3), np.zeros(3), {}),
        lambda x: softmax_loss(x, np.zeros(2, dtype=int)),
        lambda x: svm_loss(x, np.zeros(2, dtype=int)),
    ],
)
def test_integer_inputs_raise_type_error(call):
    with pytest.raises(TypeError, match="float32 or float64"):
        call(np.ones((2, 3), dtype=np.int64))


def test_label_validation():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\]"):
        softmax_loss(x, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"shape \(N,\) = \(3,\)"):
        svm_loss(x, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        softmax_loss(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"scores x must have shape \(N, C\)"):
        softmax_loss(np.zeros(4), np.array([0]))


def test_normalization_validation(rng):
    x = rng.standard_normal((4, 3))
    with pytest.raises(
        ValueError, match=r"gamma must have shape \(D,\) = \(3,\), got shape \(4,\)"
    ):
        batchnorm_forward(x, np.ones(4), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="mode"):
        batchnorm_forward(x, np.ones(3), np.zeros(3), {})
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    x4 = rng.standard_normal((2, 6, 2, 2))
    gamma, beta = np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1))
    with pytest.raises(ValueError, match="divisor of C = 6, got 4"):
        spatial_groupnorm_forward(x4, gamma, beta, 4, {})
    with pytest.raises(ValueError, match=r"\(1, C, 1, 1\)"):
        spatial_groupnorm_forward(x4, np.ones(6), np.zeros(6), 2, {})


@pytest.mark.parametrize("param", [{"p": 0.0, "mode": "train"}, {"p": 1.5, "mode": "test"}, {}])
def test_dropout_rejects_bad_keep_probability(param):
    with pytest.raises(ValueError, match="keep"):
        dropout_forward(np.ones((2, 2)), param)


def test_dropout_rejects_bad_mode():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        dropout_forward(np.ones((2, 2)), {"p": 0.5, "mode": "eval"})


# --- dtype preservation --------------------------------------------------------------------------


def _float32_calls(rng):
    f = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    return {
        "affine": (affine_forward, affine_backward, (f(4, 2, 3), f(6, 5), f(5))),
        "relu": (act.relu_forward, act.relu_backward, (f(4, 3),)),
        "leaky_relu": (act.leaky_relu_forward, act.leaky_relu_backward, (f(4, 3),)),
        "tanh": (act.tanh_forward, act.tanh_backward, (f(4, 3),)),
        "sigmoid": (act.sigmoid_forward, act.sigmoid_backward, (f(4, 3),)),
        "dropout": (
            dropout_forward,
            dropout_backward,
            (f(4, 3), {"p": 0.5, "mode": "train", "seed": 1}),
        ),
        "batchnorm": (
            batchnorm_forward,
            batchnorm_backward,
            (f(4, 3), f(3), f(3), {"mode": "train"}),
        ),
        "spatial_batchnorm": (
            spatial_batchnorm_forward,
            spatial_batchnorm_backward,
            (f(2, 3, 2, 2), f(3), f(3), {"mode": "train"}),
        ),
        "layernorm": (layernorm_forward, layernorm_backward, (f(4, 3), f(3), f(3), {})),
        "groupnorm": (
            spatial_groupnorm_forward,
            spatial_groupnorm_backward,
            (f(2, 4, 2, 2), f(1, 4, 1, 1), f(1, 4, 1, 1), 2, {}),
        ),
    }


@pytest.mark.parametrize("name", list(_float32_calls(np.random.default_rng(0))))
def test_float32_stays_float32(name, rng):
    forward, backward, args = _float32_calls(rng)[name]
    out, cache = forward(*args)
    assert out.dtype == np.float32
    grads = backward(np.ones_like(out), cache)
    for grad in grads if isinstance(grads, tuple) else (grads,):
        assert grad.dtype == np.float32


def test_losses_keep_float32(rng):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = rng.integers(4, size=5)
    for loss_fn in (softmax_loss, svm_loss):
        loss, dx = loss_fn(x, y)
        assert isinstance(loss, float)
        assert dx.dtype == np.float32


def test_batchnorm_creates_running_stats_in_x_dtype(rng):
    bn_param = {"mode": "train"}
    batchnorm_forward(
        rng.standard_normal((4, 3)).astype(np.float32), *np.ones((2, 3), np.float32), bn_param
    )
    assert bn_param["running_mean"].dtype == np.float32
    assert bn_param["running_var"].dtype == np.float32


# --- numerical stability -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_saturates_without_floating_point_errors(dtype):
    x = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4], dtype=dtype)
    with np.errstate(all="raise"):
        out, cache = act.sigmoid_forward(x)
        dx = act.sigmoid_backward(np.ones_like(x), cache)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert out[0] == 0.0 and out[-1] == 1.0 and out[3] == 0.5
    np.testing.assert_allclose(out[2], 1 / (1 + np.exp(50.0)), rtol=1e-6)
    assert dx[0] == 0.0 and dx[3] == 0.25


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_svm_finite_for_huge_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    y = np.array([1, 2])
    with np.errstate(all="raise"):
        loss, dx = softmax_loss(x, y)
        hinge, dhinge = svm_loss(x, y)
    # row 0: -log p_1 = 2e4; row 1: uniform over 3 classes
    assert loss == pytest.approx((2e4 + np.log(3)) / 2, rel=1e-6)
    np.testing.assert_allclose(dx, [[0.5, -0.5, 0.0], [1 / 6, 1 / 6, -1 / 3]], rtol=1e-6, atol=1e-7)
    assert np.isfinite(hinge) and np.all(np.isfinite(dhinge))
    assert hinge == pytest.approx((2e4 + 1 + 1e4 + 1 + 2) / 2)


def test_tanh_backward_uses_saved_output(rng):
    out, cache = act.tanh_forward(rng.standard_normal((3, 4)))
    np.testing.assert_array_equal(cache, out)
    dout = rng.standard_normal((3, 4))
    np.testing.assert_allclose(act.tanh_backward(dout, cache), dout * (1 - out**2))


def test_leaky_relu_default_slope_is_001():
    out, _ = act.leaky_relu_forward(np.array([-2.0, 3.0]))
    np.testing.assert_allclose(out, [-0.02, 3.0])


# --- dropout -------------------------------------------------------------------------------------


def test_dropout_keeps_fraction_p_and_preserves_the_mean():
    x = np.ones((500, 400))
    p = 0.3
    out, cache = dropout_forward(x, {"p": p, "mode": "train", "rng": np.random.default_rng(5)})
    kept = out != 0
    # binomial standard deviation of the kept fraction is sqrt(p (1-p) / n) ~ 1e-3
    assert abs(kept.mean() - p) < 5e-3
    np.testing.assert_allclose(out[kept], 1 / p)
    assert abs(out.mean() - 1.0) < 2e-2
    dx = dropout_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(dx, out)


def test_dropout_test_mode_is_identity(rng):
    x = rng.standard_normal((20, 30))
    out, cache = dropout_forward(x, {"p": 0.2, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((20, 30))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_dropout_seed_repeats_mask_and_rng_advances(rng):
    x = rng.standard_normal((30, 30)).astype(np.float32)
    seeded = {"p": 0.5, "mode": "train", "seed": 3}
    first, _ = dropout_forward(x, seeded)
    second, _ = dropout_forward(x, seeded)
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float32
    streaming = {"p": 0.5, "mode": "train", "rng": np.random.default_rng(3)}
    a, _ = dropout_forward(x, streaming)
    b, _ = dropout_forward(x, streaming)
    assert not np.array_equal(a, b)


# --- batch normalisation -------------------------------------------------------------------------


def test_batchnorm_train_output_and_running_stats_formula(rng):
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    bn_param = {"mode": "train", "momentum": 0.8, "eps": 1e-5}
    running_mean, running_var = np.zeros(3), np.zeros(3)
    for _ in range(3):
        x = 4.0 * rng.standard_normal((200, 3)) + 7.0
        out, _ = batchnorm_forward(x, gamma, beta, bn_param)
        np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-10)
        np.testing.assert_allclose(out.std(axis=0), gamma * np.sqrt(x.var(0) / (x.var(0) + 1e-5)))
        running_mean = 0.8 * running_mean + 0.2 * x.mean(axis=0)
        running_var = 0.8 * running_var + 0.2 * x.var(axis=0)  # biased variance
    np.testing.assert_allclose(bn_param["running_mean"], running_mean, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], running_var, rtol=1e-12)


def test_batchnorm_does_not_mutate_the_callers_running_arrays(rng):
    old_mean, old_var = np.zeros(3), np.ones(3)
    bn_param = {"mode": "train", "running_mean": old_mean, "running_var": old_var}
    batchnorm_forward(rng.standard_normal((5, 3)) + 2.0, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_array_equal(old_mean, 0.0)
    np.testing.assert_array_equal(old_var, 1.0)
    assert not np.array_equal(bn_param["running_mean"], 0.0)


def test_batchnorm_test_mode_uses_running_stats(rng):
    bn_param = {
        "mode": "test",
        "running_mean": np.array([1.0, -2.0]),
        "running_var": np.array([4.0, 0.25]),
    }
    x = rng.standard_normal((5, 2))
    gamma, beta = np.array([2.0, 3.0]), np.array([0.5, -0.5])
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma * (x - bn_param["running_mean"]) / np.sqrt(bn_param["running_var"] + 1e-5)
    np.testing.assert_allclose(out, expected + beta, rtol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], [1.0, -2.0])


def test_spatial_batchnorm_normalises_per_channel(rng):
    x = rng.standard_normal((4, 3, 5, 5)) * np.array([1.0, 5.0, 0.1])[:, None, None] + 3.0
    out, _ = spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    channel_var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), channel_var / (channel_var + 1e-5))


def test_zero_variance_inputs_stay_finite():
    dout = np.arange(12.0).reshape(4, 3)
    x = np.tile(np.array([2.5, -1.0, 7.0]), (4, 1))  # every feature constant over the batch
    out, cache = batchnorm_forward(x, np.ones(3), np.array([1.0, 2.0, 3.0]), {"mode": "train"})
    np.testing.assert_allclose(out, np.tile([1.0, 2.0, 3.0], (4, 1)))
    assert all(np.all(np.isfinite(g)) for g in batchnorm_backward(dout, cache))
    out, cache = layernorm_forward(np.full((4, 3), 3.0), np.ones(3), np.zeros(3), {})
    np.testing.assert_array_equal(out, 0.0)
    assert all(np.all(np.isfinite(g)) for g in layernorm_backward(dout, cache))
    x4 = np.ones((2, 4, 3, 3))
    out, cache = spatial_groupnorm_forward(x4, np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), 2, {})
    assert np.all(np.isfinite(out))
    assert all(np.all(np.isfinite(g)) for g in spatial_groupnorm_backward(np.ones_like(x4), cache))


def test_layernorm_and_groupnorm_normalise_per_sample(rng):
    x = rng.standard_normal((3, 8)) * np.array([[1.0], [10.0], [0.1]]) + 5.0
    out, _ = layernorm_forward(x, np.ones(8), np.zeros(8), {"eps": 1e-8})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-10)
    np.testing.assert_allclose(out.var(axis=1), 1, rtol=1e-5)
    x4 = rng.standard_normal((2, 6, 3, 3)) + 2.0
    out, _ = spatial_groupnorm_forward(x4, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 3, {})
    groups = out.reshape(2, 3, -1)
    np.testing.assert_allclose(groups.mean(axis=2), 0, atol=1e-10)
    np.testing.assert_allclose(groups.var(axis=2), 1, rtol=1e-3)
