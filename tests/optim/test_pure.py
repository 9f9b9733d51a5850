"""Pure transformations: update returns new arrays and a new state, and leaves its inputs alone."""

import numpy as np
import pytest

from numnet.optim import (
    OPTIMIZERS,
    add_decayed_weights,
    chain,
    clip_by_global_norm,
    get_optimizer,
    identity,
    scale_by_adam,
    scale_by_momentum,
    scale_by_rms,
    scale_by_schedule,
    schedules,
)

HYPER = {
    "sgd": {"momentum": 0.9},
    "momentum": {},
    "nesterov": {},
    "rmsprop": {},
    "adam": {},
    "adamw": {},
}


def _snapshot(mapping):
    return {
        k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in mapping.items()
    }


def _assert_same(mapping, snapshot):
    assert set(mapping) == set(snapshot)
    for key, value in snapshot.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(mapping[key], value, err_msg=key)
        else:
            assert mapping[key] == value, key


def _arrays(mapping):
    return [v for v in mapping.values() if isinstance(v, np.ndarray)]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_leaves_grads_state_and_params_untouched(name):
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(3)}
    opt = get_optimizer(
        name,
        schedules.cosine(0.1, total_steps=10, warmup_steps=2),
        weight_decay=0.1,
        clip_norm=0.5,
        **HYPER[name],
    )
    state = opt.init(params)
    for _ in range(3):  # later steps have non-zero moments to protect
        grads = {k: 3 * rng.standard_normal(v.shape) for k, v in params.items()}
        before = (_snapshot(grads), _snapshot(state), _snapshot(params))
        updates, new_state = opt.update(grads, state, params)
        _assert_same(grads, before[0])
        _assert_same(state, before[1])
        _assert_same(params, before[2])
        assert new_state is not state and set(new_state) == set(state)
        inputs = _arrays(grads) + _arrays(state) + _arrays(params)
        for output in _arrays(updates) + _arrays(new_state):
            assert not any(np.shares_memory(output, given) for given in inputs)
        params = {k: v + updates[k] for k, v in params.items()}
        state = new_state


@pytest.mark.parametrize(
    "tx",
    [
        identity(),
        clip_by_global_norm(100.0),  # under the limit: values unchanged, arrays still new
        clip_by_global_norm(1e-3),
        add_decayed_weights(0.0),
        add_decayed_weights(0.5, mask=lambda name: name == "w"),
        scale_by_momentum(0.9, nesterov=True),
        scale_by_rms(),
        scale_by_adam(),
        scale_by_schedule(2.0),
        chain(),
    ],
    ids=lambda tx: tx.spec[0].kind if tx.spec else "empty-chain",
)
def test_every_piece_returns_arrays_the_caller_owns(tx):
    params = {"w": np.arange(3.0), "b": np.ones(2)}
    grads = {"w": np.array([1.0, -2.0, 0.5]), "b": np.array([0.25, 4.0])}
    state = tx.init(params)
    before = _snapshot(grads), _snapshot(state)
    updates, _ = tx.update(grads, state, params)
    _assert_same(grads, before[0])
    _assert_same(state, before[1])
    for name, update in updates.items():
        assert not np.shares_memory(update, grads[name])


def test_same_gradients_feed_two_optimizers():
    """Pure updates: one gradient dict can drive two optimizers, in either order."""
    params = {"w": np.array([1.0, -1.0])}
    grads = {"w": np.array([0.5, 2.0])}
    sgd, adam = get_optimizer("sgd", 0.1), get_optimizer("adam", 0.1)
    sgd_first = sgd.update(grads, sgd.init(params), params)[0]["w"]
    adam_then = adam.update(grads, adam.init(params), params)[0]["w"]
    np.testing.assert_array_equal(sgd.update(grads, sgd.init(params), params)[0]["w"], sgd_first)
    np.testing.assert_allclose(sgd_first, [-0.05, -0.2])
    np.testing.assert_allclose(adam_then, [-0.1, -0.1], rtol=1e-6)


def test_spec_describes_the_chain_with_state_prefixes():
    opt = get_optimizer("adamw", 1e-3, clip_norm=1.0, weight_decay=0.1)
    kinds = [(stage.kind, stage.prefix) for stage in opt.spec]
    assert kinds == [
        ("clip_by_global_norm", "0/"),
        ("scale_by_adam", "1/"),
        ("add_decayed_weights", "2/"),
        ("scale_by_learning_rate", "3/"),
    ]
    assert opt.spec[1].hyper["beta2"] == 0.999 and opt.spec[3].hyper["schedule"](0) == 1e-3
    state = opt.init({"W": np.zeros(2)})
    for stage in opt.spec:  # every stage's state lives under its prefix
        assert any(key.startswith(stage.prefix) for key in state) or stage.kind in (
            "clip_by_global_norm",
            "add_decayed_weights",
        )
    nested = chain(chain(scale_by_momentum(0.5)), scale_by_schedule(1.0))
    assert [s.prefix for s in nested.spec] == ["0/0/", "1/"]
    assert "0/0/momentum/W" in nested.init({"W": np.zeros(1)})
    with pytest.raises(TypeError):
        opt.spec[0].hyper["max_norm"] = 2.0  # read-only description


def test_hand_written_part_makes_the_chain_spec_none():
    from numnet.optim import GradientTransformation

    double = GradientTransformation(
        init=lambda params: {}, update=lambda g, s, p=None: ({k: 2 * v for k, v in g.items()}, s)
    )
    assert double.spec is None
    assert chain(double, scale_by_schedule(1.0)).spec is None


def test_optim_imports_nothing_from_layers_models_or_kernels():
    import ast
    from pathlib import Path

    import numnet.optim

    forbidden = ("numnet.nn", "numnet.models", "numnet.kernels", "numnet.solver")
    for path in Path(numnet.optim.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
                modules += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                assert not module.startswith(forbidden), f"{path.name} imports {module}"
