"""Security: no code path in numnet loads pickle, and crafted pickle payloads are refused.

Two kinds of proof:

1. Static: every ``.py`` under ``numnet/`` is parsed with :mod:`ast`; every ``np.load`` /
   ``numpy.load`` call must pass ``allow_pickle=False`` literally, no ``np.save``/``savez`` call may
   pass ``allow_pickle=True``, and nothing imports ``pickle``, ``cPickle``, ``_pickle``, ``dill``,
   ``joblib``, ``marshal`` or ``shelve`` or calls ``eval``/``exec``.
2. Dynamic: files whose pickle payload would create a marker file when unpickled (checked to be
   live by unpickling one on purpose) are given to every loader of the Python API and the CLI;
   each must raise numnet's own error and the marker must never appear.
"""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

import numnet
from numnet.cli import main as cli_main
from numnet.data import load_dataset, read_idx, read_kaggle_csv
from numnet.errors import DataError, ModelFileError, NumnetError
from numnet.serialization import META_KEY, load_checkpoint, load_model, read_header
from tests.reliability import helpers

PACKAGE_DIR = Path(numnet.__file__).resolve().parent
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "marshal", "shelve"}
FORBIDDEN_CALLS = {"eval", "exec"}
NUMPY_NAMES = {"np", "numpy"}


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def _numpy_function(call: ast.Call, load_aliases: set[str]) -> str | None:
    """``"load"``/``"save"``/... when ``call`` is ``np.<name>(...)`` or a bare alias of np.load."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id in NUMPY_NAMES:
            return func.attr
    if isinstance(func, ast.Name) and func.id in load_aliases:
        return "load"
    return None


def pickle_violations(source: str, filename: str) -> list[str]:
    """Every place in ``source`` that could load (or write) pickle, as ``file:line: reason``."""
    tree = ast.parse(source, filename)
    load_aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "numpy"
        for alias in node.names
        if alias.name == "load"
    }
    found = []
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where}: imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{where}: imports from {node.module}")
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
                found.append(f"{where}: calls {node.func.id}()")
            if isinstance(node.func, ast.Name) and node.func.id == "__import__":
                found.append(f"{where}: calls __import__()")
            name = _numpy_function(node, load_aliases)
            flag = _keyword(node, "allow_pickle")
            if name == "load" and (flag is None or not _is_false(flag.value)):
                found.append(f"{where}: np.load without allow_pickle=False")
            if name in ("save", "savez", "savez_compressed") and flag is not None:
                if not _is_false(flag.value):
                    found.append(f"{where}: np.{name} with allow_pickle not False")
    return found


def _package_sources() -> list[Path]:
    files = sorted(PACKAGE_DIR.rglob("*.py"))
    assert len(files) > 30, f"expected numnet's sources under {PACKAGE_DIR}, found {len(files)}"
    return files


def test_scanner_detects_every_forbidden_pattern() -> None:
    bad = """
