"""PlateauDetector: the state machine, its bounds, and checkpointing of state and config."""

import math

import numpy as np
import pytest

from numnet.errors import ConfigError
from numnet.optim import (
    SGD,
    PlateauDetector,
    current_learning_rate,
    scale_learning_rate,
    state_from_arrays,
    state_to_arrays,
)


def run(plateau, metrics):
    state = plateau.init()
    factors = []
    for metric in metrics:
        factor, state = plateau.step(metric, state)
        factors.append(factor)
    return factors, state


def test_min_mode_reduces_after_patience_bad_epochs():
    plateau = PlateauDetector(factor=0.5, patience=2, mode="min")
    factors, state = run(plateau, [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.94, 0.8])
    # bad epochs: 0.95 (1), 0.91 (2), 0.92 (3 > 2: reduce, reset), 0.93 (1), 0.94 (2), 0.8 improves
    assert factors == [1.0, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 1.0]
    assert state == {"best": 0.8, "bad_epochs": 0, "scale": 0.5}


def test_max_mode_and_min_delta():
    plateau = PlateauDetector(factor=0.1, patience=0, min_delta=0.01, mode="max")
    factors, state = run(plateau, [0.5, 0.505, 0.6])
    assert factors == [1.0, 0.1, 1.0]  # 0.505 is not 0.01 better than 0.5
    assert math.isclose(state["scale"], 0.1) and state["best"] == 0.6


def test_nan_counts_as_no_improvement():
    factors, _ = run(PlateauDetector(factor=0.5, patience=0), [1.0, float("nan")])
    assert factors == [1.0, 0.5]


def test_min_scale_bounds_the_accumulated_scale():
    plateau = PlateauDetector(factor=0.1, patience=0, min_scale=0.05)
    factors, state = run(plateau, [1.0, 1.0, 1.0, 1.0])
    assert factors[:2] == [1.0, 0.1]
    assert math.isclose(factors[2], 0.5)  # 0.1 -> 0.05, not 0.01
    assert factors[3] == 1.0
    assert math.isclose(state["scale"], 0.05)


def test_step_does_not_modify_its_input_state():
    plateau = PlateauDetector(patience=0)
    state = plateau.init()
    plateau.step(1.0, state)
    assert state == plateau.init()


def test_wiring_with_the_optimizer_state_and_checkpoint(tmp_path):
    opt = SGD(0.2)
    opt_state = opt.init({"w": np.zeros(2)})
    plateau = PlateauDetector(factor=0.5, patience=0, mode="max")
    plateau_state = plateau.init()
    for accuracy in (0.5, 0.4):
        factor, plateau_state = plateau.step(accuracy, plateau_state)
        scale_learning_rate(opt_state, factor)
    assert math.isclose(current_learning_rate(opt, opt_state), 0.1)
    path = tmp_path / "plateau.npz"
    np.savez(path, **state_to_arrays(plateau_state))
    with np.load(path, allow_pickle=False) as data:
        restored = state_from_arrays(dict(data))
    assert restored == plateau_state
    assert isinstance(restored["bad_epochs"], int) and isinstance(restored["scale"], float)
    assert PlateauDetector.from_dict(plateau.to_dict()) == plateau


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"factor": 1.0}, "factor must be in"),
        ({"factor": 0.0}, "factor must be > 0"),
        ({"patience": -1}, "patience"),
        ({"mode": "up"}, "mode must be"),
        ({"min_delta": -0.1}, "min_delta"),
    ],
)
def test_invalid_hyperparameters(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        PlateauDetector(**kwargs)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="cooldown"):
        PlateauDetector.from_dict({"cooldown": 2})


def test_former_name_and_the_callback_name_stay_importable():
    import numnet.optim
    from numnet.callbacks import ReduceLROnPlateau
    from numnet.optim.plateau import ReduceOnPlateau
    from numnet.optim.schedules import PlateauDetector as FromSchedules

    assert ReduceOnPlateau is PlateauDetector is numnet.optim.ReduceOnPlateau is FromSchedules
    assert isinstance(ReduceLROnPlateau(patience=1).plateau, PlateauDetector)
