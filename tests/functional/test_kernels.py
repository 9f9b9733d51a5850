"""Every fast kernel equals its reference: forward, every gradient, float64 and float32.

The rows are the layer table's kernel rows (and any other row whose functions are not its
reference pair); inputs are drawn at random, rounded to the dtype, and given to both, the
reference computing in float64.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from numnet.layer_table import ROWS, cast_args, compare_with_reference, row_rng

CHECKED = [
    pytest.param(case, dtype, id=f"{case.id}-{dtype}")
    for case in ROWS
    if not case.is_reference
    for dtype in case.dtypes
]


@pytest.mark.parametrize("trial", range(3))
@pytest.mark.parametrize(("case", "dtype"), CHECKED)
def test_matches_the_reference(case, dtype, trial):
    errors = compare_with_reference(case, row_rng(case, 200 + trial), dtype)
    assert {"forward", *(f"grad {p}" for p in case.grad_args)} <= set(errors)
    tol = case.match_tol[dtype]
    bad = {what: error for what, error in errors.items() if not error <= tol}
    assert not bad, f"{case.id} in {dtype}: scaled errors above {tol:g}: {bad}"


@pytest.mark.parametrize("case", [c for c in ROWS if not c.is_reference], ids=lambda c: c.id)
def test_leaves_its_inputs_alone(case):
    """A kernel may write into its own buffers, never into the arrays it was handed."""
    args = case.make_args(row_rng(case, 300))
    kept = copy.deepcopy(args)
    out, cache = case.forward(*args)
    for index, (a, k) in enumerate(zip(args, kept, strict=True)):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, k, err_msg=f"{case.id}: forward changed args[{index}]")
    if case.kind == "loss":
        return
    dout = np.random.default_rng(0).standard_normal(np.shape(out))
    dout_kept = dout.copy()
    case.backward(dout, cache)
    np.testing.assert_array_equal(dout, dout_kept, err_msg=f"{case.id}: backward changed dout")


def test_a_wrong_kernel_is_caught():
    """The comparison is not vacuous: a backward off by a little in one gradient fails it."""
    case = next(c for c in ROWS if c.kernel == "conv2d.im2col")

    def off_backward(dout, cache):
        dx, dw, db = case.backward(dout, cache)
        return dx, dw * (1 + 1e-6), db

    wrong = type(case)(**{**case.__dict__, "backward": off_backward})
    errors = compare_with_reference(wrong, row_rng(case, 0), "float64")
    assert errors["grad 0"] <= case.match_tol["float64"]
    assert errors["grad 1"] > case.match_tol["float64"]


def test_float32_inputs_are_rounded_once_for_both():
    args = (np.array([0.1, 1 / 3]), {"running_mean": np.array([0.7])}, 3)
    single = cast_args(args, np.float32)
    assert single[0].dtype == np.float32 and single[1]["running_mean"].dtype == np.float32
    assert single[2] == 3 and single[1] is not args[1]
    back = cast_args(single, np.float64)
    np.testing.assert_array_equal(back[0], single[0].astype(np.float64))
