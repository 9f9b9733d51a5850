"""The derivations page is generated from the backward docstrings and must be current."""

import importlib.util
from pathlib import Path

import numnet.layers as layers

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_derivations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_derivations_page_is_current():
    gen = _generator()
    assert (ROOT / "docs" / "derivations.md").read_text(encoding="utf-8") == gen.render(), (
        "docs/derivations.md is stale: run python scripts/gen_derivations.py"
    )


def test_every_backward_carries_a_derivation():
    gen = _generator()
    for name in layers.__all__:
        if name.endswith("_backward") or name.endswith("_loss"):
            notes = gen._notes(getattr(layers, name).__doc__ or "")
            assert len(notes) > 40, f"{name} has no derivation in its Notes section"
