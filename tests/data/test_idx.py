"""IDX reader/writer: round trips, header validation, truncation, gzip problems."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from numnet.data import idx as idx_module
from numnet.data import load_idx_pair, read_idx, write_idx
from numnet.errors import DataError


def _images(n: int = 5, rows: int = 4, cols: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip_images(tmp_path, name):
    images = _images()
    path = tmp_path / name
    write_idx(path, images)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    loaded = read_idx(path)
    assert loaded.dtype == np.uint8 and loaded.shape == (5, 4, 3)
    np.testing.assert_array_equal(loaded, images)
    assert loaded.flags.writeable


def test_raw_header_is_mnist_magic(tmp_path):
    write_idx(tmp_path / "x", _images(2, 3, 4))
    head = (tmp_path / "x").read_bytes()[:16]
    assert head == struct.pack(">IIII", 0x803, 2, 3, 4)
    write_idx(tmp_path / "y", np.arange(7, dtype=np.uint8))
    assert (tmp_path / "y").read_bytes()[:8] == struct.pack(">II", 0x801, 7)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_other_type_codes(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    write_idx(tmp_path / "a.gz", array)
    loaded = read_idx(tmp_path / "a.gz")
    assert loaded.dtype == np.dtype(dtype)  # native byte order
    np.testing.assert_array_equal(loaded, array)


def test_gzip_detected_by_magic_not_extension(tmp_path):
    images = _images()
    write_idx(tmp_path / "a.gz", images)
    misnamed = tmp_path / "train-images-idx3-ubyte"
    misnamed.write_bytes((tmp_path / "a.gz").read_bytes())
    np.testing.assert_array_equal(read_idx(misnamed), images)
    write_idx(tmp_path / "raw", images)
    raw_named_gz = tmp_path / "raw-named.gz"
    raw_named_gz.write_bytes((tmp_path / "raw").read_bytes())
    np.testing.assert_array_equal(read_idx(raw_named_gz), images)


def test_load_idx_pair(tmp_path):
    images = _images(6)
    labels = np.array([0, 1, 2, 9, 3, 4], dtype=np.uint8)
    write_idx(tmp_path / "i.gz", images)
    write_idx(tmp_path / "l.gz", labels)
    X, y = load_idx_pair(tmp_path / "i.gz", tmp_path / "l.gz")
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)


def test_load_idx_pair_count_mismatch(tmp_path):
    write_idx(tmp_path / "i", _images(6))
    write_idx(tmp_path / "l", np.zeros(5, dtype=np.uint8))
    with pytest.raises(DataError, match="6 images but .* 5 labels"):
        load_idx_pair(tmp_path / "i", tmp_path / "l")


def test_load_idx_pair_swapped_files(tmp_path):
    write_idx(tmp_path / "i", _images(6))
    write_idx(tmp_path / "l", np.zeros(6, dtype=np.uint8))
    with pytest.raises(DataError, match="expected 3"):
        load_idx_pair(tmp_path / "l", tmp_path / "i")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize(
    ("head", "fragment"),
    [
        (b"", "too short"),
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "not an IDX file"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 1), "truncated IDX header"),
    ],
)
def test_bad_headers(tmp_path, head, fragment):
    for name, data in (("raw", head), ("x.gz", gzip.compress(head))):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DataError, match=fragment):
            read_idx(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_payload_shorter_than_header_dims(tmp_path, suffix):
    payload = struct.pack(">IIII", 0x803, 3, 4, 4) + bytes(47)  # needs 48 bytes
    path = tmp_path / ("t" + suffix)
    path.write_bytes(gzip.compress(payload) if suffix else payload)
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_payload_longer_than_header_dims(tmp_path, suffix):
    payload = struct.pack(">II", 0x801, 3) + bytes(4)
    path = tmp_path / ("t" + suffix)
    path.write_bytes(gzip.compress(payload) if suffix else payload)
    with pytest.raises(DataError, match="longer than its header says"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    write_idx(tmp_path / "full.gz", _images(50, 28, 28))
    data = (tmp_path / "full.gz").read_bytes()
    for cut in (3, 10, len(data) // 2, len(data) - 4, len(data) - 1):
        path = tmp_path / f"cut{cut}.gz"
        path.write_bytes(data[:cut])
        with pytest.raises(DataError) as info:
            read_idx(path)
        message = str(info.value)
        assert "\n" not in message and str(path) in message


def test_corrupt_gzip_stream(tmp_path):
    write_idx(tmp_path / "full.gz", _images(50, 28, 28))
    data = bytearray((tmp_path / "full.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "bad.gz").write_bytes(bytes(data))
    with pytest.raises(DataError, match="corrupt|cannot read"):
        read_idx(tmp_path / "bad.gz")


def test_lying_header_rejected_before_allocation(tmp_path):
    # Claims 2**32-1 cubed bytes: far beyond the cap, must fail fast without reading or allocating.
    head = struct.pack(">IIII", 0x803, 2**32 - 1, 2**32 - 1, 2**32 - 1)
    (tmp_path / "lie.gz").write_bytes(gzip.compress(head + bytes(100)))
    with pytest.raises(DataError, match="header is corrupt"):
        read_idx(tmp_path / "lie.gz")


def test_gzip_header_promising_more_than_deflate_can_hold(tmp_path):
    head = struct.pack(">IIII", 0x803, 1000, 1000, 1000)  # 1 GB from a ~100-byte file
    (tmp_path / "lie.gz").write_bytes(gzip.compress(head + bytes(10)))
    with pytest.raises(DataError, match="impossible for a"):
        read_idx(tmp_path / "lie.gz")


def test_gzip_bomb_reads_only_what_header_promises(tmp_path, monkeypatch):
    # 1 KiB promised, 20 MiB of zeros behind it: reading stops at promise + 1 and reports it.
    head = struct.pack(">II", 0x801, 1024)
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(head + bytes(20 * 2**20), 9))
    sizes: list[int] = []
    original = idx_module._read_exactly_capped
    monkeypatch.setattr(
        idx_module,
        "_read_exactly_capped",
        lambda stream, limit: sizes.append(limit) or original(stream, limit),
    )
    with pytest.raises(DataError, match="longer than its header says"):
        read_idx(tmp_path / "bomb.gz")
    assert max(sizes) == 1025


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="cannot write dtype"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


@pytest.mark.integration
def test_real_fashion_mnist_labels_if_installed():
    path = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
    try:
        labels = read_idx(path)
    except DataError:
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    assert labels.shape == (10000,)
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 1000))
