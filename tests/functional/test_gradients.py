"""Float64 central-difference check of every backward in the layer table, kernels included."""

from __future__ import annotations

import pytest

from numnet.gradcheck import check_layer
from numnet.layer_table import ROWS, row_rng


@pytest.mark.parametrize("trial", [1, 2])
@pytest.mark.parametrize("case", ROWS, ids=[c.id for c in ROWS])
def test_backward_matches_central_differences(case, trial):
    rng = row_rng(case, trial)  # seed 0 is `numnet gradcheck`'s
    args = case.make_args(rng)
    errors = check_layer(case.forward, case.backward, args, case.grad_args, rng=rng, h=case.h)
    assert set(errors) == set(case.grad_args)
    worst = max(errors, key=errors.get)
    assert errors[worst] < case.tol, (
        f"{case.id}: gradient of argument {worst} has relative error {errors[worst]:.3g} "
        f">= {case.tol:g} (all: {errors})"
    )
