"""Schedules: values at chosen steps, composition, make_schedule names and errors."""

import math

import pytest

from numnet.errors import ConfigError
from numnet.optim import make_schedule, schedules
from numnet.optim.schedules import (
    constant,
    cosine,
    exponential_decay,
    join,
    linear_warmup,
    step_decay,
)


def test_constant():
    s = constant(0.01)
    assert [s(0), s(1), s(10**6)] == [0.01, 0.01, 0.01]


def test_step_decay_values():
    s = step_decay(0.1, 0.5, steps_per_epoch=100)
    assert s(0) == 0.1 and s(99) == 0.1
    assert s(100) == 0.05 and s(199) == 0.05
    assert math.isclose(s(350), 0.1 * 0.5**3)


def test_exponential_decay_values():
    s = exponential_decay(1.0, 0.5, decay_steps=10)
    assert s(0) == 1.0
    assert math.isclose(s(5), 0.5**0.5)
    assert math.isclose(s(20), 0.25)
    stairs = exponential_decay(1.0, 0.5, decay_steps=10, staircase=True)
    assert stairs(19) == 0.5 and stairs(20) == 0.25


def test_cosine_values():
    s = cosine(1.0, total_steps=100, final_lr=0.1)
    assert s(0) == 1.0
    assert math.isclose(s(50), 0.1 + 0.9 * 0.5)
    assert math.isclose(s(25), 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert math.isclose(s(100), 0.1) and math.isclose(s(1000), 0.1)


def test_cosine_with_warmup_values():
    s = cosine(1.0, total_steps=110, warmup_steps=10)
    assert math.isclose(s(0), 0.1)  # first update already moves
    assert math.isclose(s(4), 0.5)
    assert math.isclose(s(9), 1.0)
    assert s(10) == 1.0
    assert math.isclose(s(60), 0.5)
    assert math.isclose(s(110), 0.0, abs_tol=1e-15)


def test_linear_warmup_composes_with_after():
    s = linear_warmup(0.4, warmup_steps=4)
    assert [round(s(i), 12) for i in range(6)] == [0.1, 0.2, 0.3, 0.4, 0.4, 0.4]
    composed = linear_warmup(1.0, 10, after=cosine(1.0, total_steps=100))
    direct = cosine(1.0, total_steps=110, warmup_steps=10)
    for step in (0, 5, 9, 10, 11, 50, 109, 110, 200):
        assert math.isclose(composed(step), direct(step), abs_tol=1e-15)
    decayed = linear_warmup(1.0, 2, after=step_decay(1.0, 0.5, 3))
    assert [decayed(i) for i in (2, 4, 5, 8)] == [1.0, 1.0, 0.5, 0.25]


def test_join_pieces_restart_counting():
    s = join([constant(1.0), step_decay(0.5, 0.1, 2), constant(0.001)], boundaries=[3, 7])
    assert [s(i) for i in range(9)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.05, 0.05, 0.001, 0.001]
    with pytest.raises(ConfigError, match="one more schedule"):
        join([constant(1.0)], [3])
    with pytest.raises(ConfigError, match="strictly increasing"):
        join([constant(1.0)] * 3, [5, 5])


def test_make_schedule_names():
    assert make_schedule("constant", 0.1, 10, 100)(99) == 0.1
    step = make_schedule("step", 0.1, steps_per_epoch=10, total_steps=100, decay=0.5)
    assert step(9) == 0.1 and step(10) == 0.05
    expo = make_schedule("exponential", 0.1, steps_per_epoch=10, total_steps=100, decay=0.5)
    assert math.isclose(expo(5), 0.1 * 0.5**0.5) and math.isclose(expo(10), 0.05)
    cos = make_schedule("cosine", 0.1, steps_per_epoch=10, total_steps=100)
    assert cos(0) == 0.1 and math.isclose(cos(50), 0.05)
    warm = make_schedule("warmup-cosine", 0.1, steps_per_epoch=10, total_steps=200)
    assert math.isclose(warm(0), 0.01) and warm(10) == 0.1  # one epoch of warmup by default
    warm = make_schedule("Warmup-Cosine", 0.1, 10, 200, warmup_epochs=2, final_lr=0.01)
    assert math.isclose(warm(19), 0.1) and math.isclose(warm(200), 0.01)
    short = make_schedule("warmup-cosine", 0.1, steps_per_epoch=100, total_steps=50)
    assert math.isclose(short(0), 0.1 / 5)  # warmup capped at a tenth of the run


def test_make_schedule_errors():
    with pytest.raises(ConfigError) as info:
        make_schedule("triangle", 0.1, 10, 100)
    for name in schedules.SCHEDULE_NAMES:
        assert name in str(info.value)
    with pytest.raises(ConfigError, match="does not take option"):
        make_schedule("cosine", 0.1, 10, 100, decay=0.5)
    with pytest.raises(ConfigError, match="learning rate"):
        make_schedule("step", -0.1, 10, 100)
    with pytest.raises(ConfigError, match="warmup_steps"):
        make_schedule("warmup-cosine", 0.1, 10, 100, warmup_steps=100)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: constant(0), "learning rate must be > 0"),
        (lambda: constant(float("nan")), "finite"),
        (lambda: step_decay(0.1, 0.0, 10), "decay must be > 0"),
        (lambda: step_decay(0.1, 0.5, 0), "steps_per_epoch"),
        (lambda: cosine(0.1, 0), "total_steps"),
        (lambda: cosine(0.1, 10, final_lr=0.2), "final_lr"),
        (lambda: linear_warmup(0.1, 0), "warmup_steps"),
        (lambda: exponential_decay(0.1, 0.9, 2.5), "decay_steps"),
    ],
)
def test_schedule_argument_errors(build, match):
    with pytest.raises(ConfigError, match=match):
        build()
