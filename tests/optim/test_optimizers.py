"""Optimizers: one step against hand-computed values, convergence on a quadratic, errors."""

import math

import numpy as np
import pytest

from numnet.errors import ConfigError
from numnet.optim import (
    OPTIMIZERS,
    SGD,
    Adam,
    AdamW,
    Momentum,
    Nesterov,
    RMSProp,
    apply_updates,
    get_optimizer,
    schedules,
)


def params_and_grads(dtype=np.float64):
    params = {"W1": np.array([[1.0, -2.0], [0.5, 3.0]], dtype=dtype), "b1": np.array([0.1, -0.2])}
    grads = {"W1": np.array([[0.3, -0.1], [0.2, 0.4]], dtype=dtype), "b1": np.array([-0.5, 0.25])}
    return params, grads


def one_step(opt, params, grads):
    state = opt.init(params)
    updates, state = opt.update({k: g.copy() for k, g in grads.items()}, state, params)
    apply_updates(params, updates)
    return state


def test_sgd_one_step_hand_values():
    params, grads = params_and_grads()
    expected = {k: params[k] - 0.1 * grads[k] for k in params}
    one_step(SGD(0.1), params, grads)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=0, atol=1e-15)


def test_momentum_two_steps_hand_values():
    params, grads = params_and_grads()
    p0 = {k: v.copy() for k, v in params.items()}
    opt = Momentum(0.1, momentum=0.9)
    state = opt.init(params)
    for _ in range(2):
        updates, state = opt.update({k: g.copy() for k, g in grads.items()}, state, params)
        apply_updates(params, updates)
    # buf1 = g, buf2 = 0.9 g + g = 1.9 g; p2 = p0 - 0.1 (g + 1.9 g)
    for k in params:
        np.testing.assert_allclose(params[k], p0[k] - 0.1 * 2.9 * grads[k], atol=1e-15)


def test_nesterov_two_steps_hand_values():
    params, grads = params_and_grads()
    p0 = {k: v.copy() for k, v in params.items()}
    opt = Nesterov(0.1, momentum=0.9)
    state = opt.init(params)
    for _ in range(2):
        updates, state = opt.update({k: g.copy() for k, g in grads.items()}, state, params)
        apply_updates(params, updates)
    # step 1: buf = g, d = g + 0.9 g = 1.9 g; step 2: buf = 1.9 g, d = g + 0.9 * 1.9 g = 2.71 g
    for k in params:
        np.testing.assert_allclose(params[k], p0[k] - 0.1 * (1.9 + 2.71) * grads[k], atol=1e-15)


def test_rmsprop_one_step_hand_values():
    params, grads = params_and_grads()
    expected = {
        k: params[k] - 0.01 * grads[k] / (np.sqrt(0.01 * grads[k] ** 2) + 1e-8) for k in params
    }
    one_step(RMSProp(0.01), params, grads)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-14)


def test_adam_two_steps_hand_values():
    params, grads = params_and_grads()
    p0 = {k: v.copy() for k, v in params.items()}
    g2 = {k: -2.0 * g for k, g in grads.items()}
    opt = Adam(0.01)
    state = opt.init(params)
    for g in (grads, g2):
        updates, state = opt.update({k: a.copy() for k, a in g.items()}, state, params)
        apply_updates(params, updates)
    for k in params:
        step1 = 0.01 * grads[k] / (np.abs(grads[k]) + 1e-8)  # m_hat = g, v_hat = g^2
        m = 0.9 * 0.1 * grads[k] + 0.1 * g2[k]
        v = 0.999 * 0.001 * grads[k] ** 2 + 0.001 * g2[k] ** 2
        step2 = 0.01 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
        np.testing.assert_allclose(params[k], p0[k] - step1 - step2, rtol=1e-13)


def test_adamw_decay_is_decoupled_from_the_moments():
    params, grads = params_and_grads()
    p0 = {k: v.copy() for k, v in params.items()}
    one_step(AdamW(0.01, weight_decay=0.1), params, grads)
    for k in params:
        adam_step = grads[k] / (np.abs(grads[k]) + 1e-8)
        np.testing.assert_allclose(params[k], p0[k] - 0.01 * (adam_step + 0.1 * p0[k]), rtol=1e-13)


def test_sgd_weight_decay_is_l2_added_to_the_gradient():
    params, grads = params_and_grads()
    expected = {k: params[k] - 0.1 * (grads[k] + 0.01 * params[k]) for k in params}
    one_step(SGD(0.1, weight_decay=0.01), params, grads)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], atol=1e-15)


