"""CIFAR-10 from the files a student already has, in either distribution; nothing is downloaded.

* The binary distribution (``cifar-10-batches-bin``: ``data_batch_1.bin`` ... ``data_batch_5.bin``,
  ``test_batch.bin``) is read as is: records of 1 label byte followed by 3072 pixel bytes (the
  1024 red, then green, then blue values of a 32x32 image, row by row).
* The Python distribution (``cifar-10-batches-py``: ``data_batch_1`` ... ``test_batch``) is a
  pickled dict per batch. Unpickling a file from outside can run any code the file names, so these
  files are read only through :class:`CifarUnpickler`, which admits the NumPy array
  reconstruction functions, checked by exact module and name, and nothing else: plain containers,
  bytes, strings and numbers need no global at all. Any other global (``os.system``,
  ``builtins.eval``, ...) is refused with one line before anything is called.

:func:`load_CIFAR10` has the assignment's name and return value ``(Xtr, Ytr, Xte, Yte)``: images as
``(N, 32, 32, 3)`` float64 (channels last, as the assignment's ``load_CIFAR_batch`` returns them),
labels as int64 ``(N,)``.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from numnet.errors import DataError
from numnet.files import read_capped

__all__ = [
    "CIFAR10_CLASSES",
    "CifarUnpickler",
    "load_CIFAR10",
    "load_CIFAR_batch",
    "read_cifar_bin",
    "read_cifar_pickle",
]

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_SHAPE = (3, 32, 32)
PIXELS = 3 * 32 * 32
RECORD_BYTES = 1 + PIXELS
TRAIN_BATCHES = 5
# One CIFAR-10 batch is 10,000 records (about 30 MB); a file far beyond that is not a batch.
MAX_BATCH_BYTES = 256 * 1024**2


def _numpy_global(module: str, name: str) -> Any:
    """The NumPy object a pickle names, looked up without importing the module it names."""
    if name == "ndarray":
        return np.ndarray
    if name == "dtype":
        return np.dtype
    try:  # NumPy 2 keeps the helpers in numpy._core, NumPy 1 in numpy.core
        from numpy._core import multiarray, numeric
    except ImportError:  # pragma: no cover - NumPy 1
        from numpy.core import multiarray, numeric  # type: ignore[no-redef]
    return multiarray._reconstruct if name == "_reconstruct" else numeric._frombuffer


# The (module, name) pairs a CIFAR-10 pickle may name: how NumPy 1 and 2 pickle an ndarray.
ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


class CifarUnpickler(pickle.Unpickler):
    """An unpickler that admits nothing but NumPy arrays and the plain values around them.

    ``find_class`` is the only way a pickle reaches a callable; it answers only the exact
    ``(module, name)`` pairs of :data:`ALLOWED_GLOBALS` and raises for everything else, so a
    payload such as ``os.system`` is refused before it is looked up, let alone called. Persistent
    ids are refused as well.
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED_GLOBALS:
            return _numpy_global(module, name)
        raise pickle.UnpicklingError(
            f"it asks for {module}.{name}, and a CIFAR-10 batch holds only arrays, lists and "
            "strings"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("it uses persistent ids, which a CIFAR-10 batch never does")


def _read_file(path: Path, what: str) -> bytes:
    """The bytes of a regular file of at most ``MAX_BATCH_BYTES``, or ``DataError`` (one line)."""
    return read_capped(path, what, DataError, MAX_BATCH_BYTES)


def _check_labels(labels: np.ndarray, path: Path) -> None:
    bad = labels[(labels < 0) | (labels >= len(CIFAR10_CLASSES))]
    if bad.size:
        raise DataError(
            f"{path} holds label {int(bad[0])}, outside CIFAR-10's 0..9; "
            "is this a CIFAR-100 file or a damaged one?"
        )


def read_cifar_bin(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch of the binary distribution.

    Returns
    -------
    X : ndarray, shape (N, 3, 32, 32), uint8
    y : ndarray, shape (N,), int64

    Raises
    ------
    DataError
        The file is missing, empty, not a whole number of 3073-byte records (truncated), or holds a
        label outside 0..9.
    """
    path = Path(path)
    data = _read_file(path, "CIFAR-10 batch")
    if not data or len(data) % RECORD_BYTES:
        raise DataError(
            f"{path} holds {len(data)} bytes, not a whole number of {RECORD_BYTES}-byte CIFAR-10 "
            "records (1 label byte + 3072 pixels); the file is truncated or not a CIFAR-10 "
            "binary batch: copy it again"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    y = records[:, 0].astype(np.int64)
    _check_labels(y, path)
    X = records[:, 1:].reshape(-1, *IMAGE_SHAPE).copy()
    return X, y


def _entry(batch: dict, key: str) -> Any:
    """``batch[key]`` under its Python 3 (str) or Python 2 pickled as bytes (b'...') name."""
    for candidate in (key, key.encode()):
        if candidate in batch:
            return batch[candidate]
    return None


def read_cifar_pickle(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch of the Python distribution through :class:`CifarUnpickler`.

    Returns
    -------
    X : ndarray, shape (N, 3, 32, 32), uint8
    y : ndarray, shape (N,), int64

    Raises
    ------
    DataError
        The file is missing, truncated or not a pickle; it names anything but NumPy's array
        helpers (refused unrun); or it is not a dict with ``data`` (N, 3072) bytes and ``labels``
        (N integers in 0..9).
    """
    path = Path(path)
    raw = _read_file(path, "CIFAR-10 batch")
    try:
        # latin1: the published files were pickled by Python 2, whose str holds raw bytes
        batch = CifarUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise DataError(f"refusing {path}: {exc}; give an unmodified CIFAR-10 batch") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise DataError(
            f"{path} is not a readable CIFAR-10 Python batch ({type(exc).__name__}: {exc}); "
            "the file is truncated or damaged: copy it again"
        ) from None
    except (MemoryError, OverflowError, RecursionError):
        raise DataError(f"{path} is not a CIFAR-10 Python batch; copy the file again") from None
    if not isinstance(batch, dict):
        raise DataError(
            f"{path} holds a {type(batch).__name__}, not a CIFAR-10 batch dict; "
            "give a data_batch_* or test_batch file"
        )
    data, labels = _entry(batch, "data"), _entry(batch, "labels")
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != PIXELS:
        shape = getattr(data, "shape", None)
        raise DataError(
            f"{path} has no 'data' array of shape (N, {PIXELS}) (found {shape}); "
            "give a CIFAR-10 data_batch_* or test_batch file"
        )
    if data.dtype != np.uint8:
        raise DataError(f"{path}: 'data' has dtype {data.dtype}, CIFAR-10 pixels are uint8")
    if not isinstance(labels, list | np.ndarray) or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in labels
    ):
        raise DataError(f"{path} has no 'labels' list of integers; give a CIFAR-10 batch file")
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    if y.shape[0] != data.shape[0]:
        raise DataError(f"{path} has {data.shape[0]} images but {y.shape[0]} labels")
    _check_labels(y, path)
    return data.reshape(-1, *IMAGE_SHAPE).copy(), y


def _as_assignment(X: np.ndarray, dtype: Any) -> np.ndarray:
    """(N, 3, 32, 32) uint8 -> (N, 32, 32, 3) as the assignment returns it."""
    return X.transpose(0, 2, 3, 1).astype(dtype)


def load_CIFAR_batch(filename: str | os.PathLike[str], dtype: Any = np.float64) -> tuple:  # noqa: N802
    """One batch as the assignment's ``load_CIFAR_batch``: ``X`` (N, 32, 32, 3) and ``Y`` (N,).

    A name ending in ``.bin`` is read as the binary distribution, anything else as the Python one.
    """
    reader = read_cifar_bin if str(filename).endswith(".bin") else read_cifar_pickle
    X, y = reader(filename)
    return _as_assignment(X, dtype), y


def _batch_names(root: Path) -> tuple[Path, Sequence[str], str]:
    """The folder holding the batches, their file names and the distribution's name."""
    candidates = [root, root / "cifar-10-batches-py", root / "cifar-10-batches-bin"]
    for folder in candidates:
        if (folder / "data_batch_1.bin").is_file():
            names = [f"data_batch_{i}.bin" for i in range(1, TRAIN_BATCHES + 1)]
            return folder, [*names, "test_batch.bin"], "binary"
        if (folder / "data_batch_1").is_file():
            names = [f"data_batch_{i}" for i in range(1, TRAIN_BATCHES + 1)]
            return folder, [*names, "test_batch"], "python"
    raise DataError(
        f"no CIFAR-10 batches in {root}: expected data_batch_1 (Python distribution) or "
        "data_batch_1.bin (binary distribution) there or in cifar-10-batches-py/-bin below it; "
        "numnet does not download, give the folder you unpacked"
    )


def load_CIFAR10(ROOT: str | os.PathLike[str], dtype: Any = np.float64) -> tuple:  # noqa: N802, N803
    """Load all of CIFAR-10 as the assignment's ``load_CIFAR10(ROOT)``: ``Xtr, Ytr, Xte, Yte``.

    Parameters
    ----------
    ROOT : path
        The unpacked ``cifar-10-batches-py`` or ``cifar-10-batches-bin`` folder (or the folder
        holding one of them).
    dtype : dtype
        dtype of the images; float64 as in the assignment (``np.uint8`` keeps a quarter of the
        memory).

    Returns
    -------
    Xtr : ndarray (50000, 32, 32, 3)
    Ytr : ndarray (50000,) int64
    Xte : ndarray (10000, 32, 32, 3)
    Yte : ndarray (10000,) int64

    Raises
    ------
    DataError
        A batch is missing, truncated or refused (see :func:`read_cifar_bin`,
        :func:`read_cifar_pickle`).
    """
    folder, names, kind = _batch_names(Path(ROOT))
    reader = read_cifar_bin if kind == "binary" else read_cifar_pickle
    parts = [reader(folder / name) for name in names]
    Xtr = np.concatenate([X for X, _ in parts[:-1]])
    Ytr = np.concatenate([y for _, y in parts[:-1]])
    Xte, Yte = parts[-1]
    return _as_assignment(Xtr, dtype), Ytr, _as_assignment(Xte, dtype), Yte
