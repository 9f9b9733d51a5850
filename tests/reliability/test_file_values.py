"""The values inside files are untrusted too (issue 12, second round).

Each family of the issue has its tests here: sizes read from a file (labels, a model's config) are
bounded before anything is allocated, shown in a child process whose memory may grow by only a
small budget; every metadata field read from a model or checkpoint is type-checked with one error
naming the file and the field; non-regular files are refused instead of blocking or being read
without end; pixels outside 0-255 (or NaN) in any input file are an error; and nothing non-finite
is ever written, optimizer state included.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numnet.cli import main as cli_main
from numnet.cli.config import load_toml
from numnet.data import load_dataset, read_idx, read_kaggle_csv, write_idx
from numnet.data.validate import MAX_CLASSES
from numnet.errors import ConfigError, DataError, ModelFileError
from numnet.models import ConvNet, FullyConnectedNet
from numnet.serialization import (
    META_KEY,
    encode_metadata,
    load_checkpoint,
    load_model,
    save_checkpoint,
    save_model,
)
from tests.reliability import helpers
from tests.reliability.limits import limits_supported, run_limited
from tests.reliability.test_bad_input import FAILURE, USAGE, assert_one_line_error

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
needs_limits = pytest.mark.skipif(not limits_supported(), reason="needs Linux /proc and rlimits")


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def read_archive(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
    return meta, arrays


def write_archive(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write a numnet-layout file by hand (as a forger would), bypassing save_model's checks."""
    with open(path, "wb") as handle:
        np.savez(handle, **{META_KEY: encode_metadata(meta)}, **arrays)
    return path


