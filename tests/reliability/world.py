"""A tmp directory of good and bad input files for the bad-input table (``World``)."""

from __future__ import annotations

import gzip
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from tests.reliability import helpers


@dataclass
class World:
    """Paths of one test's files; ``out`` is the run directory a train case may create."""

    root: Path
    train_csv: Path
    test_csv: Path
    model: Path
    run: Path
    existing_output: Path

    @property
    def out(self) -> Path:
        return self.root / "new_run"

    def file(self, name: str, content: bytes | str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    def train_csv_with(self, row: str, name: str = "bad.csv") -> Path:
        """The good train CSV with its second data row replaced by ``row``."""
        lines = self.train_csv.read_text().splitlines()
        lines[2] = row
        return self.file(name, "\n".join(lines) + "\n")

    def idx_dir(self, name: str) -> Path:
        """A directory with the four 4x4 IDX files (gzip), train and t10k splits."""
        directory = self.root / name
        directory.mkdir()
        helpers.write_idx_pair(directory, "train")
        helpers.write_idx_pair(directory, "t10k", count=10)
        return directory

    def idx_images(self, directory: Path) -> Path:
        return directory / "train-images-idx3-ubyte.gz"

    def rewrite_gz(self, path: Path, transform) -> None:
        path.write_bytes(gzip.compress(transform(gzip.decompress(path.read_bytes()))))

    def run_copy(self, name: str = "run_copy") -> Path:
        target = self.root / name
        shutil.copytree(self.run, target)
        return target


def make_world(root: Path, trained_run: Path) -> World:
    root.mkdir(parents=True, exist_ok=True)
    run = root / "run"
    shutil.copytree(trained_run, run)
    existing = root / "existing.csv"
    existing.write_text("ImageId,Label\n1,0\n")
    return World(
        root=root,
        train_csv=helpers.write_train_csv(root / "train.csv"),
        test_csv=helpers.write_test_csv(root / "test.csv"),
        model=run / "model.npz",
        run=run,
        existing_output=existing,
    )


def idx_header(magic: int, *dims: int) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims)