import pickle
import numpy as np
from numpy import load as npload
from joblib import dump
np.load("a.npz")
np.load("a.npz", allow_pickle=True)
npload("b.npy")
np.save("c.npy", x, allow_pickle=True)
eval("1")
exec("x = 1")
"""
    found = pickle_violations(bad, "bad.py")
    assert len(found) == 8, found
    good = 'import numpy as np\nnp.load("a.npz", allow_pickle=False)\nnp.savez("b.npz", a=x)\n'
    assert pickle_violations(good, "good.py") == []


# CIFAR-10's Python distribution is pickled dicts, so one module must read pickle: it may import
# the module for its restricted Unpickler subclass, and nothing else (tests/data/test_cifar.py feeds
# that unpickler hostile payloads). Any other use of pickle there is still a violation.
RESTRICTED_UNPICKLER = "data/cifar.py"


def _restricted_unpickler_only(source: str) -> bool:
    """Whether ``source`` uses pickle only through an Unpickler subclass overriding find_class."""
    tree = ast.parse(source)
    subclasses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base) == "pickle.Unpickler" for base in node.bases)
    ]
    overrides = any(
        isinstance(item, ast.FunctionDef) and item.name == "find_class"
        for cls in subclasses
        for item in cls.body
    )
    loads = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "pickle"
        and node.attr not in ("Unpickler", "UnpicklingError")
    ]
    return len(subclasses) == 1 and overrides and not loads


def test_no_numnet_source_can_load_pickle() -> None:
    found = []
    for path in _package_sources():
        name = str(path.relative_to(PACKAGE_DIR))
        source = path.read_text(encoding="utf-8")
        violations = pickle_violations(source, name)
        if name == RESTRICTED_UNPICKLER:
            message = f"{name} must use pickle only through its restricted Unpickler"
            assert _restricted_unpickler_only(source), message
            violations = [v for v in violations if not v.endswith(": imports pickle")]
        found += violations
    assert found == [], "\n".join(found)


def test_the_restricted_unpickler_rule_catches_a_plain_load() -> None:
    plain = "import pickle\nclass U(pickle.Unpickler):\n    def find_class(self, m, n): ...\n"
    assert _restricted_unpickler_only(plain)
    assert not _restricted_unpickler_only(plain + "x = pickle.loads(b'')\n")
    assert not _restricted_unpickler_only("import pickle\nclass U(pickle.Unpickler):\n    pass\n")


def test_metadata_is_parsed_as_json_only() -> None:
    source = (PACKAGE_DIR / "serialization.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    called = {
        f"{node.func.value.id}.{node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    }
    assert "json.loads" in called
    for unsafe in ("ast.literal_eval", "yaml.load", "yaml.unsafe_load", "pickle.loads"):
        assert unsafe not in called


def test_metadata_that_is_python_but_not_json_is_refused(tmp_path: Path) -> None:
    valid = helpers.write_model(tmp_path / "model.npz")
    with np.load(valid, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(arrays[META_KEY].tobytes().decode("utf-8"))
    python_literal = repr(meta).encode("utf-8")  # single quotes, True/None: not JSON
    arrays[META_KEY] = np.frombuffer(python_literal, dtype=np.uint8)
    crafted = tmp_path / "python_meta.npz"
    np.savez(crafted, **arrays)
    with pytest.raises(ModelFileError, match="JSON"):
        load_model(crafted)


# ---------------------------------------------------------------------------------------------
# crafted pickle payloads
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def evil(tmp_path: Path) -> tuple[dict[str, Path], Path]:
    marker = tmp_path / "PWNED"
    valid = helpers.write_model(tmp_path / "valid.npz")
    files = helpers.malicious_files(tmp_path, valid, marker)
    return files, marker


def test_payload_is_live_when_pickle_is_allowed(tmp_path: Path) -> None:
    """The crafted files really would run code if loaded with pickle (so the refusals mean it)."""
    marker = tmp_path / "PWNED"
    files = helpers.malicious_files(tmp_path, helpers.write_model(tmp_path / "v.npz"), marker)
    with np.load(files["param"], allow_pickle=True) as archive:
        archive["params/W1"]
    assert marker.exists()
    marker.unlink()
    pickle.loads(files["raw"].read_bytes()).close()
    assert marker.exists()


API_LOADERS = {
    "load_model": load_model,
    "load_checkpoint": load_checkpoint,
    "read_header": read_header,
}


@pytest.mark.parametrize("kind", ["param", "meta", "raw", "npy"])
@pytest.mark.parametrize("loader", sorted(API_LOADERS))
def test_model_loaders_refuse_pickle(evil, kind: str, loader: str) -> None:
    files, marker = evil
    with pytest.raises(ModelFileError) as info:
        API_LOADERS[loader](files[kind])
    assert "\n" not in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["param", "meta", "raw", "npy"])
def test_data_readers_refuse_pickle(evil, tmp_path: Path, kind: str) -> None:
    files, marker = evil
    with pytest.raises(DataError):
        read_idx(files[kind])
    with pytest.raises(DataError):
        read_kaggle_csv(files[kind])
    renamed = tmp_path / "train.csv"
    renamed.write_bytes(files[kind].read_bytes())
    with pytest.raises(NumnetError):
        load_dataset(renamed)
    assert not marker.exists()


def _assert_cli_refuses(argv: list[str], capsys: pytest.CaptureFixture[str], marker: Path) -> str:
    code = cli_main(argv)
    err = capsys.readouterr().err
    assert code == 1, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numnet: error:"), err
    assert "Traceback" not in err
    assert not marker.exists()
    return lines[0]


@pytest.mark.parametrize("kind", ["param", "meta", "raw", "npy"])
def test_cli_predict_and_evaluate_refuse_pickle(evil, tmp_path: Path, capsys, kind: str) -> None:
    files, marker = evil
    test_csv = helpers.write_test_csv(tmp_path / "test.csv")
    train_csv = helpers.write_train_csv(tmp_path / "train.csv")
    out = tmp_path / "submission.csv"
    _assert_cli_refuses(
        ["predict", str(files[kind]), "--input", str(test_csv), "--output", str(out)],
        capsys,
        marker,
    )
    assert not out.exists()
    _assert_cli_refuses(
        ["evaluate", str(files[kind]), "--data", str(train_csv), "--out-dir", str(tmp_path / "ev")],
        capsys,
        marker,
    )


@pytest.mark.parametrize("kind", ["param", "meta", "raw"])
def test_cli_resume_refuses_pickled_checkpoint(evil, tmp_path: Path, capsys, kind: str) -> None:
    files, marker = evil
    train_csv = helpers.write_train_csv(tmp_path / "train.csv")
    run = tmp_path / "run"
    assert helpers.train_run(run, train_csv) == 0
    capsys.readouterr()
    (run / "last.npz").write_bytes(files[kind].read_bytes())
    before = helpers.snapshot(run)
    _assert_cli_refuses(["train", "--resume", str(run), "--epochs", "2", "--quiet"], capsys, marker)
    assert helpers.snapshot(run) == before
