"""The README's Python examples run as written, and its commands name what the project has.

(That the first command reaches the accuracy the README states is tested in tests/cli.)
"""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip(), "the example prints its result"


# --- the shell commands name what the project has -----------------------------------------------

ROOT = README.parent
BASH = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_quick_start_has_the_two_commands():
    """Install + train on the embedded data, and install + test: one line each, fresh clone."""
    train, test = BASH[0].strip(), BASH[1].strip()
    assert train.startswith("python3 -m venv .venv && ") and train.endswith(
        " .venv/bin/numnet train"
    )
    assert test.startswith("python3 -m venv .venv && ")
    assert test.endswith(" .venv/bin/python -m pytest -q")
    assert "\n" not in train and "\n" not in test


def test_install_extras_and_scripts_exist():
    extras = PYPROJECT["project"]["optional-dependencies"]
    named = {
        e for group in re.findall(r"-e '\.\[([\w,]+)\]'", "\n".join(BASH)) for e in group.split(",")
    }
    assert named >= {"plot", "test"}
    assert named <= set(extras), (
        f"README installs extras pyproject.toml lacks: {named - set(extras)}"
    )
    scripts = set(PYPROJECT["project"]["scripts"])
    for tool in re.findall(r"\.venv/bin/([\w-]+)", "\n".join(BASH)):
        assert tool in {"pip", "python"} | scripts, f"README runs .venv/bin/{tool}, not installed"


def test_python_modules_the_commands_run_exist():
    for module in re.findall(r"python -m ([\w.]+)", README.read_text(encoding="utf-8")):
        assert importlib.util.find_spec(module) is not None, f"python -m {module}: no such module"
