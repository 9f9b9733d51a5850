"""``numnet gradcheck``: table of every layer, exit 1 on failure."""

from __future__ import annotations

from numnet.cli import main

from .conftest import last_error_line


def test_gradcheck_passes_and_prints_a_table(capsys):
    assert main(["gradcheck"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["layer", "max", "rel", "error", "tolerance", "ok"]
    names = [line.split()[0] for line in lines[2:-1]]
    assert {"affine", "conv", "batchnorm", "softmax_loss"} <= set(names)
    assert all(line.split()[-1] == "ok" for line in lines[2:-1])
    assert lines[-1] == f"all {len(names)} layers passed"


def test_gradcheck_fails_with_an_impossible_tolerance(capsys):
    assert main(["gradcheck", "--tol", "1e-300"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "layers FAILED" in out


def test_gradcheck_rejects_a_bad_tolerance(capsys):
    assert main(["gradcheck", "--tol", "-1"]) == 2
    assert "--tol" in last_error_line(capsys.readouterr().err)