def edit_meta(source: Path, target: Path, edit: Callable[[dict], None]) -> Path:
    meta, arrays = read_archive(source)
    edit(meta)
    return write_archive(target, meta, arrays)


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the body blocks, e.g. opening a FIFO."""

    def expire(signum, frame):  # noqa: ANN001
        raise TimeoutError(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("values_run")
    csv = helpers.write_train_csv(root / "train.csv")
    assert helpers.train_run(root / "run", csv) == 0, "the tiny reference training run failed"
    return root / "run"


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return helpers.write_model(tmp_path / "model.npz")


@pytest.fixture
def conv_file(tmp_path: Path) -> Path:
    model = ConvNet((1, 4, 4), conv_channels=[2], hidden_dims=[3], num_classes=3, seed=0)
    path = tmp_path / "conv.npz"
    save_model(path, model)
    return path


def labels_csv(path: Path, label: str) -> Path:
    helpers.write_train_csv(path)
    lines = path.read_text().splitlines()
    lines[3] = label + lines[3][lines[3].index(",") :]
    path.write_text("\n".join(lines) + "\n")
    return path


def idx_dir(root: Path, labels: np.ndarray | None = None, images: np.ndarray | None = None) -> Path:
    """The four 4x4 IDX files (raw), with the train labels or images replaced when given."""
    root.mkdir()
    rng = np.random.default_rng(0)
    for split, count in (("train", 20), ("t10k", 10)):
        pixels = rng.integers(0, 256, size=(count, 4, 4)).astype(np.uint8)
        classes = (np.arange(count) % 3).astype(np.uint8)
        if split == "train" and labels is not None:
            classes = labels
        if split == "train" and images is not None:
            pixels = images
        write_idx(root / f"{split}-images-idx3-ubyte", pixels)
        write_idx(root / f"{split}-labels-idx1-ubyte", classes)
    return root


# --------------------------------------------------------------------------------------------------
# family 1: sizes taken from data are bounded before anything is allocated
# --------------------------------------------------------------------------------------------------


@needs_limits
@pytest.mark.parametrize("label", ["1000000000", "99999999999999999999999", "1e400", "7e9"])
def test_huge_csv_label_refused_within_memory_budget(tmp_path: Path, label: str) -> None:
    path = labels_csv(tmp_path / "train.csv", label)
    result = run_limited(f"numnet.data.load_dataset({str(path)!r})")
    assert result.startswith("REFUSED DataError"), result
    assert label in result and "line 4" in result, result


@needs_limits
def test_huge_idx_label_refused_within_memory_budget(tmp_path: Path) -> None:
    labels = (np.arange(20) % 3).astype(np.int32)
    labels[7] = 2**31 - 1
    directory = idx_dir(tmp_path / "idx", labels=labels)
    result = run_limited(f"numnet.data.load_dataset({str(directory)!r})")
    assert result.startswith("REFUSED DataError"), result
    assert str(2**31 - 1) in result and "labels-idx1" in result, result


def test_label_limit_is_exact(tmp_path: Path) -> None:
    """The documented limit: the last allowed label loads, the next one is refused."""
    X, y = read_kaggle_csv(labels_csv(tmp_path / "ok.csv", str(MAX_CLASSES - 1)))
    assert y is not None and y.max() == MAX_CLASSES - 1
    with pytest.raises(DataError, match=f"label {MAX_CLASSES} is beyond"):
        read_kaggle_csv(labels_csv(tmp_path / "bad.csv", str(MAX_CLASSES)))


FC_EDITS = {
    "num_classes": lambda c: c.update(num_classes=10**9),
    "hidden_dims": lambda c: c.update(hidden_dims=[10**9]),
    "input_dim": lambda c: c.update(input_dim=10**9),
    "more-layers": lambda c: c.update(hidden_dims=[5] + [40_000] * 3),
}
CONV_EDITS = {
    "conv_channels": lambda c: c.update(conv_channels=[10**8]),
    "image-size": lambda c: c.update(input_dim=[1, 200_000, 200_000]),
    "hidden_dims": lambda c: c.update(hidden_dims=[10**9]),
}


@needs_limits
@pytest.mark.parametrize(
    "kind,edit",
    [("fc", name) for name in FC_EDITS] + [("conv", name) for name in CONV_EDITS],
)
def test_edited_model_config_refused_within_memory_budget(
    tmp_path: Path, model_file: Path, conv_file: Path, kind: str, edit: str
) -> None:
    source, edits = (model_file, FC_EDITS) if kind == "fc" else (conv_file, CONV_EDITS)
    forged = edit_meta(source, tmp_path / "forged.npz", lambda m: edits[edit](m["model_config"]))
    for loader in ("load_model", "load_checkpoint", "read_header"):
        result = run_limited(f"numnet.serialization.{loader}({str(forged)!r})")
        assert result.startswith("REFUSED ModelFileError"), (loader, result)
        assert "forged.npz" in result and "parameter values" in result, result


@given(
    field=st.sampled_from(["num_classes", "input_dim", "hidden_dims"]),
    value=st.integers(1, 10**4),
)
@SETTINGS
def test_any_edited_size_loads_or_refuses(tmp_path: Path, field: str, value: int) -> None:
    """Whatever size a model file's config is edited to, loading gives the stored model or one
    ModelFileError: never another exception, never a model whose shapes differ from its file."""
    model = FullyConnectedNet([5], input_dim=16, num_classes=3, seed=0)
    source = tmp_path / "m.npz"
    save_model(source, model)
    new = [value] if field == "hidden_dims" else value
    forged = edit_meta(source, tmp_path / "f.npz", lambda m: m["model_config"].update({field: new}))
    try:
        loaded, _ = load_model(forged)
    except ModelFileError as err:
        assert "\n" not in str(err)
        return
    assert loaded.get_config()[field] == model.get_config()[field]


def test_edited_model_config_cli_one_line(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = edit_meta(
        model_file, tmp_path / "f.npz", lambda m: FC_EDITS["num_classes"](m["model_config"])
    )
    test_csv = helpers.write_test_csv(tmp_path / "test.csv")
    code = cli_main(
        ["predict", str(forged), "--input", str(test_csv), "--output", str(tmp_path / "o.csv")]
    )
    line = assert_one_line_error(capsys, code, FAILURE)
    assert "f.npz" in line and "1000000000" in line
    assert not (tmp_path / "o.csv").exists()


# --------------------------------------------------------------------------------------------------
# family 2: every metadata field is validated once, with one error naming file, field and value
# --------------------------------------------------------------------------------------------------

CHECKPOINT_FIELDS = {
    "epoch": "an integer",
    "iteration": "an integer",
    "best_val_acc": "a number",
    "loss_history": "a list",
    "train_acc_history": "a list",
    "val_acc_history": "a list",
    "history": "a list",
    "lr_scale": "a number",
    "rng": "a JSON object",
    "callbacks": "a JSON object",
    "run_config": "a JSON object",
}
WRONG_VALUES = ["abc", {"a": 1}, [["x"]], None, True, -3, 1.5, ["y"]]


def _type_fits(field: str, value: object) -> bool:
    if field in ("epoch", "iteration"):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if field in ("best_val_acc", "lr_scale"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if field in ("rng", "run_config"):
        return isinstance(value, dict)  # its entries are optional here (Solver requires them)
    return False  # every list/dict among WRONG_VALUES has the wrong element type for these


@pytest.mark.parametrize("field", sorted(CHECKPOINT_FIELDS))
@pytest.mark.parametrize("value", WRONG_VALUES, ids=[repr(v) for v in WRONG_VALUES])
def test_checkpoint_field_of_wrong_type(
    tmp_path: Path, trained_run: Path, field: str, value: object
) -> None:
    if _type_fits(field, value):
        pytest.skip("this value has the field's type")
    forged = edit_meta(
        trained_run / "last.npz", tmp_path / "last.npz", lambda m: m.update({field: value})
    )
    with pytest.raises(ModelFileError) as info:
        load_checkpoint(forged)
    message = str(info.value)
    assert "\n" not in message and str(forged) in message and repr(field) in message
    assert CHECKPOINT_FIELDS[field] in message


@pytest.mark.parametrize(
    "edit,named",
    [
        (lambda m: m.update(epoch="3"), "epoch"),
        (lambda m: m.update(iteration=[1]), "iteration"),
        (lambda m: m.update(rng="seed"), "rng"),
        (lambda m: m["rng"].update(train="state"), "rng.train"),
        (lambda m: m["rng"]["train"].update(state=[1, 2]), "rng.train"),
        (lambda m: m.update(callbacks={"0:Checkpoint": "x"}), "callbacks"),
        (lambda m: m.update(loss_history=["nan", 1]), "loss_history"),
        (lambda m: m["run_config"].update(optimizer_kind=7), "run_config.optimizer_kind"),
    ],
)
def test_resume_from_edited_checkpoint_one_line(
    tmp_path: Path, trained_run: Path, capsys: pytest.CaptureFixture[str], edit, named: str
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    edit_meta(trained_run / "last.npz", run / "last.npz", edit)
    before = helpers.snapshot(run)
    code = cli_main(["train", "--resume", str(run), "--quiet"])
    line = assert_one_line_error(capsys, code, FAILURE)
    assert named in line, line
    assert helpers.snapshot(run) == before, "a refused resume changed the run directory"


@given(
    value=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=6,
    )
)
@SETTINGS
def test_model_metadata_any_json_loads_or_refuses(tmp_path: Path, value: object) -> None:
    """Any JSON value as a model's ``metadata`` (or its class names): load, or one error."""
    source = helpers.write_model(tmp_path / "m.npz")
    for edit in (
        lambda m: m.update(metadata=value),
        lambda m: m["metadata"].update(class_names=value),
    ):
        forged = edit_meta(source, tmp_path / "f.npz", edit)
        try:
            _, metadata = load_model(forged)
        except ModelFileError as err:
            assert "\n" not in str(err) and "metadata" in str(err)
            continue
        assert isinstance(metadata, dict)
        names = metadata.get("class_names", [])
        assert isinstance(names, list) and all(isinstance(n, str) for n in names)


