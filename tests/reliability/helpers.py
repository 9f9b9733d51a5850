"""Tiny data, model and checkpoint files for the reliability tests, written into a tmp directory."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from numnet.cli import main as cli_main
from numnet.data import write_idx
from numnet.models import FullyConnectedNet
from numnet.serialization import META_KEY, encode_metadata, save_model

SIDE = 4
NUM_PIXELS = SIDE * SIDE
NUM_CLASSES = 3


def pixel_header(num_pixels: int = NUM_PIXELS) -> str:
    return ",".join(f"pixel{k}" for k in range(num_pixels))


def write_train_csv(path: Path, rows: int = 60, seed: int = 0) -> Path:
    """A Kaggle-format train CSV of ``rows`` random 4x4 images with labels 0..2."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(rows, NUM_PIXELS))
    labels = np.arange(rows) % NUM_CLASSES
    lines = ["label," + pixel_header()]
    lines += [f"{label}," + ",".join(map(str, row)) for label, row in zip(labels, pixels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_test_csv(path: Path, rows: int = 10, seed: int = 1, num_pixels: int = NUM_PIXELS) -> Path:
    """A Kaggle-format test CSV (no label column)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(rows, num_pixels))
    lines = [pixel_header(num_pixels)] + [",".join(map(str, row)) for row in pixels]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_idx_pair(directory: Path, split: str, count: int = 20, labels: int | None = None) -> None:
    """Write ``{split}-images-idx3-ubyte.gz`` and ``{split}-labels-idx1-ubyte.gz`` (4x4 images)."""
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(count, SIDE, SIDE), dtype=np.uint8)
    label_values = (np.arange(count if labels is None else labels) % NUM_CLASSES).astype(np.uint8)
    for kind, array in (("images-idx3", images), ("labels-idx1", label_values)):
        raw = directory / f"{split}-{kind}-ubyte"
        write_idx(raw, array)
        (directory / f"{split}-{kind}-ubyte.gz").write_bytes(gzip.compress(raw.read_bytes()))
        raw.unlink()


def write_model(path: Path, input_dim: int = NUM_PIXELS, seed: int = 0) -> Path:
    """A valid numnet model file written through the public API."""
    model = FullyConnectedNet([5], input_dim=input_dim, num_classes=NUM_CLASSES, seed=seed)
    save_model(path, model, metadata={"class_names": ["a", "b", "c"]})
    return path


def train_run(out_dir: Path, data: Path, *extra: str) -> int:
    """Run ``numnet train`` quietly on ``data`` with a tiny MLP, returning the exit code."""
    argv = ["train", "--data", str(data), "--hidden-dims", "8", "--epochs", "1", "--batch-size"]
    argv += ["16", "--out-dir", str(out_dir), "--quiet", "--seed", "0", *extra]
    return cli_main(argv)


def snapshot(directory: Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory`` (relative path -> digest)."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


class PicklePayload:
    """Unpickling this object creates ``marker`` (opens it for writing): proof that pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickled_object_array(marker: Path) -> np.ndarray:
    array = np.empty(1, dtype=object)
    array[0] = PicklePayload(marker)
    return array


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` archive of ``arrays`` as bytes; object arrays are pickled (np.save's default)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, value in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, value, allow_pickle=True)
            archive.writestr(key + ".npy", member.getvalue())
    return buffer.getvalue()


def malicious_files(directory: Path, valid_model: Path, marker: Path) -> dict[str, Path]:
    """Crafted files carrying a pickle payload that would create ``marker`` if unpickled.

    * ``param``: a valid numnet model whose ``params/W1`` was replaced by a pickled object array,
    * ``meta``: an .npz whose ``__numnet__`` metadata entry is a pickled object array,
    * ``raw``: a bare pickle stream named ``.npz``,
    * ``npy``: a single ``.npy`` holding a pickled object array.
    """
    with np.load(valid_model, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["params/W1"] = pickled_object_array(marker)
    files = {
        "param": directory / "evil_param.npz",
        "meta": directory / "evil_meta.npz",
        "raw": directory / "evil_raw.npz",
        "npy": directory / "evil.npy",
    }
    files["param"].write_bytes(npz_bytes(arrays))
    files["meta"].write_bytes(npz_bytes({META_KEY: pickled_object_array(marker)}))
    files["raw"].write_bytes(pickle.dumps(PicklePayload(marker)))
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, pickled_object_array(marker), allow_pickle=True)
    files["npy"].write_bytes(buffer.getvalue())
    return files


def metadata_array(meta: dict) -> np.ndarray:
    return encode_metadata(meta)
