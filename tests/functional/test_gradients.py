"""Float64 central-difference check of every backward in the layer table."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from numnet.gradcheck import check_layer
from tests.functional.cases import CASES


def _seed(case_id: str, trial: int) -> int:
    return zlib.crc32(case_id.encode()) + 7919 * trial


@pytest.mark.parametrize("trial", [0, 1])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_backward_matches_central_differences(case, trial):
    rng = np.random.default_rng(_seed(case.id, trial))
    args = case.make_args(rng)
    errors = check_layer(case.forward, case.backward, args, case.grad_args, rng=rng)
    assert set(errors) == set(case.grad_args)
    worst = max(errors, key=errors.get)
    assert errors[worst] < case.tol, (
        f"{case.id}: gradient of argument {worst} has relative error {errors[worst]:.3g} "
        f">= {case.tol:g} (all: {errors})"
    )
