"""Bad input through the CLI and the Python API: one-line errors, exit codes, files untouched.

Each row of :data:`CASES` builds a bad input in a fresh tmp directory and runs it through
``numnet.cli.main``: the exit code must be the documented one (2 for usage/config errors, 1 for
data and model-file errors), stderr exactly one line ``numnet: error: ...`` (no traceback) that
matches the case's pattern, and every file that existed before must be byte-identical afterwards
(a failed ``train`` leaves no run directory behind either). Where a Python API does the same job,
the case also calls it and expects numnet's error class.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from numnet.cli import main as cli_main
from numnet.cli.config import load_toml
from numnet.data import load_dataset, read_idx, read_kaggle_csv
from numnet.errors import ConfigError, DataError, ModelFileError, NumnetError
from numnet.models import ConvNet, FullyConnectedNet
from numnet.optim import SGD, Adam
from numnet.serialization import load_checkpoint, load_model
from numnet.solver import Solver
from tests.reliability import helpers
from tests.reliability.world import World, idx_header, make_world

USAGE, FAILURE = 2, 1


def train(w: World, data: Path | str, *extra: str) -> list[str]:
    """``numnet train`` on ``data`` with a tiny fast model, writing into ``w.out``."""
    return [
        "train", "--data", str(data), "--hidden-dims", "8", "--epochs", "1",
        "--batch-size", "16", "--out-dir", str(w.out), "--quiet", *extra,
    ]  # fmt: skip


def predict(w: World, model: Path, images: Path, *extra: str) -> list[str]:
    out = w.root / "submission.csv"
    return ["predict", str(model), "--input", str(images), "--output", str(out), *extra]


def evaluate(w: World, model: Path, data: Path) -> list[str]:
    return ["evaluate", str(model), "--data", str(data), "--out-dir", str(w.root / "eval")]


@dataclass
class Case:
    """One bad input: ``setup(w)`` returns the CLI arguments; ``api(w)`` (optional) must raise."""

    id: str
    setup: Callable[[World], list[str]]
    code: int
    match: str
    api: Callable[[World], object] | None = None
    api_error: type[Exception] = NumnetError


def _truncated_gz(w: World) -> Path:
    directory = w.idx_dir("idx_truncated")
    images = w.idx_images(directory)
    images.write_bytes(images.read_bytes()[: len(images.read_bytes()) // 2])
    return directory


def _bad_magic(w: World) -> Path:
    directory = w.idx_dir("idx_magic")
    w.rewrite_gz(w.idx_images(directory), lambda raw: idx_header(0x0805, 20, 4, 4) + raw[16:])
    return directory


def _dims_vs_size(w: World) -> Path:
    directory = w.idx_dir("idx_dims")
    w.rewrite_gz(w.idx_images(directory), lambda raw: idx_header(0x0803, 25, 4, 4) + raw[16:])
    return directory


def _count_mismatch(w: World) -> Path:
    directory = w.root / "idx_count"
    directory.mkdir()
    helpers.write_idx_pair(directory, "train", count=20, labels=19)
    helpers.write_idx_pair(directory, "t10k", count=10)
    return directory


def _label_row(label: str) -> str:
    return label + "," + ",".join(["0"] * helpers.NUM_PIXELS)


def _pixel_row(value: str) -> str:
    return "1," + ",".join([value] + ["0"] * (helpers.NUM_PIXELS - 1))


def _wrong_input_size_csv(w: World) -> Path:
    return helpers.write_test_csv(w.root / "wide.csv", num_pixels=25)


def _resume_with(w: World, last: bytes | None) -> Path:
    run = w.run_copy()
    if last is not None:
        (run / "last.npz").write_bytes(last)
    return run


def _toml(w: World, text: str) -> Path:
    return w.file("config.toml", text)


def _blocker(w: World) -> Path:
    """A regular file: a directory below it can never be created."""
    return w.file("blocker", "not a directory")


CASES = [
    # ---- data files ---------------------------------------------------------------------------
    Case("missing-data-path", lambda w: train(w, w.root / "nope.csv"), FAILURE, r"nope\.csv",
         api=lambda w: load_dataset(w.root / "nope.csv"), api_error=DataError),
    Case("dir-without-dataset", lambda w: train(w, w.file("empty/.keep", "").parent), FAILURE,
         r"no dataset found", api=lambda w: load_dataset(w.root / "empty"), api_error=DataError),
    Case("empty-csv", lambda w: train(w, w.file("empty.csv", b"")), FAILURE, r"empty",
         api=lambda w: read_kaggle_csv(w.root / "empty.csv"), api_error=DataError),
    Case("truncated-gz", lambda w: train(w, _truncated_gz(w)), FAILURE, r"truncated|corrupt",
         api=lambda w: read_idx(w.idx_images(w.root / "idx_truncated")), api_error=DataError),
    Case("wrong-idx-magic", lambda w: train(w, _bad_magic(w)), FAILURE, r"magic|type",
         api=lambda w: read_idx(w.idx_images(w.root / "idx_magic")), api_error=DataError),
    Case("idx-dims-vs-size", lambda w: train(w, _dims_vs_size(w)), FAILURE, r"truncated|dims",
         api=lambda w: read_idx(w.idx_images(w.root / "idx_dims")), api_error=DataError),
    Case("images-labels-count", lambda w: train(w, _count_mismatch(w)), FAILURE, r"20.*19|19.*20",
         api=lambda w: load_dataset(w.root / "idx_count"), api_error=DataError),
    Case("csv-wrong-header",
         lambda w: train(w, w.file("h.csv", w.train_csv.read_text().replace("label,", "lbl,", 1))),
         FAILURE, r"header", api=lambda w: read_kaggle_csv(w.root / "h.csv"), api_error=DataError),
    Case("csv-missing-header",
         lambda w: train(w, w.file("nh.csv", w.train_csv.read_text().split("\n", 1)[1])),
         FAILURE, r"header", api=lambda w: read_kaggle_csv(w.root / "nh.csv"), api_error=DataError),
    Case("csv-column-count", lambda w: train(w, w.train_csv_with("1,0,0,0")), FAILURE,
         r"line 3.*columns", api=lambda w: read_kaggle_csv(w.root / "bad.csv"),
         api_error=DataError),
    Case("csv-non-numeric", lambda w: train(w, w.train_csv_with(_pixel_row("abc"))), FAILURE,
         r"non-numeric", api=lambda w: read_kaggle_csv(w.root / "bad.csv"), api_error=DataError),
    Case("csv-empty-cell", lambda w: train(w, w.train_csv_with(_pixel_row(""))), FAILURE,
         r"empty cell", api=lambda w: read_kaggle_csv(w.root / "bad.csv"), api_error=DataError),
    Case("csv-pixel-above-255", lambda w: train(w, w.train_csv_with(_pixel_row("256"))), FAILURE,
         r"256", api=lambda w: read_kaggle_csv(w.root / "bad.csv"), api_error=DataError),
    Case("csv-pixel-negative", lambda w: train(w, w.train_csv_with(_pixel_row("-1"))), FAILURE,
         r"-1", api=lambda w: read_kaggle_csv(w.root / "bad.csv"), api_error=DataError),
    Case("csv-label-negative", lambda w: train(w, w.train_csv_with(_label_row("-2"))), FAILURE,
         r"label", api=lambda w: read_kaggle_csv(w.root / "bad.csv"), api_error=DataError),
    Case("csv-label-fractional", lambda w: train(w, w.train_csv_with(_label_row("1.5"))), FAILURE,
         r"label", api=lambda w: read_kaggle_csv(w.root / "bad.csv"), api_error=DataError),
    Case("csv-label-beyond-classes",
         lambda w: evaluate(w, w.model, w.train_csv_with(_label_row("12"))), FAILURE, r"12",
         api=lambda w: read_kaggle_csv(w.root / "bad.csv", num_classes=3), api_error=DataError),
    Case("test-csv-for-training", lambda w: train(w, w.test_csv), FAILURE, r"train\.csv",
         api=lambda w: read_kaggle_csv(w.test_csv, require_labels=True), api_error=DataError),
    Case("evaluate-unlabelled-csv", lambda w: evaluate(w, w.model, w.test_csv), FAILURE,
         r"label"),
    # ---- model and checkpoint files -----------------------------------------------------------
    Case("model-missing", lambda w: predict(w, w.root / "nope.npz", w.test_csv), FAILURE,
         r"nope\.npz.*does not exist", api=lambda w: load_model(w.root / "nope.npz"),
         api_error=ModelFileError),
    Case("model-truncated",
         lambda w: predict(w, w.file("cut.npz", w.model.read_bytes()[:-200]), w.test_csv),
         FAILURE, r"truncated|corrupt", api=lambda w: load_model(w.root / "cut.npz"),
         api_error=ModelFileError),
    Case("model-not-numnet-npz",
         lambda w: evaluate(w, w.file("plain.npz", _plain_npz()), w.train_csv), FAILURE,
         r"not a numnet file", api=lambda w: load_model(w.root / "plain.npz"),
         api_error=ModelFileError),
    Case("model-is-text", lambda w: predict(w, w.file("m.npz", "hello"), w.test_csv), FAILURE,
         r"not an \.npz", api=lambda w: load_model(w.root / "m.npz"), api_error=ModelFileError),
    Case("model-input-size-predict",
         lambda w: predict(w, w.model, _wrong_input_size_csv(w)), FAILURE, r"25.*16|16.*25",
         api=lambda w: load_model(w.model)[0].predict(np.zeros((2, 25), np.float32)),
         api_error=ValueError),
    Case("model-input-size-evaluate",
         lambda w: evaluate(w, w.model, _wide_train_csv(w)), FAILURE, r"25.*16|16.*25"),
    Case("resume-changed-config",
         lambda w: ["train", "--resume", str(w.run_copy()), "--hidden-dims", "64", "--quiet"],
         USAGE, r"--hidden-dims"),
    Case("resume-model-not-checkpoint",
         lambda w: ["train", "--resume", str(_resume_with(w, w.model.read_bytes())), "--quiet",
                    "--epochs", "3"],
         FAILURE, r"checkpoint|train settings", api=lambda w: load_checkpoint(w.model),
         api_error=ModelFileError),
    Case("resume-truncated-checkpoint",
         lambda w: ["train", "--resume",
                    str(_resume_with(w, (w.run / "last.npz").read_bytes()[:500])), "--quiet",
                    "--epochs", "3"],
         FAILURE, r"truncated|corrupt"),
    Case("resume-missing-dir", lambda w: ["train", "--resume", str(w.root / "norun")], USAGE,
         r"norun"),
    # ---- arguments and config -----------------------------------------------------------------
    Case("lr-zero", lambda w: train(w, w.train_csv, "--lr", "0"), USAGE, r"--lr",
         api=lambda w: Adam(0.0), api_error=ConfigError),
    Case("lr-negative", lambda w: train(w, w.train_csv, "--lr=-0.1"), USAGE, r"--lr",
         api=lambda w: SGD(-0.1), api_error=ConfigError),
    Case("lr-nan", lambda w: train(w, w.train_csv, "--lr", "nan"), USAGE, r"--lr",
         api=lambda w: Adam(float("nan")), api_error=ConfigError),
    Case("batch-size-zero", lambda w: train(w, w.train_csv, "--batch-size", "0"), USAGE,
         r"--batch-size", api=lambda w: _solver(batch_size=0), api_error=ConfigError),
    Case("batch-size-not-int", lambda w: train(w, w.train_csv, "--batch-size", "x"), USAGE,
         r"--batch-size"),
    Case("epochs-zero", lambda w: train(w, w.train_csv, "--epochs", "0"), USAGE, r"--epochs"),
    Case("hidden-dims-empty", lambda w: [*train(w, w.train_csv), "--hidden-dims"], USAGE,
         r"--hidden-dims",
         api=lambda w: FullyConnectedNet([0], input_dim=16, num_classes=3),
         api_error=ConfigError),
    Case("hidden-dims-negative", lambda w: train(w, w.train_csv, "--hidden-dims=-5"), USAGE,
         r"--hidden-dims", api=lambda w: FullyConnectedNet([-5], input_dim=16, num_classes=3),
         api_error=ConfigError),
    Case("conv-output-empty",
         lambda w: train(w, w.train_csv, "--model", "cnn", "--conv-channels", "4", "4", "4"),
         FAILURE, r"conv",
         api=lambda w: ConvNet(input_dim=(1, 4, 4), conv_channels=(4, 4, 4), num_classes=3),
         api_error=ConfigError),
    Case("unknown-optimizer", lambda w: train(w, w.train_csv, "--optimizer", "adagrad"), USAGE,
         r"adagrad", api=lambda w: _solver(update_rule="adagrad",
                                          optim_config={"learning_rate": 1e-3}),
         api_error=ConfigError),
    Case("toml-missing", lambda w: train(w, w.train_csv, "--config", str(w.root / "no.toml")),
         USAGE, r"no\.toml", api=lambda w: load_toml(w.root / "no.toml"), api_error=ConfigError),
    Case("toml-invalid", lambda w: train(w, w.train_csv, "--config", str(_toml(w, "lr = = 1"))),
         USAGE, r"TOML", api=lambda w: load_toml(w.root / "config.toml"),
         api_error=ConfigError),
    Case("toml-unknown-key", lambda w: train(w, w.train_csv, "--config",
                                             str(_toml(w, "learning_rate = 0.1\n"))),
         USAGE, r"learning_rate", api=lambda w: load_toml(w.root / "config.toml"),
         api_error=ConfigError),
    Case("toml-wrong-type", lambda w: train(w, w.train_csv, "--config",
                                            str(_toml(w, 'lr = "fast"\n'))),
         USAGE, r"lr", api=lambda w: load_toml(w.root / "config.toml"), api_error=ConfigError),
    Case("toml-bad-value",
         lambda w: ["train", "--data", str(w.train_csv), "--out-dir", str(w.out), "--config",
                    str(_toml(w, "hidden_dims = []\nepochs = 1\n"))],
         USAGE, r"hidden"),
    Case("out-dir-not-writable",
         lambda w: ["train", "--data", str(w.train_csv), "--out-dir", str(_blocker(w) / "run"),
                    "--epochs", "1", "--quiet"],
         USAGE, r"blocker"),
    Case("out-dir-not-empty",
         lambda w: ["train", "--data", str(w.train_csv), "--out-dir", str(w.run), "--epochs",
                    "1", "--quiet"],
         USAGE, r"not empty"),
    Case("predict-output-exists", lambda w: ["predict", str(w.model), "--input", str(w.test_csv),
                                             "--output", str(w.existing_output)],
         USAGE, r"exists|--force"),
    Case("predict-batch-size-zero", lambda w: predict(w, w.model, w.test_csv, "--batch-size", "0"),
         USAGE, r"--batch-size"),
    Case("predict-output-dir-missing",
         lambda w: ["predict", str(w.model), "--input", str(w.test_csv), "--output",
                    str(w.root / "nodir" / "s.csv")],
         FAILURE, r"nodir"),
]  # fmt: skip


def _plain_npz() -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, W1=np.ones((2, 2)))
    return buffer.getvalue()


def _wide_train_csv(w: World) -> Path:
    rows = ["label," + helpers.pixel_header(25)] + ["1," + ",".join(["3"] * 25)] * 4
    return w.file("wide_train.csv", "\n".join(rows) + "\n")


def _solver(**kwargs: object) -> Solver:
    model = FullyConnectedNet([4], input_dim=16, num_classes=3, seed=0)
    X = np.zeros((6, 16), np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    return Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, **kwargs)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trained")
    csv = helpers.write_train_csv(root / "train.csv")
    code = helpers.train_run(root / "run", csv)
    assert code == 0, "the tiny reference training run failed"
    return root / "run"


@pytest.fixture
def world(tmp_path: Path, trained_run: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.chdir(tmp_path)  # a default runs/NNN would land here, never in the repo
    return make_world(tmp_path / "w", trained_run)


def assert_one_line_error(capsys: pytest.CaptureFixture[str], code: int, expected: int) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.strip().splitlines()
    assert code == expected, f"exit code {code}, expected {expected}; stderr: {captured.err}"
    assert len(lines) == 1, f"stderr must be one line, got {len(lines)}: {captured.err}"
    assert lines[0].startswith("numnet: error: "), captured.err
    return lines[0]


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_cli_bad_input(case: Case, world: World, capsys: pytest.CaptureFixture[str]) -> None:
    argv = case.setup(world)
    before = helpers.snapshot(world.root)
    code = cli_main(argv)
    line = assert_one_line_error(capsys, code, case.code)
    assert re.search(case.match, line), f"message does not name the problem: {line}"
    after = helpers.snapshot(world.root)
    changed = sorted(name for name in before if after.get(name) != before[name])
    assert changed == [], f"files changed or removed by a failed command: {changed}"
    assert not world.out.exists() or not any(world.out.iterdir()), "a failed train left files"
    assert not (world.root.parent / "runs").exists()


API_CASES = [case for case in CASES if case.api is not None]


@pytest.mark.parametrize("case", API_CASES, ids=[case.id for case in API_CASES])
def test_api_bad_input(case: Case, world: World, capsys: pytest.CaptureFixture[str]) -> None:
    case.setup(world)  # builds the same bad files
    with pytest.raises(case.api_error) as info:
        case.api(world)
    assert "\n" not in str(info.value)


def test_debug_shows_traceback(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["predict", str(world.root / "nope.npz"), "--input", str(world.test_csv),
                     "--debug"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == FAILURE
    assert "Traceback" in captured.err
    assert captured.err.strip().splitlines()[-1].startswith("numnet: error: ")


# ---- Python API: wrong shapes and dtypes name the shapes ---------------------------------------


def _fc() -> FullyConnectedNet:
    return FullyConnectedNet([5], input_dim=16, num_classes=3, seed=0)


def _cnn() -> ConvNet:
    return ConvNet(input_dim=(1, 8, 8), conv_channels=(4,), hidden_dims=(8,), num_classes=3, seed=0)


API_SHAPE_CASES = [
    ("fc-wrong-width", lambda: _fc().loss(np.zeros((2, 25), np.float32)), ValueError, r"25"),
    ("fc-string-dtype", lambda: _fc().loss(np.full((2, 16), "a")), TypeError, r"dtype"),
    ("fc-label-range", lambda: _fc().loss(np.zeros((2, 16), np.float32), np.array([0, 5])),
     ValueError, r"\[0, 2\]"),
    ("fc-label-count", lambda: _fc().loss(np.zeros((2, 16), np.float32), np.array([0, 1, 2])),
     ValueError, r"\(2,\)"),
    ("cnn-wrong-channels", lambda: _cnn().loss(np.zeros((2, 3, 8, 8), np.float32)), ValueError,
     r"\(2, 3, 8, 8\)"),
    ("cnn-predict-wrong-size", lambda: _cnn().predict(np.zeros((2, 1, 5, 5), np.float32)),
     ValueError, r"5"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make_call", "error", "match"),
    [case[1:] for case in API_SHAPE_CASES],
    ids=[case[0] for case in API_SHAPE_CASES],
)
def test_model_api_rejects_wrong_shapes_and_dtypes(make_call, error, match) -> None:
    with pytest.raises(error, match=match) as info:
        make_call()
    assert "\n" not in str(info.value)
