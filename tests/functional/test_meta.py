"""The layer table covers numnet.layers: every public forward, loss and backward has a case."""

from __future__ import annotations

import numnet.layers
from tests.functional.cases import CASES


def _public(suffix: str) -> dict[str, object]:
    return {
        name: getattr(numnet.layers, name)
        for name in numnet.layers.__all__
        if name.endswith(suffix)
    }


def test_every_public_forward_and_loss_has_a_case():
    covered = {id(case.forward) for case in CASES}
    public = {**_public("_forward"), **_public("_loss")}
    missing = sorted(name for name, fn in public.items() if id(fn) not in covered)
    assert not missing, (
        f"numnet.layers functions with no case in tests/functional/cases_*.py: {missing}"
    )


def test_every_public_backward_has_a_case():
    covered = {id(case.backward) for case in CASES if case.backward is not None}
    missing = sorted(name for name, fn in _public("_backward").items() if id(fn) not in covered)
    assert not missing, f"numnet.layers backwards with no case: {missing}"


def test_case_ids_are_unique_and_kinds_valid():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    for case in CASES:
        assert case.kind in ("layer", "loss"), case.id
        assert (case.backward is None) == (case.kind == "loss"), case.id
        assert case.grad_args, case.id
