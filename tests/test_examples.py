"""Every script in examples/ runs as a script, in small-data mode, and writes its figures.

The examples assert their own key numbers (gradient-check errors, the derivative filter's
response on a ramp, accuracy floors), so a zero exit status means those numbers held. Each runs
in a subprocess, as a reader would run it, with ``NUMNET_EXAMPLES_SMALL=1`` and its figures and
files sent into a temporary folder, so nothing in the checkout is written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# name -> figures it must write; the slow ones train a network.
EXPECTED_FIGURES = {
    "layers_and_gradient_check": ["gradient_check_bugs"],
    "convolution_as_filtering": ["derivative_filter_ramp", "convolution_filters_photo"],
    "conv_gradient": ["conv_gradient"],
    "max_pool_backward": ["max_pool_routing"],
    "vanishing_gradients": ["activation_derivatives", "vanishing_gradients"],
    "kaggle_digits": ["kaggle_digits"],
    "what_a_cnn_learns": ["cnn_filters", "cnn_misclassified", "cnn_confusion_matrix"],
}
SLOW = {"kaggle_digits", "what_a_cnn_learns"}
# Generous: the examples need seconds of CPU, but CI machines are shared.
TIME_LIMIT_S = 300


def _params():
    return [
        pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else [], id=name)
        for name in EXPECTED_FIGURES
    ]


def test_every_example_is_listed():
    """A new example must be added to EXPECTED_FIGURES, so that CI runs it."""
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(EXPECTED_FIGURES)


@pytest.mark.parametrize("name", list(EXPECTED_FIGURES))
def test_example_is_a_percent_script_with_prose(name):
    """Readable in git and openable with jupytext: code cells and markdown prose cells."""
    text = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n# # "), "start with a markdown cell holding a title"
    assert text.count("# %% [markdown]") >= 3, "explain the steps in markdown cells"
    assert text.count("\n# %%\n") >= 3
    assert "assert " in text, "an example asserts its key numbers"


@pytest.mark.parametrize("name", _params())
def test_example_runs_in_small_mode(name, tmp_path):
    pytest.importorskip("matplotlib")  # the plot extra; CI installs it
    if name == "convolution_as_filtering":
        pytest.importorskip("sklearn")  # its sample photograph; the test extra installs it
    figures = tmp_path / "figures"
    env = dict(os.environ)
    env.update(
        NUMNET_EXAMPLES_SMALL="1",
        NUMNET_EXAMPLES_FIGURES=str(figures),
        NUMNET_EXAMPLES_OUTPUT=str(tmp_path / "output"),
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
    )
    assert result.returncode == 0, (
        f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    for figure in EXPECTED_FIGURES[name]:
        path = figures / f"{figure}.png"
        assert path.is_file(), f"{name} did not write {path.name}"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