# --------------------------------------------------------------------------------------------------
# family 3: non-regular files are refused, reads are capped
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / "pipe.npz"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    "call,error",
    [
        (load_model, ModelFileError),
        (load_checkpoint, ModelFileError),
        (lambda p: read_idx(p), DataError),
        (lambda p: read_kaggle_csv(p), DataError),
        (lambda p: load_dataset(p), DataError),
        (lambda p: load_toml(p), ConfigError),
    ],
    ids=["load_model", "load_checkpoint", "read_idx", "read_kaggle_csv", "load_dataset", "config"],
)
def test_fifo_refused_without_blocking(fifo: Path, call, error) -> None:
    with deadline(10), pytest.raises(error, match="named pipe"):
        call(fifo)


@pytest.mark.parametrize("command", ["predict-model", "predict-input", "evaluate-model", "config"])
def test_fifo_cli_one_line(
    tmp_path: Path, fifo: Path, model_file: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    test_csv = helpers.write_test_csv(tmp_path / "test.csv")
    train_csv = helpers.write_train_csv(tmp_path / "train.csv")
    out = str(tmp_path / "o.csv")
    argv, expected = {
        "predict-model": (
            ["predict", str(fifo), "--input", str(test_csv), "--output", out],
            FAILURE,
        ),
        "predict-input": (
            ["predict", str(model_file), "--input", str(fifo), "--output", out],
            FAILURE,
        ),
        "evaluate-model": (
            ["evaluate", str(fifo), "--data", str(train_csv), "--out-dir", str(tmp_path / "e")],
            FAILURE,
        ),
        "config": (["train", "--config", str(fifo), "--out-dir", str(tmp_path / "r")], USAGE),
    }[command]
    with deadline(30):
        code = cli_main(argv)
    line = assert_one_line_error(capsys, code, expected)
    assert "named pipe" in line and str(fifo) in line


@needs_limits
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize(
    "call",
    [
        "numnet.cli.config.load_toml('/dev/zero')",
        "numnet.serialization.load_model('/dev/zero')",
        "numnet.data.read_kaggle_csv('/dev/zero')",
        "numnet.data.read_idx('/dev/zero')",
        # the CLI prints its one-line error on stderr and returns 2 (a usage error)
        "assert numnet.cli.main(['train', '--config', '/dev/zero']) == 2",
    ],
)
def test_endless_device_refused_within_memory_budget(call: str) -> None:
    result = run_limited(call, timeout=60)
    expected = "ACCEPTED" if call.startswith("assert") else "character device"
    assert expected in result, result


def test_oversized_config_refused(tmp_path: Path) -> None:
    from numnet.cli.config import load_toml
    from numnet.files import MAX_CONFIG_BYTES

    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * MAX_CONFIG_BYTES + "\nepochs = 1\n")
    with pytest.raises(ConfigError, match="limit"):
        load_toml(path)


