"""A model file of the CS231n-named classes whose config was edited to ask for more weights than
the file stores is refused before anything is built (within a small memory budget)."""

from __future__ import annotations

from pathlib import Path

import pytest

from numnet.models import ThreeLayerConvNet, TwoLayerNet
from numnet.serialization import save_model
from tests.reliability.limits import run_limited
from tests.reliability.test_file_values import edit_meta, needs_limits

# Every edited number stays below the count of values the file stores (so no single size gives
# the forgery away); only the exact count of the weights they ask for does.
EDITS = {
    "TwoLayerNet": {"sizes": {"input_dim": 300_000, "hidden_dim": 300_000}},
    "ThreeLayerConvNet": {"sizes": {"input_dim": [1, 100_000, 100_000]}},
}


def _model(name: str):
    if name == "TwoLayerNet":  # 301,110 stored values
        return TwoLayerNet(input_dim=3000, hidden_dim=100, num_classes=10)
    # 131,072 + 72 + 640 + 8 + 64 + 10 stored values
    return ThreeLayerConvNet(input_dim=(1, 32, 32), num_filters=8, filter_size=3, hidden_dim=64)


@needs_limits
@pytest.mark.parametrize(
    ("name", "field"), [(name, field) for name, edits in EDITS.items() for field in edits]
)
def test_an_edited_size_is_refused_before_the_model_is_built(tmp_path: Path, name, field):
    source = tmp_path / "model.npz"
    save_model(source, _model(name))
    value = EDITS[name][field]
    forged = edit_meta(source, tmp_path / "forged.npz", lambda m: m["model_config"].update(value))
    result = run_limited(f"numnet.serialization.load_model({str(forged)!r})")
    assert result.startswith("REFUSED ModelFileError"), result
    assert "forged.npz" in result and "parameter values" in result, result


@needs_limits
def test_an_honest_file_still_loads(tmp_path: Path):
    for name in EDITS:
        path = tmp_path / f"{name}.npz"
        save_model(path, _model(name))
        assert run_limited(f"numnet.serialization.load_model({str(path)!r})") == "ACCEPTED"
