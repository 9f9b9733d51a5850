"""Callbacks see the training loop only through the Trainer protocol, never numnet.solver."""

import ast
import subprocess
import sys
from pathlib import Path

import numnet.callbacks
from numnet.callbacks.trainer import Trainer

PACKAGE = Path(numnet.callbacks.__file__).parent


def _trees():
    for path in sorted(PACKAGE.glob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_no_callback_module_imports_the_solver_even_for_type_checking():
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(n == "numnet.solver" or n.startswith("numnet.solver.") for n in names), (
                f"{path.name} imports {names}"
            )
            if isinstance(node, ast.ImportFrom) and node.module == "numnet":
                assert "solver" not in [a.name for a in node.names], path.name


def test_importing_the_callbacks_does_not_load_the_solver():
    code = "import sys, numnet.callbacks; print('numnet.solver' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _protocol_members():
    members = set(Trainer.__annotations__)
    members |= {name for name in vars(Trainer) if not name.startswith("_")}
    return members


def test_protocol_names_exactly_what_the_callbacks_use():
    """Every ``solver.X`` a callback touches is declared, and every declared member is used."""
    used = set()
    for path, tree in _trees():
        if path.name == "trainer.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "solver":
                    used.add(node.attr)
    assert used == _protocol_members()


def test_the_solver_satisfies_the_protocol():
    from numnet.solver import Solver
    from tests.callbacks.helpers import blobs, small_net

    solver = Solver(small_net(), blobs(), num_epochs=0, verbose=False)
    for name in _protocol_members():
        assert hasattr(solver, name), name