# --------------------------------------------------------------------------------------------------
# family 4: pixel values outside 0-255 (or NaN) are an error for every input type
# --------------------------------------------------------------------------------------------------

BAD_PIXELS = [float("nan"), float("inf"), -1.0, 255.5, 256.0, -np.inf]


def float_images(value: float, position: int, dtype=np.float32) -> np.ndarray:
    images = np.random.default_rng(1).integers(0, 256, size=(20, 4, 4)).astype(dtype)
    images.reshape(-1)[position % images.size] = value
    return images


@given(value=st.sampled_from(BAD_PIXELS), position=st.integers(0, 10**6), double=st.booleans())
@SETTINGS
def test_bad_float_idx_pixel_refused_for_training(
    tmp_path_factory: pytest.TempPathFactory, value: float, position: int, double: bool
) -> None:
    root = tmp_path_factory.mktemp("px") / "idx"
    images = float_images(value, position, np.float64 if double else np.float32)
    with pytest.raises(DataError, match="0-255|NaN"):
        load_dataset(idx_dir(root, images=images))


@pytest.mark.parametrize("value", BAD_PIXELS, ids=[str(v) for v in BAD_PIXELS])
def test_bad_float_idx_pixel_refused_by_predict(
    tmp_path: Path, model_file: Path, value: float, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "images-idx3-ubyte.gz"
    raw = tmp_path / "raw"
    write_idx(raw, float_images(value, 37))
    path.write_bytes(gzip.compress(raw.read_bytes()))
    out = tmp_path / "o.csv"
    code = cli_main(["predict", str(model_file), "--input", str(path), "--output", str(out)])
    line = assert_one_line_error(capsys, code, FAILURE)
    assert "0-255" in line and "image 2" in line, line
    assert not out.exists()


@pytest.mark.parametrize("value", [300, -5, 32767])
def test_bad_integer_idx_pixel_refused(tmp_path: Path, model_file: Path, value: int) -> None:
    images = np.zeros((20, 4, 4), np.int16)
    images[3, 1, 2] = value
    with pytest.raises(DataError, match=f"{value}.*0-255"):
        load_dataset(idx_dir(tmp_path / "idx", images=images))


def test_valid_float_idx_pixels_load(tmp_path: Path) -> None:
    images = float_images(254.75, 0)
    dataset = load_dataset(idx_dir(tmp_path / "idx", images=images))
    assert dataset.X_train.dtype == np.float32 and dataset.X_train.max() <= 255


# --------------------------------------------------------------------------------------------------
# family 5: nothing non-finite is written, optimizer state included
# --------------------------------------------------------------------------------------------------


def _state(model: FullyConnectedNet, optim_value: float) -> dict:
    return {
        "params": dict(model.params),
        "optim": {"m/W1": np.full((16, 5), optim_value, np.float32), "t": np.array(3)},
        "meta": {"model_config": model.get_config(), "epoch": 1},
    }


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_checkpoint_with_nonfinite_optimizer_state_is_not_written(
    tmp_path: Path, bad: float
) -> None:
    model = FullyConnectedNet([5], input_dim=16, num_classes=3, seed=0)
    path = tmp_path / "last.npz"
    save_checkpoint(path, _state(model, 0.5))
    before = path.read_bytes()
    with pytest.raises(ModelFileError, match="optim/m/W1"):
        save_checkpoint(path, _state(model, bad))
    assert path.read_bytes() == before


def test_forged_nonfinite_optimizer_state_refused_on_read(tmp_path: Path) -> None:
    model = FullyConnectedNet([5], input_dim=16, num_classes=3, seed=0)
    path = tmp_path / "last.npz"
    save_checkpoint(path, _state(model, 0.5))
    meta, arrays = read_archive(path)
    arrays["optim/m/W1"][0, 0] = np.inf
    write_archive(path, meta, arrays)
    with pytest.raises(ModelFileError, match="optim/m/W1"):
        load_checkpoint(path)


def test_idx_header_for_forged_labels_is_checked_before_payload(tmp_path: Path) -> None:
    """A labels file whose header declares a huge count is refused from its size alone."""
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 2**31) + b"\x00" * 10)
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)
