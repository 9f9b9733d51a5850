"""Benchmark data: Fashion-MNIST training images in memory as float32, or random data of that shape.

Order of preference: ``numnet.data.load_dataset("fashion-mnist")``; a direct read of the IDX
files in ``/usr/share/datasets/fashion-mnist/`` (when numnet's loader is not there yet); random data
of the same shape when the files are absent. The chosen source is reported in the output.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
N_TRAIN = 60_000
IMAGE_SHAPE = (1, 28, 28)
NUM_CLASSES = 10


@dataclass
class BenchData:
    """Training images and labels shared by every contender.

    Attributes
    ----------
    images : ndarray, shape (N, 1, 28, 28), float32 in [0, 1]
        C-contiguous; ``images.reshape(N, 784)`` is a view used by the MLP workloads.
    labels : ndarray, shape (N,), int64
    source : str
        Where the data came from ("numnet.data", "idx files", or "random").
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    @property
    def flat(self) -> np.ndarray:
        """Images as rows, shape (N, 784), a view of ``images``."""
        return self.images.reshape(len(self.images), -1)


def _read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes into an array of its declared shape."""
    with gzip.open(path, "rb") as stream:
        raw = stream.read()
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _from_numnet() -> tuple[np.ndarray, np.ndarray] | None:
    """Try numnet's own loader; return (images, labels) or None when it is unavailable."""
    try:
        from numnet.data import load_dataset
    except ImportError:
        return None
    try:
        dataset = load_dataset("fashion-mnist")
    except Exception:  # noqa: BLE001 - any failure means "use the fallback"
        return None
    for x_key, y_key in (("X_train", "y_train"), ("x_train", "y_train")):
        if isinstance(dataset, dict) and x_key in dataset:
            return np.asarray(dataset[x_key]), np.asarray(dataset[y_key])
        if hasattr(dataset, x_key):
            return np.asarray(getattr(dataset, x_key)), np.asarray(getattr(dataset, y_key))
    if isinstance(dataset, tuple) and len(dataset) >= 2 and isinstance(dataset[0], tuple):
        return np.asarray(dataset[0][0]), np.asarray(dataset[0][1])
    return None


def _to_float_images(images: np.ndarray) -> np.ndarray:
    """Return images as C-contiguous float32 (N, 1, 28, 28) in [0, 1]."""
    scale = 1.0 / 255.0 if images.dtype == np.uint8 or images.max() > 1.5 else 1.0
    out = np.ascontiguousarray(images, dtype=np.float32).reshape(len(images), *IMAGE_SHAPE)
    if scale != 1.0:
        out *= np.float32(scale)
    return out


def load_bench_data(
    n: int, rng: np.random.Generator, directory: Path = FASHION_MNIST_DIR
) -> BenchData:
    """Return the first ``n`` training images as float32 plus labels, and where they came from.

    Parameters
    ----------
    n : int
        Number of images (at most 60,000 for the real data).
    rng : np.random.Generator
        Used only for the random fallback.
    directory : Path
        Folder holding the Fashion-MNIST IDX files.
    """
    loaded = _from_numnet()
    source = "numnet.data"
    if (
        loaded is None
        and (directory / TRAIN_IMAGES).exists()
        and (directory / TRAIN_LABELS).exists()
    ):
        loaded = _read_idx(directory / TRAIN_IMAGES), _read_idx(directory / TRAIN_LABELS)
        source = f"idx files in {directory}"
    if loaded is not None:
        images, labels = loaded
        if len(images) >= n:
            return BenchData(
                _to_float_images(images[:n]), np.asarray(labels[:n], dtype=np.int64), source
            )
    images = rng.random((n, *IMAGE_SHAPE), dtype=np.float32)
    labels = rng.integers(0, NUM_CLASSES, size=n, dtype=np.int64)
    return BenchData(images, labels, "random (Fashion-MNIST files absent)")
