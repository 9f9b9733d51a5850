"""Model and checkpoint files: round trips and every ModelFileError case."""

from __future__ import annotations

import json

import numpy as np
import pytest

from numnet.errors import ModelFileError
from numnet.models import ConvNet
from numnet.serialization import (
    encode_metadata,
    load_checkpoint,
    load_model,
    read_header,
    save_checkpoint,
    save_model,
)
from tests.callbacks.helpers import small_net


def trained_bn_net():
    model = small_net(normalization="batchnorm", seed=3)
    rng = np.random.default_rng(0)
    model.loss(rng.normal(size=(20, 8)).astype(np.float32), rng.integers(0, 3, 20))
    return model


def assert_same_model(a, b):
    assert a.get_config() == b.get_config()
    for group in ("params", "buffers"):
        left, right = dict(getattr(a, group)), dict(getattr(b, group))
        assert sorted(left) == sorted(right)
        for name in left:
            assert left[name].dtype == right[name].dtype
            assert np.array_equal(left[name], right[name]), name


def test_model_round_trip_with_buffers_and_metadata(tmp_path):
    model = trained_bn_net()
    assert not np.allclose(model.buffers["running_mean1"], 0)
    meta = {"class_names": ["x", "y", "z"], "preprocessing": {"mean": [0.5], "std": [2.0]}}
    path = tmp_path / "model.npz"
    save_model(path, model, metadata=meta)
    loaded, loaded_meta = load_model(path)
    assert_same_model(model, loaded)
    assert loaded_meta == meta
    header = read_header(path)
    assert header["kind"] == "model" and header["format"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    with np.load(path, allow_pickle=False) as archive:
        assert archive["__numnet__"].dtype == np.uint8
        assert "params/W1" in archive.files and "buffers/running_var1" in archive.files


def test_convnet_float64_round_trip(tmp_path):
    model = ConvNet(
        input_dim=(1, 8, 8),
        conv_channels=(2,),
        hidden_dims=(4,),
        num_classes=3,
        dtype=np.float64,
        seed=1,
    )
    save_model(tmp_path / "cnn.npz", model)
    loaded, meta = load_model(tmp_path / "cnn.npz")
    assert_same_model(model, loaded) and meta == {}


def write_npz(path, meta=None, **arrays):
    if meta is not None:
        arrays["__numnet__"] = encode_metadata(meta) if isinstance(meta, dict) else meta
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def valid_arrays(model):
    return {f"params/{k}": np.array(v) for k, v in model.params.items()}


def header(model, **changes):
    meta = {"format": 1, "kind": "model", "numnet_version": "0", "model_config": model.get_config()}
    meta.update(changes)
    return meta


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p, m: None, "does not exist"),
        (lambda p, m: p.write_bytes(b"this is not a zip file at all"), "not an .npz archive"),
        (lambda p, m: write_npz(p, None, **valid_arrays(m)), "not a numnet file"),
        (
            lambda p, m: write_npz(p, np.frombuffer(b"{oops", np.uint8), **valid_arrays(m)),
            "bad JSON",
        ),
        (lambda p, m: write_npz(p, np.arange(3.0), **valid_arrays(m)), "malformed"),
        (lambda p, m: write_npz(p, header(m, format=99), **valid_arrays(m)), "format 99"),
        (lambda p, m: write_npz(p, header(m, kind="zoo"), **valid_arrays(m)), "unknown kind"),
        (
            lambda p, m: write_npz(
                p,
                header(m),
                **{**valid_arrays(m), "params/W1": np.full((8, 16), np.nan, np.float32)},
            ),
            "NaN",
        ),
        (
            lambda p, m: write_npz(
                p, header(m), **{**valid_arrays(m), "params/W1": np.zeros((8, 15), np.float32)}
            ),
            "shape",
        ),
        (
            lambda p, m: write_npz(
                p, header(m), **{**valid_arrays(m), "params/W1": np.zeros((8, 16), np.float64)}
            ),
            "dtype",
        ),
        (
            lambda p, m: write_npz(
                p, header(m), **{k: v for k, v in valid_arrays(m).items() if k != "params/b2"}
            ),
            "missing",
        ),
        (
            lambda p, m: write_npz(
                p, header(m), **valid_arrays(m), evil=np.array([{"a": 1}, None], dtype=object)
            ),
            "pickled",
        ),
        (lambda p, m: np.save(open(p, "wb"), np.zeros(3)), "single .npy"),
    ],
    ids=[
        "missing",
        "garbage",
        "no-metadata",
        "bad-json",
        "malformed-metadata",
        "format-version",
        "kind",
        "nan",
        "shape",
        "dtype",
        "missing-param",
        "pickled-object",
        "npy",
    ],
)
def test_load_model_errors(tmp_path, make, match):
    model = small_net()
    path = tmp_path / "model.npz"
    make(path, model)
    with pytest.raises(ModelFileError, match=match) as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_truncated_file(tmp_path):
    path = tmp_path / "model.npz"
    save_model(path, small_net())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupt|not a readable"):
        load_model(path)


def test_save_refuses_nan_and_writes_nothing(tmp_path):
    model = small_net()
    model.params["b1"][0] = np.inf
    with pytest.raises(ModelFileError, match="params/b1"):
        save_model(tmp_path / "model.npz", model)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def broken_savez(handle, **arrays):
        handle.write(b"PK partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_model(tmp_path / "model.npz", small_net())
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        save_model(tmp_path / "nope" / "model.npz", small_net())


def test_checkpoint_round_trip_and_kind_checks(tmp_path):
    model = trained_bn_net()
    rng_state = np.random.default_rng(5).bit_generator.state
    state = {
        "params": dict(model.params),
        "buffers": dict(model.buffers),
        "optim": {"count": np.array(3), "m/W1": np.ones((8, 16))},
        "best_params": {"W1": np.zeros((8, 16), np.float32)},
        "best_buffers": {},
        "meta": {"model_config": model.get_config(), "epoch": 2, "rng": {"train": rng_state}},
    }
    path = tmp_path / "last.npz"
    save_checkpoint(path, state)
    loaded = load_checkpoint(path)
    assert loaded["meta"]["epoch"] == 2 and loaded["meta"]["kind"] == "checkpoint"
    assert loaded["meta"]["rng"]["train"] == json.loads(json.dumps(rng_state))
    generator = np.random.default_rng()
    generator.bit_generator.state = loaded["meta"]["rng"]["train"]
    assert generator.random() == np.random.default_rng(5).random()
    assert np.array_equal(loaded["optim"]["m/W1"], np.ones((8, 16)))
    assert np.array_equal(loaded["params"]["W1"], model.params["W1"])
    rebuilt, meta = load_model(path)  # a checkpoint also loads as a model
    assert_same_model(model, rebuilt) and meta == {}
    save_model(tmp_path / "model.npz", model)
    with pytest.raises(ModelFileError, match="model file, not a training checkpoint"):
        load_checkpoint(tmp_path / "model.npz")
    state["best_params"] = {"W1": np.full((8, 16), np.nan, np.float32)}
    with pytest.raises(ModelFileError, match="best_params/W1"):
        save_checkpoint(path, state)
    assert load_checkpoint(path)["meta"]["epoch"] == 2  # the previous file is intact
