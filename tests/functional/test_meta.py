"""The layer table covers what it must: every public layer function and every registered kernel."""

from __future__ import annotations

import numnet.layers
from numnet.kernels.registry import KERNELS
from numnet.layer_table import KERNEL_DTYPES, KERNEL_INPUTS, KERNEL_ROWS, REFERENCE_ROWS, ROWS


def _public_functions() -> dict[str, object]:
    return {
        name: getattr(numnet.layers, name)
        for name in numnet.layers.__all__
        if callable(getattr(numnet.layers, name))
    }


def test_every_public_forward_backward_and_loss_has_a_row():
    covered = {id(f) for case in ROWS for f in (case.forward, case.backward) if f is not None}
    missing = sorted(name for name, fn in _public_functions().items() if id(fn) not in covered)
    assert not missing, f"numnet.layers functions with no row in numnet.layer_table: {missing}"


def test_every_registered_kernel_has_rows_in_float32_and_float64():
    assert KERNELS, "numnet.kernels.catalog registered no kernel"
    dtypes = {name: set() for name in KERNELS}
    for case in KERNEL_ROWS:
        dtypes[case.kernel] |= set(case.dtypes)
    missing = sorted(name for name, seen in dtypes.items() if not seen)
    assert not missing, f"registered kernels with no row (add inputs to KERNEL_INPUTS): {missing}"
    short = {name: seen for name, seen in dtypes.items() if not {"float32", "float64"} <= seen}
    assert not short, f"kernels not checked in both float32 and float64: {short}"
    assert {"float32", "float64"} <= set(KERNEL_DTYPES)


def test_kernel_rows_hold_the_kernel_against_the_reference_it_names():
    for case in KERNEL_ROWS:
        kernel = KERNELS[case.kernel]
        assert (case.forward, case.backward) == (kernel.forward, kernel.backward), case.id
        reference = (
            getattr(numnet.layers, f"{kernel.reference}_forward"),
            getattr(numnet.layers, f"{kernel.reference}_backward"),
        )
        assert (case.reference_forward, case.reference_backward) == reference, case.id
        assert case.layer == kernel.reference and not case.is_reference, case.id


def test_kernel_inputs_name_only_registered_kernels():
    stale = sorted(set(KERNEL_INPUTS) - set(KERNELS))
    assert not stale, f"KERNEL_INPUTS names kernels that are not registered: {stale}"


def test_reference_rows_check_the_public_pairs():
    for case in REFERENCE_ROWS:
        if case.kind == "loss":
            assert case.forward is getattr(numnet.layers, case.layer), case.id
            continue
        assert case.reference_forward is getattr(numnet.layers, f"{case.layer}_forward"), case.id
        assert case.reference_backward is getattr(numnet.layers, f"{case.layer}_backward"), case.id


def test_case_ids_are_unique_and_kinds_valid():
    ids = [case.id for case in ROWS]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len({case.name for case in ROWS}) == len(ROWS), "duplicate names"
    for case in ROWS:
        assert case.kind in ("layer", "loss"), case.id
        assert (case.backward is None) == (case.kind == "loss"), case.id
        assert case.grad_args, case.id
        assert set(case.dtypes) <= set(case.match_tol), case.id


def test_rows_draw_different_shapes_per_seed():
    from numnet.layer_table import row_rng

    for case in ROWS:
        shapes = {
            tuple(a.shape for a in case.make_args(row_rng(case, seed)) if hasattr(a, "shape"))
            for seed in range(8)
        }
        assert len(shapes) > 1, f"{case.id} draws the same shapes for every seed"
