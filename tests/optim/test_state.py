"""Optimizer state: flat keys, exact round-trip through arrays and an .npz file, lr helpers."""

import math

import numpy as np
import pytest

from numnet.optim import (
    SGD,
    Adam,
    AdamW,
    RMSProp,
    apply_updates,
    current_learning_rate,
    scale_learning_rate,
    schedules,
    state_from_arrays,
    state_to_arrays,
)


def make_params(rng):
    return {
        "W1": rng.standard_normal((3, 4)).astype(np.float32),
        "b1": np.zeros(4, dtype=np.float32),
    }


def train(opt, params, state, rng, steps):
    for _ in range(steps):
        grads = {k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in params.items()}
        updates, state = opt.update(grads, state, params)
        apply_updates(params, updates)
    return state


def test_adam_state_keys_are_flat_and_namespaced():
    state = Adam(1e-3, clip_norm=1.0).init(make_params(np.random.default_rng(0)))
    expected = {"1/m/W1", "1/m/b1", "1/v/W1", "1/v/b1", "1/count", "2/count", "2/lr_scale"}
    assert set(state) == expected
    assert state["1/count"] == 0 and state["2/lr_scale"] == 1.0


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda: Adam(1e-2),
        lambda: SGD(0.1, momentum=0.9),
        lambda: RMSProp(1e-2),
        lambda: AdamW(1e-2),
    ],
)
def test_state_round_trip_through_npz_resumes_identically(tmp_path, make_opt):
    rng = np.random.default_rng(1)
    opt = make_opt()
    params = make_params(rng)
    state = train(opt, params, opt.init(params), rng, 3)
    scale_learning_rate(state, 0.5)

    path = tmp_path / "optim.npz"
    np.savez(path, **state_to_arrays(state))
    with np.load(path, allow_pickle=False) as data:
        restored = state_from_arrays(dict(data))

    assert set(restored) == set(state)
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            assert restored[key].dtype == value.dtype
            np.testing.assert_array_equal(restored[key], value)
            assert restored[key] is not value
        else:
            assert type(restored[key]) is type(value) and restored[key] == value

    params_a = {k: v.copy() for k, v in params.items()}
    params_b = {k: v.copy() for k, v in params.items()}
    train(opt, params_a, state, np.random.default_rng(9), 2)
    train(opt, params_b, restored, np.random.default_rng(9), 2)
    for k in params:
        np.testing.assert_array_equal(params_a[k], params_b[k])


def test_scalar_types_round_trip_exactly():
    state = {"count": 2**40 + 1, "lr_scale": 0.1 + 0.2, "v/W": np.array(3.0)}
    restored = state_from_arrays(state_to_arrays(state))
    assert restored["count"] == 2**40 + 1 and type(restored["count"]) is int
    assert restored["lr_scale"] == 0.1 + 0.2 and type(restored["lr_scale"]) is float
    assert isinstance(restored["v/W"], np.ndarray) and restored["v/W"].shape == ()


def test_state_to_arrays_rejects_unsupported_values():
    with pytest.raises(TypeError, match="'name'"):
        state_to_arrays({"name": "adam"})
    with pytest.raises(TypeError, match="bool"):
        state_to_arrays({"flag": True})


def test_current_learning_rate_follows_schedule_and_scale():
    schedule = schedules.step_decay(0.1, 0.5, steps_per_epoch=2)
    opt = SGD(schedule, momentum=0.9)
    params = {"w": np.zeros(2)}
    state = opt.init(params)
    assert current_learning_rate(opt, state) == 0.1
    assert current_learning_rate(opt, None) == 0.1
    state = train(opt, params, state, np.random.default_rng(0), 2)
    assert math.isclose(current_learning_rate(opt, state), 0.05)
    assert math.isclose(current_learning_rate(schedule, state), 0.05)
    scale_learning_rate(state, 0.1)
    assert math.isclose(current_learning_rate(opt, state), 0.005)
    assert math.isclose(current_learning_rate(0.3, state), 0.03)


def test_scale_learning_rate_changes_the_next_update():
    params = {"w": np.zeros(1)}
    opt = SGD(1.0)
    state = scale_learning_rate(opt.init(params), 0.25)
    updates, state = opt.update({"w": np.ones(1)}, state, params)
    assert updates["w"][0] == -0.25
    assert state["0/lr_scale"] == 0.25


def test_scale_learning_rate_without_lr_stage_raises():
    with pytest.raises(ValueError, match="lr_scale"):
        scale_learning_rate({"m/W": np.zeros(1)}, 0.5)
