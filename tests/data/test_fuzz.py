"""Fuzz: random or mutated bytes either load or raise DataError, never another exception."""

from __future__ import annotations

import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numnet.data import read_idx, read_kaggle_csv
from numnet.errors import DataError

_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_VALID_IDX = struct.pack(">IIII", 0x803, 2, 3, 3) + bytes(range(18))
_VALID_CSV = b"label,pixel0,pixel1,pixel2,pixel3\n1,0,255,3,4\n9,10,20,30,40\n0,0,0,0,0\n"


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    mutable = bytearray(data)
    for position, value in edits:
        if mutable:
            mutable[position % len(mutable)] = value
    return bytes(mutable[:cut] if cut is not None else mutable)


_edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4)
_cuts = st.none() | st.integers(0, 200)


def _load(reader, data: bytes, name: str):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        try:
            return reader(path)
        except DataError as err:
            assert "\n" not in str(err)
            return None


@_SETTINGS
@given(data=st.binary(max_size=300))
def test_read_idx_random_bytes(data):
    result = _load(read_idx, data, "x")
    if result is not None:
        assert isinstance(result, np.ndarray)


@_SETTINGS
@given(edits=_edits, cut=_cuts, compress=st.booleans())
def test_read_idx_mutated(edits, cut, compress):
    source = gzip.compress(_VALID_IDX) if compress else _VALID_IDX
    _load(read_idx, _mutate(source, edits, cut), "x.gz")


@_SETTINGS
@given(
    data=st.binary(max_size=300) | st.text(alphabet="label,pixe0123456789 .-+\n\r", max_size=200)
)
def test_read_kaggle_csv_random_input(data):
    raw = data.encode() if isinstance(data, str) else data
    _load(read_kaggle_csv, raw, "train.csv")


@_SETTINGS
@given(edits=_edits, cut=_cuts)
def test_read_kaggle_csv_mutated(edits, cut):
    result = _load(read_kaggle_csv, _mutate(_VALID_CSV, edits, cut), "train.csv")
    if result is not None:
        X, y = result
        assert X.shape[1] == 4 and (X >= 0).all() and (X <= 255).all()
        assert y is None or (y >= 0).all()
