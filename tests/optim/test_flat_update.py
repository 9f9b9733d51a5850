"""The fused flat update (numnet.kernels.flat_update) against the pure transformations.

Every optimizer, with clipping, weight decay and a schedule, run for several steps both ways from
the same start: the parameters and the whole state (keys, counters, moment arrays) must agree, and
a state must move between the two paths at any step.
"""

import numpy as np
import pytest

from numnet.kernels.flat import FlatArrays, FlatLayout
from numnet.kernels.flat_update import FlatUpdate, flat_update
from numnet.optim import (
    OPTIMIZERS,
    GradientTransformation,
    add_decayed_weights,
    apply_updates,
    chain,
    get_optimizer,
    identity,
    scale_by_learning_rate,
    scale_by_schedule,
    schedules,
    state_from_arrays,
    state_to_arrays,
)

SHAPES = {"W1": (5, 4), "b1": (4,), "gamma1": (4,), "W2": (4, 3), "b2": (3,)}
TOLERANCE = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 2e-5, "atol": 1e-6}}


class FlatParams(FlatArrays):
    """Parameters as a model on its fast kernels hands them out: views of one flat array."""

    @property
    def flat_layout(self):
        return self.layout


def flat_params(dtype, seed=0):
    layout = FlatLayout(list(SHAPES), list(SHAPES.values()), dtype)
    params = FlatParams(layout, np.empty(layout.size, dtype))
    rng = np.random.default_rng(seed)
    for value in params.values():
        value[...] = rng.standard_normal(value.shape)
    return params


def flat_grads(layout, rng, scale=1.0):
    grads = FlatArrays(layout, np.empty(layout.size, layout.dtype))
    grads.flat_buffer()[:] = scale * rng.standard_normal(layout.size)
    return grads


def make(name, **extra):
    hyper = {"sgd": {"momentum": 0.0}, "nesterov": {"momentum": 0.8}}.get(name, {})
    return get_optimizer(
        name,
        schedules.cosine(0.05, total_steps=8, warmup_steps=2),
        weight_decay=0.01,
        clip_norm=2.0,
        **hyper,
        **extra,
    )


def assert_states_close(got, want, dtype):
    assert set(got) == set(want)
    for key, value in want.items():
        if isinstance(value, np.ndarray):
            assert got[key].dtype == value.dtype, key
            np.testing.assert_allclose(got[key], value, err_msg=key, **TOLERANCE[dtype])
        else:
            assert type(got[key]) is type(value) and got[key] == value, key


def pure_step(opt, params, grads, state):
    updates, state = opt.update(grads, state, params)
    apply_updates(params, updates)
    return state


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fused_equals_pure_with_clipping_decay_and_schedule(name, dtype):
    opt = make(name)
    fused = flat_update(opt)
    assert isinstance(fused, FlatUpdate)
    params = flat_params(dtype)
    plain = {k: v.copy() for k, v in params.items()}
    fused_state, pure_state = opt.init(params), opt.init(plain)
    rng = np.random.default_rng(1)
    clipped = 0
    for step in range(6):
        grads = flat_grads(params.layout, rng, scale=0.2 if step % 2 else 3.0)
        clipped += np.sqrt(np.dot(grads.flat_buffer(), grads.flat_buffer())) > 2.0
        given = grads.flat_buffer().copy()
        assert fused.step(params, grads, fused_state)
        np.testing.assert_array_equal(grads.flat_buffer(), given)  # gradients only read
        pure_state = pure_step(opt, plain, {k: v.copy() for k, v in grads.items()}, pure_state)
        for key, value in plain.items():
            np.testing.assert_allclose(params[key], value, err_msg=key, **TOLERANCE[dtype])
        assert_states_close(fused_state, pure_state, dtype)
    assert 0 < clipped < 6  # both branches of the clipping stage ran


@pytest.mark.parametrize("name", ["nesterov", "rmsprop", "adam", "adamw"])
def test_state_moves_between_paths_at_any_step(name):
    """Checkpoints and a model switched to the reference kernels rely on this."""
    opt = make(name)
    fused = flat_update(opt)
    params = flat_params(np.float64)
    plain = {k: v.copy() for k, v in params.items()}
    mixed_state, pure_state = opt.init(params), opt.init(plain)
    rng = np.random.default_rng(2)
    for step in range(8):
        grads = flat_grads(params.layout, rng)
        pure_state = pure_step(opt, plain, dict(grads), pure_state)
        if step in (3, 4):  # the pure path in the middle, on the kernel's state
            mixed_state = pure_step(opt, params, dict(grads), mixed_state)
        elif step == 6:  # a checkpoint round trip: fresh arrays that are not the kernel's views
            mixed_state = state_from_arrays(state_to_arrays(mixed_state))
            assert fused.step(params, grads, mixed_state)
        else:
            assert fused.step(params, grads, mixed_state)
    for key, value in plain.items():
        np.testing.assert_allclose(params[key], value, rtol=1e-12, atol=1e-14)
    assert_states_close(mixed_state, pure_state, np.float64)


