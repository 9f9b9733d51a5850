"""ruff lint and format, and the import layering of pyproject.toml, are part of the suite.

Each check is skipped where its tool is not installed (``pip install -e '.[test]'`` brings both).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    """The path of a console script: on PATH, or beside this Python (an unactivated venv)."""
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.skip(f"{name} not installed (pip install -e '.[test]')")
    return path


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff_is_clean(args):
    result = subprocess.run([_tool("ruff"), *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_layers_hold():
    """``lint-imports`` keeps every contract of ``[tool.importlinter]`` in pyproject.toml."""
    result = subprocess.run(
        [_tool("lint-imports"), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout
