"""chain / apply_updates / clipping / weight decay building blocks."""

import math

import numpy as np
import pytest

from numnet.optim import (
    GradientTransformation,
    add_decayed_weights,
    apply_updates,
    chain,
    clip_by_global_norm,
    global_norm,
    identity,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_schedule,
)


class View(dict):
    """A mapping whose values are arrays owned elsewhere (like a model's parameter view)."""


def test_apply_updates_is_in_place_on_the_arrays():
    weight = np.ones((2, 2), dtype=np.float32)
    params = View(W=weight)
    apply_updates(params, {"W": np.full((2, 2), 0.5, dtype=np.float32)})
    assert params["W"] is weight
    np.testing.assert_array_equal(weight, np.full((2, 2), 1.5))
    with pytest.raises(KeyError, match="unknown parameter 'b'"):
        apply_updates(params, {"b": np.zeros(1)})


def test_chain_prefixes_sub_states_and_composes_in_order():
    opt = chain(scale_by_momentum(0.5), scale_by_learning_rate(2.0))
    params = {"w": np.zeros(1)}
    state = opt.init(params)
    assert set(state) == {"0/momentum/w", "1/count", "1/lr_scale"}
    for expected in (-2.0, -3.0):  # buf: 1, 1.5
        updates, state = opt.update({"w": np.ones(1)}, state, params)
        assert updates["w"][0] == expected
    assert state["1/count"] == 2
    assert opt.learning_rate(0) == 2.0
    with pytest.raises(ValueError, match="does not belong"):
        opt.update({"w": np.ones(1)}, {"5/count": 0}, params)
    with pytest.raises(TypeError, match="GradientTransformation"):
        chain(lambda g: g)


def test_identity_and_scale_by_schedule():
    updates, state = identity().update({"w": np.ones(1)}, {}, None)
    assert state == {} and updates["w"][0] == 1.0
    tx = scale_by_schedule(lambda step: step + 1.0)
    state = tx.init({"w": np.zeros(1)})
    for expected in (1.0, 2.0, 3.0):
        updates, state = tx.update({"w": np.ones(1)}, state, None)
        assert updates["w"][0] == expected


def test_user_defined_transformation_works_in_chain():
    double = GradientTransformation(
        init=lambda params: {}, update=lambda g, s, p=None: ({k: 2 * v for k, v in g.items()}, s)
    )
    opt = chain(double, scale_by_learning_rate(0.5))
    updates, _ = opt.update({"w": np.ones(1)}, opt.init({"w": np.zeros(1)}), None)
    assert updates["w"][0] == -1.0


def test_clip_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert global_norm(grads) == 5.0
    tx = clip_by_global_norm(1.0)
    updates, _ = tx.update({k: v.copy() for k, v in grads.items()}, tx.init(grads), None)
    coefficient = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(updates["a"], [3.0 * coefficient, 0.0])
    np.testing.assert_allclose(updates["b"], [[4.0 * coefficient]])
    assert math.isclose(global_norm(updates), 5.0 * coefficient)
    small = {"a": np.array([0.3, 0.4])}
    updates, _ = tx.update({"a": small["a"].copy()}, {}, None)
    np.testing.assert_array_equal(updates["a"], small["a"])  # under the limit: untouched


def test_add_decayed_weights_with_mask():
    params = {"W1": np.array([2.0]), "b1": np.array([4.0])}
    tx = add_decayed_weights(0.5, mask=lambda name: name.startswith("W"))
    updates, _ = tx.update({"W1": np.array([1.0]), "b1": np.array([1.0])}, {}, params)
    assert updates["W1"][0] == 2.0 and updates["b1"][0] == 1.0
    with pytest.raises(ValueError, match="needs params"):
        tx.update({"W1": np.array([1.0])}, {}, None)


def test_missing_state_entry_gives_a_clear_error():
    tx = scale_by_momentum(0.9)
    state = tx.init({"W1": np.zeros(2)})
    with pytest.raises(ValueError, match="'momentum/W2'"):
        tx.update({"W2": np.ones(2)}, state, None)
