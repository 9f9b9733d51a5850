"""CS231n update rules: published expected values, hand-computed values and default config keys."""

import numpy as np
import pytest

from numnet.optim import adam, rmsprop, sgd, sgd_momentum


def assert_rounded(actual, expected_rounded):
    """The notebook prints its expected values rounded to 8 decimals: allow half a unit of that."""
    np.testing.assert_allclose(actual, np.array(expected_rounded), rtol=0, atol=5.01e-9)


N, D = 4, 5


def _w_dw():
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return w, dw


# Expected values of the CS231n FullyConnectedNets notebook (rounded to 8 decimals there).
MOMENTUM_NEXT_W = [
    [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
    [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
    [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
    [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096],
]
MOMENTUM_VELOCITY = [
    [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
    [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
    [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
    [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096],
]
RMSPROP_NEXT_W = [
    [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
    [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
    [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
    [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619],
]
RMSPROP_CACHE = [
    [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
    [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
    [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
    [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926],
]
ADAM_NEXT_W = [
    [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
    [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
    [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
    [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459],
]
ADAM_V = [
    [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
    [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
    [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
    [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966],
]
ADAM_M = [
    [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
    [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
    [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
    [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85],
]


def test_sgd_momentum_matches_cs231n_expected_values():
    w, dw = _w_dw()
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    assert_rounded(next_w, MOMENTUM_NEXT_W)
    assert_rounded(config["velocity"], MOMENTUM_VELOCITY)


def test_rmsprop_matches_cs231n_expected_values():
    w, dw = _w_dw()
    cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache})
    assert_rounded(next_w, RMSPROP_NEXT_W)
    assert_rounded(config["cache"], RMSPROP_CACHE)


def test_adam_matches_cs231n_expected_values():
    w, dw = _w_dw()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    next_w, config = adam(w, dw, {"learning_rate": 1e-2, "m": m, "v": v, "t": 5})
    assert_rounded(next_w, ADAM_NEXT_W)
    assert_rounded(config["v"], ADAM_V)
    assert_rounded(config["m"], ADAM_M)
    assert config["t"] == 6


def test_sgd_hand_value_and_in_place():
    w = np.array([1.0, -2.0])
    dw = np.array([0.5, 0.25])
    next_w, config = sgd(w, dw)
    np.testing.assert_allclose(next_w, [1.0 - 0.005, -2.0 - 0.0025], rtol=0, atol=1e-15)
    assert next_w is w  # CS231n's sgd updates w in place
    assert config == {"learning_rate": 1e-2}


def test_default_config_keys_and_values():
    w = np.ones((2, 3), dtype=np.float32)
    dw = np.full((2, 3), 0.5, dtype=np.float32)
    _, c = sgd_momentum(w, dw)
    assert set(c) == {"learning_rate", "momentum", "velocity"}
    assert (c["learning_rate"], c["momentum"]) == (1e-2, 0.9)
    _, c = rmsprop(w, dw)
    assert set(c) == {"learning_rate", "decay_rate", "epsilon", "cache"}
    assert (c["learning_rate"], c["decay_rate"], c["epsilon"]) == (1e-2, 0.99, 1e-8)
    _, c = adam(w, dw)
    assert set(c) == {"learning_rate", "beta1", "beta2", "epsilon", "m", "v", "t"}
    assert (c["learning_rate"], c["beta1"], c["beta2"], c["epsilon"]) == (1e-3, 0.9, 0.999, 1e-8)
    assert c["t"] == 1
    assert c["m"].dtype == np.float32 and c["v"].dtype == np.float32


def test_first_steps_from_zero_state_hand_values():
    w = np.array([0.5, -1.0])
    dw = np.array([0.2, -0.4])
    # momentum: v = -lr * dw
    next_w, c = sgd_momentum(w.copy(), dw)
    np.testing.assert_allclose(c["velocity"], -1e-2 * dw)
    next_w, c = sgd_momentum(next_w, dw, c)
    np.testing.assert_allclose(c["velocity"], 0.9 * (-1e-2 * dw) - 1e-2 * dw)
    np.testing.assert_allclose(next_w, w - 1e-2 * dw + c["velocity"])
    # rmsprop: cache = 0.01 dw^2 -> step = lr * dw / (0.1 |dw| + eps) ~= 0.1 sign(dw)
    next_w, c = rmsprop(w.copy(), dw)
    np.testing.assert_allclose(next_w, w - 1e-2 * dw / (0.1 * np.abs(dw) + 1e-8))
    # adam: first step is lr * sign(dw) up to epsilon (t incremented to 1 before correction)
    next_w, c = adam(w.copy(), dw)
    np.testing.assert_allclose(next_w, w - 1e-3 * dw / (np.abs(dw) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("rule", [sgd, sgd_momentum, rmsprop, adam])
def test_user_config_values_are_kept(rule):
    config = {"learning_rate": 0.5}
    _, out = rule(np.zeros(3), np.ones(3), config)
    assert out is config and out["learning_rate"] == 0.5