def test_sgd_clip_norm_clips_raw_gradient_first():
    params, grads = params_and_grads()
    norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads.values()))
    coefficient = 0.1 / (norm + 1e-6)
    expected = {k: params[k] - 1.0 * coefficient * grads[k] for k in params}
    one_step(SGD(1.0, clip_norm=0.1), params, grads)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], atol=1e-15)


def test_schedule_learning_rate_is_evaluated_at_the_update_count():
    params = {"w": np.zeros(1)}
    opt = SGD(schedules.step_decay(1.0, 0.5, steps_per_epoch=2))
    state = opt.init(params)
    moves = []
    for _ in range(5):
        before = params["w"].copy()
        updates, state = opt.update({"w": np.ones(1)}, state, params)
        apply_updates(params, updates)
        moves.append(float(before[0] - params["w"][0]))
    assert moves == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_float32_params_stay_float32():
    params = {"W": np.ones((3, 2), dtype=np.float32)}
    grad = np.full((3, 2), 0.5, dtype=np.float32)
    for name in OPTIMIZERS:
        opt = get_optimizer(name, 1e-2)
        state = opt.init(params)
        updates, state = opt.update({"W": grad.copy()}, state, params)
        assert updates["W"].dtype == np.float32
        apply_updates(params, updates)
        assert params["W"].dtype == np.float32
        assert all(v.dtype == np.float32 for v in state.values() if isinstance(v, np.ndarray))


def quadratic(x):
    """f(x) = 0.5 * sum(a * (x - c)**2): gradient a * (x - c), minimum at c."""
    a = np.array([1.0, 4.0, 0.5])
    c = np.array([1.0, -2.0, 3.0])
    return 0.5 * float(np.sum(a * (x - c) ** 2)), a * (x - c), c


@pytest.mark.parametrize(
    "opt",
    [
        SGD(0.2),
        Momentum(0.05),
        Nesterov(0.05),
        RMSProp(0.01),
        Adam(0.05),
        AdamW(0.05, weight_decay=1e-4),
        SGD(schedules.cosine(0.3, total_steps=800)),
        Adam(schedules.cosine(0.1, total_steps=800, warmup_steps=50)),
    ],
    ids=["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "sgd-cosine", "adam-warmup"],
)
def test_converges_on_a_quadratic(opt):
    params = {"x": np.zeros(3)}
    state = opt.init(params)
    first_loss = quadratic(params["x"])[0]
    for _ in range(800):
        _, grad, _ = quadratic(params["x"])
        updates, state = opt.update({"x": grad}, state, params)
        apply_updates(params, updates)
    loss, _, optimum = quadratic(params["x"])
    assert loss < 1e-3 * first_loss
    np.testing.assert_allclose(params["x"], optimum, atol=0.05)


@pytest.mark.parametrize("bad", [0.0, -1e-3, float("nan"), float("inf"), "fast", None])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_invalid_learning_rate_raises_config_error(name, bad):
    with pytest.raises(ConfigError, match="learning rate"):
        get_optimizer(name, bad)


def test_unknown_optimizer_lists_the_valid_names():
    with pytest.raises(ConfigError) as info:
        get_optimizer("adagrad", 1e-3)
    message = str(info.value)
    assert "adagrad" in message and "\n" not in message
    for name in ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"):
        assert name in message


def test_get_optimizer_names_and_hyperparameters():
    assert get_optimizer("ADAM", 1e-3, beta1=0.8) is not None
    with pytest.raises(ConfigError, match="does not take momentum"):
        get_optimizer("adam", 1e-3, momentum=0.9)
    with pytest.raises(ConfigError, match="momentum must be in"):
        get_optimizer("momentum", 1e-3, momentum=1.5)
    with pytest.raises(ConfigError, match="nesterov momentum needs momentum > 0"):
        SGD(0.1, nesterov=True)
    with pytest.raises(ConfigError, match="weight_decay must be >= 0"):
        get_optimizer("adamw", 1e-3, weight_decay=-1)
    with pytest.raises(ConfigError, match="epsilon must be > 0"):
        get_optimizer("rmsprop", 1e-3, epsilon=0)
    with pytest.raises(ConfigError, match="clip_norm must be > 0"):
        get_optimizer("sgd", 1e-3, clip_norm=0)
    with pytest.raises(ConfigError, match="beta2 must be in"):
        Adam(1e-3, beta2=1.0)


def test_schedule_returning_nan_is_rejected():
    with pytest.raises(ConfigError, match="schedule"):
        SGD(lambda step: float("nan"))
