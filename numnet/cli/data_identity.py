"""The identity of a run's training data, stored in the run and checked by ``--resume``.

The model file keeps it too (``metadata["data_identity"]``): ``numnet evaluate`` recognises the
training data by content with it and never reports a score on them as a test score.

A run started with ``--data train.csv`` resumed from another working directory would otherwise
read whatever file has that name there and silently train the rest on other data. So a run
stores, for every file its data come from, the absolute path, the size and a SHA-256 of the
content (read in 1 MiB blocks, never whole), and ``--resume`` refuses data whose content differs.

The files are the ones :func:`numnet.data.load_dataset` reads: the CSV given as ``--data``; in a
directory given as ``--data``, its four IDX files or its ``train.csv`` (and ``test.csv``); for
``mnist`` / ``fashion-mnist``, the four IDX files in the first directory searched that holds
them; for ``digits``, the asset bundled with numnet. The content decides, not the path: data
moved elsewhere (same content) still resume.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path
from typing import Any

from numnet.errors import ConfigError

BLOCK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


def data_files(data: str, data_dir: str | None) -> list[Path]:
    """The files ``load_dataset(data, data_dir)`` reads, in a fixed order ([] when none found).

    Mirrors the loader's lookup; when it finds nothing the loader itself reports the problem.
    """
    from numnet.data import datasets

    name = datasets._normalise_name(data)
    if name in datasets.DATASET_NAMES:
        if name == "digits":
            return [Path(datasets.DIGITS_ASSET)]
        for directory in datasets._search_dirs(name, data_dir):
            if directory.is_dir() and datasets._has_idx_files(directory):
                return _idx_files(directory)
        return []
    path = Path(data)
    if path.is_file():
        return [path]
    if path.is_dir():
        if datasets._has_idx_files(path):
            return _idx_files(path)
        return [p for p in (path / "train.csv", path / "test.csv") if p.is_file()]
    return []


def _idx_files(directory: Path) -> list[Path]:
    from numnet.data import datasets

    found = (
        datasets._idx_file(directory, split, kind)
        for split in ("train", "t10k")
        for kind in ("images", "labels")
    )
    return [p for p in found if p is not None]


def file_sha256(path: Path) -> tuple[int, str]:
    """``(size, sha256 hex)`` of a regular file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ConfigError(f"{path} is not a regular file; give a data file")
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def data_identity(data: str, data_dir: str | None) -> dict[str, Any]:
    """``{"data": data, "files": [{"path", "size", "sha256"}, ...]}`` for the run's metadata."""
    files = []
    for path in data_files(data, data_dir):
        try:
            size, sha = file_sha256(path)
        except OSError:
            continue  # the loader reports an unreadable file in its own words
        files.append({"path": str(path.resolve()), "size": size, "sha256": sha})
    return {"data": data, "files": files}


def check_identity_form(identity: Any, source: str) -> dict[str, Any]:
    """Return ``identity`` read from ``source`` if it has the form :func:`data_identity` gives.

    Raises ``ConfigError`` naming the file, the field and what it held otherwise.
    """
    field = "data_identity"
    if not isinstance(identity, dict) or not isinstance(identity.get("files"), list):
        raise ConfigError(f"{source}: field {field!r} must hold a files list, got {identity!r:.80}")
    for k, entry in enumerate(identity["files"]):
        where = f"{field}.files[{k}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: field {where!r} must be an object, got {entry!r:.80}")
        checks = (
            ("path", isinstance(entry.get("path"), str)),
            ("size", type(entry.get("size")) is int and entry.get("size") >= 0),
            ("sha256", isinstance(entry.get("sha256"), str) and _SHA256.fullmatch(entry["sha256"])),
        )
        for key, ok in checks:
            if not ok:
                raise ConfigError(
                    f"{source}: field '{where}.{key}' is not a valid {key}, "
                    f"got {entry.get(key)!r:.80}"
                )
    return identity


def compare_identity(stored: dict[str, Any], current: dict[str, Any], run_dir: Path) -> None:
    """Raise ``ConfigError`` (one line naming the file and what changed) unless the data match."""
    before, now = stored["files"], current["files"]
    advice = (
        f"resume from the directory the run started in, restore the data, or start a new run "
        f"instead of --resume {run_dir}"
    )
    if len(before) != len(now):
        names = ", ".join(f["path"] for f in before) or "no files"
        raise ConfigError(
            f"--resume {run_dir}: --data {current['data']!r} now reads {len(now)} file(s), the run "
            f"was trained on {len(before)} ({names}); {advice}"
        )
    for old, new in zip(before, now, strict=True):
        if old["sha256"] == new["sha256"] and old["size"] == new["size"]:
            continue
        moved = "" if old["path"] == new["path"] else f" (the run read {old['path']})"
        raise ConfigError(
            f"--resume {run_dir}: {new['path']} differs from the data the run was trained on"
            f"{moved}: size {new['size']} bytes, sha256 {new['sha256'][:12]}..., was "
            f"{old['size']} bytes, sha256 {old['sha256'][:12]}...; {advice}"
        )