def test_state_buffers_are_flat_views_after_a_step():
    opt = get_optimizer("adam", 1e-3)
    fused = flat_update(opt)
    params = flat_params(np.float32)
    state = opt.init(params)
    assert fused.step(params, flat_grads(params.layout, np.random.default_rng(0)), state)
    m_views = [state[f"0/m/{name}"] for name in SHAPES]
    base = m_views[0].base
    assert base is not None and base.ndim == 1 and base.size == params.layout.size
    assert all(view.base is base for view in m_views)
    kept = dict(state)
    assert fused.step(params, flat_grads(params.layout, np.random.default_rng(1)), state)
    assert all(state[key] is kept[key] for key in kept if isinstance(kept[key], np.ndarray))
    assert state["0/count"] == 2 and state["1/count"] == 2


def test_not_flat_means_no_step_and_nothing_touched():
    opt = get_optimizer("momentum", 0.1)
    fused = flat_update(opt)
    params = flat_params(np.float64)
    rng = np.random.default_rng(3)
    state = opt.init(params)
    before = {k: v.copy() for k, v in params.items()}
    grads = flat_grads(params.layout, rng)
    plain_grads = dict(grads)  # a plain dict: no flat buffer
    assert not fused.step(params, plain_grads, state)
    edited = flat_grads(params.layout, rng)
    edited["W1"] = edited["W1"].copy()  # an edited flat dict is no longer flat
    assert not fused.step(params, edited, state)
    plain_params = {k: v.copy() for k, v in params.items()}
    assert not fused.step(plain_params, grads, state)
    other = FlatLayout(["W1"], [(5, 4)], np.float64)
    assert not fused.step(params, FlatArrays(other, np.zeros(other.size)), state)
    for key, value in before.items():
        np.testing.assert_array_equal(params[key], value)
    assert state["1/count"] == 0


def test_broken_state_fails_before_anything_is_written():
    opt = get_optimizer("adam", 1e-3)
    fused = flat_update(opt)
    params = flat_params(np.float64)
    before = params.flat_buffer().copy()
    state = opt.init(params)
    del state["1/lr_scale"]
    with pytest.raises(ValueError, match="'1/lr_scale'"):
        fused.step(params, flat_grads(params.layout, np.random.default_rng(0)), state)
    np.testing.assert_array_equal(params.flat_buffer(), before)
    state = opt.init(params)
    state["0/m/W1"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match="shape"):
        fused.step(params, flat_grads(params.layout, np.random.default_rng(0)), state)


def test_transformations_without_a_fused_version():
    double = GradientTransformation(
        init=lambda params: {}, update=lambda g, s, p=None: ({k: 2 * v for k, v in g.items()}, s)
    )
    assert flat_update(double) is None
    assert flat_update(chain(double, scale_by_learning_rate(0.1))) is None
    masked = chain(add_decayed_weights(0.1, mask=lambda n: n.startswith("W")), identity())
    assert flat_update(masked) is None


def test_schedule_stage_and_identity_are_fused():
    opt = chain(identity(), scale_by_schedule(schedules.step_decay(2.0, 0.5, 1)))
    fused = flat_update(opt)
    params = flat_params(np.float64)
    start = params.flat_buffer().copy()
    state = opt.init(params)
    grads = FlatArrays(params.layout, np.ones(params.layout.size))
    for _ in range(3):
        assert fused.step(params, grads, state)
    np.testing.assert_allclose(params.flat_buffer(), start + 2.0 + 1.0 + 0.5)


def test_adopting_a_second_state_leaves_the_first_alone():
    opt = get_optimizer("momentum", 0.1)
    fused = flat_update(opt)
    params = flat_params(np.float64)
    rng = np.random.default_rng(4)
    first = opt.init(params)
    assert fused.step(params, flat_grads(params.layout, rng), first)
    kept = {k: np.array(v) for k, v in first.items() if isinstance(v, np.ndarray)}
    second = opt.init(params)
    assert fused.step(params, flat_grads(params.layout, rng), second)
    for key, value in kept.items():
        np.testing.assert_array_equal(first[key], value)
        assert not np.shares_memory(first[key], second[key])
