"""The top-level package: lazy exports, save/load round trip, core import stays light."""

import subprocess
import sys

import numpy as np
import pytest

import numnet
from numnet.errors import ModelFileError
from numnet.models import FullyConnectedNet


def test_save_load_round_trip(tmp_path):
    model = FullyConnectedNet([7], input_dim=5, num_classes=3, normalization="batchnorm", seed=1)
    path = tmp_path / "m.npz"
    numnet.save(path, model, {"class_names": ["a", "b", "c"]})
    loaded = numnet.load(path)
    assert loaded.metadata == {"class_names": ["a", "b", "c"]}
    assert list(loaded.params) == list(model.params)
    for name in model.params:
        np.testing.assert_array_equal(loaded.params[name], model.params[name])
    X = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(loaded.loss(X), model.loss(X))


def test_load_missing_file_is_a_model_file_error(tmp_path):
    with pytest.raises(ModelFileError):
        numnet.load(tmp_path / "nope.npz")


def test_lazy_attributes():
    assert numnet.Solver.__name__ == "Solver"
    assert callable(numnet.optim.sgd)
    with pytest.raises(AttributeError):
        numnet.no_such_thing  # noqa: B018


def test_import_numnet_does_not_import_optional_dependencies():
    code = (
        "import sys, numnet, numnet.layers, numnet.models, numnet.solver, numnet.cli;"
        "bad = [m for m in ('torch', 'matplotlib', 'sklearn', 'scipy') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
