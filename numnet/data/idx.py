"""IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.

An IDX file is a 4-byte magic number ``0x00 0x00 TYPE NDIM``, then ``NDIM`` big-endian uint32
dimensions, then the values in C order. MNIST images are ``0x00000803`` (ubyte, 3 dims: N, rows,
cols) and labels ``0x00000801`` (ubyte, 1 dim: N).

Reading never trusts the header: the payload must have *exactly* the size the dimensions promise,
and decompression reads at most that many bytes plus one, so a lying header or a gzip bomb cannot
make numnet allocate more memory than the data actually holds (or the header promises).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from contextlib import nullcontext
from pathlib import Path
from typing import BinaryIO

import numpy as np

from numnet.data.validate import check_label_bound, check_pixels
from numnet.errors import DataError
from numnet.files import open_regular, write_atomic
from numnet.words import count

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian NumPy dtype (the codes of the IDX specification).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# Largest payload numnet will read from one IDX file (the 60,000 MNIST images are 47 MB).
MAX_IDX_BYTES = 4 * 1024**3

# Deflate cannot compress better than about 1032:1; a header promising more than this many bytes
# per compressed byte is lying, whatever the payload turns out to be.
_MAX_DEFLATE_RATIO = 1100

_READ_CHUNK = 1 << 20


def _read_exactly_capped(stream: BinaryIO, limit: int) -> bytes:
    """Read up to ``limit`` bytes in chunks, so memory grows only with the data actually present."""
    parts: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(_READ_CHUNK, remaining))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _parse_header(path: Path, head: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
    """Return ``(dtype, dims, header_size)`` from the first bytes of an IDX file."""
    if len(head) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(head)} bytes); check the file")
    zero1, zero2, type_code, ndim = head[0], head[1], head[2], head[3]
    if zero1 != 0 or zero2 != 0:
        raise DataError(
            f"{path}: not an IDX file (magic number 0x{head[:4].hex()} should start with 0x0000); "
            "pass an MNIST-format images or labels file"
        )
    if type_code not in IDX_DTYPES:
        raise DataError(
            f"{path}: unknown IDX type code 0x{type_code:02x} (expected 0x08 ubyte, 0x09, 0x0b, "
            "0x0c, 0x0d or 0x0e); the file is corrupt or not an IDX file"
        )
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions; the file is corrupt")
    header_size = 4 + 4 * ndim
    if len(head) < header_size:
        raise DataError(
            f"{path}: truncated IDX header (needs {header_size} bytes for {ndim} dimensions, "
            f"file has {len(head)}); re-download the file"
        )
    dims = struct.unpack(f">{ndim}I", head[4:header_size])
    return IDX_DTYPES[type_code], tuple(int(d) for d in dims), header_size


def read_idx(path: str | os.PathLike[str], expect_ndim: int | None = None) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed (detected by its magic bytes, not its name).

    Parameters
    ----------
    path : str or PathLike
        The file, e.g. ``train-images-idx3-ubyte.gz``.
    expect_ndim : int, optional
        If given, the number of dimensions the header must declare (3 for images, 1 for labels).

    Returns
    -------
    ndarray
        The values with the header's shape in native byte order: uint8 images ``(N, rows, cols)``
        or uint8 labels ``(N,)`` for MNIST files.

    Raises
    ------
    DataError
        Missing file, bad magic number, unknown type code, header dimensions that disagree with
        the payload size (truncated or trailing bytes), or a truncated/corrupt gzip stream.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: IDX file not found; check the path (or --data-dir)")
    with open_regular(path, "IDX file", DataError) as handle:
        return _read_idx_stream(path, handle, expect_ndim)


def _read_idx_stream(path: Path, handle: BinaryIO, expect_ndim: int | None) -> np.ndarray:
    """The body of :func:`read_idx` on an open regular file."""
    try:
        compressed = handle.read(2) == GZIP_MAGIC
        handle.seek(0)
        file_size = os.fstat(handle.fileno()).st_size
        stream_context = gzip.GzipFile(fileobj=handle, mode="rb") if compressed else nullcontext()
        with stream_context as gz:
            stream = gz if compressed else handle
            head = _read_exactly_capped(stream, 4)
            if len(head) == 4:
                head += _read_exactly_capped(stream, 4 * head[3])
            dtype, dims, header_size = _parse_header(path, head)
            if expect_ndim is not None and len(dims) != expect_ndim:
                raise DataError(
                    f"{path}: IDX file has {len(dims)} dimensions {dims}, expected {expect_ndim}; "
                    "check that images and labels files are not swapped"
                )
            expected = math.prod(dims) * dtype.itemsize
            _check_plausible(path, expected, header_size, file_size, compressed)
            payload = _read_exactly_capped(stream, expected + 1)
    except OSError as err:  # includes gzip.BadGzipFile and permission problems
        raise DataError(f"{path}: cannot read IDX file ({err}); re-download or check it") from err
    except (EOFError, zlib.error) as err:
        raise DataError(
            f"{path}: gzip stream is truncated or corrupt ({err}); re-download the file"
        ) from err
    if len(payload) != expected:
        what = "truncated" if len(payload) < expected else "longer than its header says"
        got = f"{len(payload)}" if len(payload) < expected else f"more than {expected}"
        raise DataError(
            f"{path}: IDX file is {what}: header dims {dims} need {expected} bytes of data, "
            f"found {got}; re-download the file"
        )
    values = np.frombuffer(bytearray(payload), dtype=dtype).reshape(dims)
    return values.astype(dtype.newbyteorder("="), copy=False)


def _check_plausible(
    path: Path, expected: int, header_size: int, file_size: int, compressed: bool
) -> None:
    """Reject headers whose promised size cannot fit the file, before reading the payload."""
    if expected > MAX_IDX_BYTES:
        raise DataError(
            f"{path}: IDX header promises {expected} bytes of data (limit {MAX_IDX_BYTES}); "
            "the header is corrupt"
        )
    if not compressed and file_size != header_size + expected:
        what = "truncated" if file_size < header_size + expected else "longer than its header says"
        raise DataError(
            f"{path}: IDX file is {what}: header needs {header_size + expected} bytes, file has "
            f"{file_size}; re-download the file"
        )
    if compressed and expected > _MAX_DEFLATE_RATIO * file_size + 4096:
        raise DataError(
            f"{path}: IDX header promises {expected} bytes, impossible for a {file_size}-byte gzip "
            "file; the file is truncated or corrupt, re-download it"
        )


def _idx_type_code(dtype: np.dtype) -> int:
    for code, idx_dtype in IDX_DTYPES.items():
        if idx_dtype.newbyteorder("=") == dtype.newbyteorder("="):
            return code
    raise TypeError(
        f"cannot write dtype {dtype} to IDX; use uint8, int8, int16, int32, float32 or float64"
    )


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz`` (atomically).

    Parameters
    ----------
    path : str or PathLike
        Destination file.
    array : ndarray
        1 to 255 dimensions, dtype uint8, int8, int16, int32, float32 or float64.
    """
    array = np.asarray(array)
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX arrays need 1 to 255 dimensions, got shape {array.shape}")
    code = _idx_type_code(array.dtype)
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(path)

    def write(raw: BinaryIO) -> None:
        if path.name.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(header + payload)
        else:
            raw.write(header + payload)

    write_atomic(path, write)  # mode 0644 under umask 022, not mkstemp's 0600


def load_idx_pair(
    images_path: str | os.PathLike[str], labels_path: str | os.PathLike[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Read an MNIST-style images file and its labels file and check that they belong together.

    Returns
    -------
    images : ndarray of uint8, shape (N, rows, cols)
    labels : ndarray of int64, shape (N,)
    """
    images = read_idx(images_path, expect_ndim=3)
    labels = read_idx(labels_path, expect_ndim=1)
    if labels.dtype.kind not in "iu":
        raise DataError(f"{labels_path}: labels must be integers, got IDX dtype {labels.dtype}")
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{images_path} holds {count(images.shape[0], 'image')} but {labels_path} holds "
            f"{count(labels.shape[0], 'label')}; use matching files"
        )
    if labels.size and int(labels.min()) < 0:
        raise DataError(f"{labels_path}: negative label {int(labels.min())}; the file is corrupt")
    if labels.size:
        check_label_bound(int(labels.max()), str(labels_path))
    check_pixels(images, str(images_path))
    return images, labels.astype(np.int64)
