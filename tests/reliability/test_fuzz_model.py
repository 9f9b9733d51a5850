"""Fuzz the model loader: random, truncated and mutated bytes load or raise ModelFileError only.

Never another exception, never a hang (each load is timed), and never an allocation driven by a
forged array header (a header may declare a terabyte-sized array in a file of a few bytes).
"""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numnet.errors import ModelFileError
from numnet.models import FullyConnectedNet
from numnet.serialization import load_checkpoint, load_model, save_checkpoint, save_model

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SECONDS_PER_LOAD = 5.0


def _model_bytes() -> bytes:
    model = FullyConnectedNet([3], input_dim=4, num_classes=2, seed=0)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "m.npz"
        save_model(path, model, metadata={"class_names": ["no", "yes"]})
        return path.read_bytes()


def _checkpoint_bytes() -> bytes:
    model = FullyConnectedNet([3], input_dim=4, num_classes=2, seed=0)
    state = {
        "params": dict(model.params),
        "optim": {"count": np.array(3), "m/W1": np.zeros((4, 3), np.float32)},
        "meta": {"model_config": model.get_config(), "epoch": 1},
    }
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "c.npz"
        save_checkpoint(path, state)
        return path.read_bytes()


VALID_MODEL = _model_bytes()
VALID_CHECKPOINT = _checkpoint_bytes()
LOADERS = {"model": load_model, "checkpoint": load_checkpoint}


def _load_or_refuse(data: bytes, loader=load_model) -> object | None:
    """Load ``data`` from a file; return the result, or None when numnet refused it properly."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.npz"
        path.write_bytes(data)
        started = time.perf_counter()
        try:
            return loader(path)
        except ModelFileError as err:
            assert "\n" not in str(err)
            return None
        finally:
            assert time.perf_counter() - started < SECONDS_PER_LOAD


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    mutable = bytearray(data)
    for position, value in edits:
        mutable[position % len(mutable)] = value
    return bytes(mutable if cut is None else mutable[: cut % (len(mutable) + 1)])


_edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6)
_cuts = st.none() | st.integers(0, 1 << 20)


def test_valid_files_load() -> None:
    model, metadata = _load_or_refuse(VALID_MODEL)
    assert metadata == {"class_names": ["no", "yes"]}
    assert _load_or_refuse(VALID_CHECKPOINT, load_checkpoint)["meta"]["epoch"] == 1


@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    assert _load_or_refuse(data) is None


@SETTINGS
@given(prefix=st.sampled_from([b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY", b""]), tail=st.binary())
def test_random_bytes_with_archive_magic(prefix: bytes, tail: bytes) -> None:
    assert _load_or_refuse(prefix + tail) is None


@SETTINGS
@given(cut=st.integers(0, len(VALID_MODEL) - 1))
def test_every_truncation_is_refused(cut: int) -> None:
    assert _load_or_refuse(VALID_MODEL[:cut]) is None


@SETTINGS
@given(kind=st.sampled_from(sorted(LOADERS)), edits=_edits, cut=_cuts)
def test_mutated_files_load_or_raise_model_file_error(kind: str, edits, cut) -> None:
    source = VALID_MODEL if kind == "model" else VALID_CHECKPOINT
    result = _load_or_refuse(_mutate(source, edits, cut), LOADERS[kind])
    if result is not None and kind == "model":
        model, _ = result
        for value in model.params.values():
            assert np.all(np.isfinite(value))


def _npy_with_header(header: str) -> bytes:
    """A version 1.0 ``.npy`` whose header dict is ``header`` but whose data is 8 bytes only."""
    text = header.encode("latin1")
    padding = 64 - (10 + len(text) + 1) % 64
    body = text + b" " * padding + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body + b"\x00" * 8


@pytest.mark.parametrize(
    "shape",
    ["(1099511627776,)", "(4294967296, 4294967296)", "(-1,)", "(3, -5)", "'abc'"],
)
def test_forged_array_header_is_refused_without_allocating(shape: str) -> None:
    """A params array whose header declares an absurd shape: refused, never allocated."""
    with np.load(io.BytesIO(VALID_MODEL), allow_pickle=False) as archive:
        members = {key: archive[key] for key in archive.files}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for key, value in members.items():
            if key == "params/W1":
                header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"
                out.writestr(key + ".npy", _npy_with_header(header))
            else:
                member = io.BytesIO()
                np.lib.format.write_array(member, value, allow_pickle=False)
                out.writestr(key + ".npy", member.getvalue())
    assert _load_or_refuse(buffer.getvalue()) is None


def _rebuilt(transform) -> bytes:
    """VALID_MODEL's members rewritten through ``transform(zip_out, name, npy_bytes)``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(VALID_MODEL)) as source, zipfile.ZipFile(buffer, "w") as out:
        for info in source.infolist():
            transform(out, info.filename, source.read(info))
    return buffer.getvalue()


def test_member_that_is_not_an_npy_array_is_refused() -> None:
    def rename_metadata(out: zipfile.ZipFile, name: str, data: bytes) -> None:
        out.writestr(name.replace("__numnet__.npy", "__numnet__"), data)

    assert _load_or_refuse(_rebuilt(rename_metadata)) is None


def test_compression_numnet_never_writes_is_refused() -> None:
    def bzip2(out: zipfile.ZipFile, name: str, data: bytes) -> None:
        out.writestr(name, data, compress_type=zipfile.ZIP_BZIP2)

    assert _load_or_refuse(_rebuilt(bzip2)) is None


def test_deflated_files_still_load() -> None:
    def deflate(out: zipfile.ZipFile, name: str, data: bytes) -> None:
        out.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)

    model, metadata = _load_or_refuse(_rebuilt(deflate))
    assert metadata == {"class_names": ["no", "yes"]}
