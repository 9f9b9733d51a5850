"""Model and checkpoint files: one ``.npz`` of plain arrays plus JSON metadata, never pickle.

File layout (``docs/design.md``, "Serialisation")
-------------------------------------------------
A numnet file is a NumPy ``.npz`` archive holding

* ``params/NAME``       trainable parameters (``W1``, ``b1``, ``gamma1``, ...),
* ``buffers/NAME``      non-trainable state (batchnorm ``running_mean1``, ...),
* ``optim/KEY``         optimizer state (checkpoints only; ``numnet.optim.state_to_arrays``),
* ``best_params/NAME``, ``best_buffers/NAME``  the best-so-far weights (checkpoints only),
* ``__numnet__``        a ``uint8`` array holding UTF-8 JSON metadata: ``format``,
  ``numnet_version``, ``kind`` (``"model"`` or ``"checkpoint"``), ``model_config``, and for models
  the user's ``metadata`` (e.g. ``preprocessing``, ``class_names``); for checkpoints the solver's
  state (epoch, iteration, RNG states, histories, run configuration).

Every write is atomic: the archive goes to a temporary file in the destination directory, is
fsync'ed and then renamed over the final name with ``os.replace``, so an interrupted write never
leaves a partial file under the final name. Every read uses ``np.load(..., allow_pickle=False)``;
anything that is not a well-formed numnet file raises :class:`~numnet.errors.ModelFileError` with a
one-line message. Any array holding NaN or Inf (optimizer state included) is refused on write and
on read, so a diverged run can never produce a model file full of NaN.

The file is opened through :func:`numnet.files.open_regular` (a FIFO or device is refused, the size
is capped at :data:`numnet.files.MAX_MODEL_BYTES`), and the values inside it are checked by
:mod:`numnet.file_values` as soon as the JSON is parsed: every metadata field's type, and the model
config against the stored weights, before any model is built from it.
"""

from __future__ import annotations

import json
import math
import os
import struct
import warnings
import zipfile
import zlib
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from numnet._version import __version__
from numnet.errors import ModelFileError
from numnet.file_values import check_config_size, check_metadata
from numnet.files import MAX_MODEL_BYTES, open_regular, write_atomic

FORMAT_VERSION = 1
META_KEY = "__numnet__"
ARRAY_GROUPS = ("params", "buffers", "optim", "best_params", "best_buffers")

__all__ = [
    "FORMAT_VERSION",
    "save_model",
    "load_model",
    "read_header",
    "save_checkpoint",
    "load_checkpoint",
    "config_difference",
    "assign_arrays",
]


# --------------------------------------------------------------------------------------------------
# low level: atomic write, safe read
# --------------------------------------------------------------------------------------------------


def _json_default(obj: Any) -> Any:
    """Make NumPy scalars and small arrays JSON-serialisable; refuse anything else."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple | set):
        return list(obj)
    raise TypeError(f"metadata value of type {type(obj).__name__} is not JSON-serialisable")


def encode_metadata(meta: Mapping[str, Any]) -> np.ndarray:
    """Return ``meta`` as a ``uint8`` array of UTF-8 JSON (the ``__numnet__`` entry)."""
    text = json.dumps(meta, default=_json_default, sort_keys=True)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def _fsync_directory(directory: Path) -> None:
    """Best-effort fsync of a directory so the rename itself is durable (no-op where
    unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_savez(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as an uncompressed ``.npz``, atomically.

    The archive is written to a temporary file in the same directory, flushed and fsync'ed, then
    renamed over ``path`` with ``os.replace``. On any error the temporary file is removed and
    ``path`` is left as it was. ``path`` is used exactly as given (no ``.npz`` suffix is appended).
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(
            f"cannot write {target}: directory {directory} does not exist; create it first"
        )
    for key, value in arrays.items():
        if np.asarray(value).dtype.hasobject:
            raise TypeError(
                f"array {key!r} has dtype object; numnet files hold numeric arrays only"
            )
    write_atomic(
        directory / target.name,
        lambda handle: np.savez(handle, **{k: np.asarray(v) for k, v in arrays.items()}),
    )
    _fsync_directory(directory)


_NPY_SUFFIX = ".npy"
_MAX_DEFLATE_RATIO = 1100  # deflate cannot expand data more than ~1032x; anything above is forged
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
_UNREADABLE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    OverflowError,
    MemoryError,
    struct.error,
    Warning,
)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _pickle_refusal(target: Path) -> ModelFileError:
    return ModelFileError(
        f"{target} contains pickled or object data, which numnet refuses to load "
        "(it could run arbitrary code); re-save it with numnet.save_model"
    )


def _check_member(
    target: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, disk_size: int
) -> None:
    """Check one archive member's ``.npy`` header against its stored size, before any allocation.

    A forged header may declare a terabyte-sized array in a few bytes; ``np.load`` would allocate it
    before noticing the data is missing. Raises ModelFileError for any inconsistency.
    """
    name = info.filename
    if info.is_dir() or not name.endswith(_NPY_SUFFIX):
        raise ModelFileError(
            f"{target} holds an entry {name!r} that is not a .npy array; numnet files hold arrays "
            "only, re-create it with numnet"
        )
    if info.compress_type == zipfile.ZIP_STORED:
        size_ok = info.file_size == info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        size_ok = info.file_size <= _MAX_DEFLATE_RATIO * info.compress_size + 4096
    else:
        raise ModelFileError(
            f"{target}: entry {name!r} uses zip compression method {info.compress_type}, which "
            "numnet does not write (only stored or deflated); re-create the file with numnet"
        )
    plausible = size_ok and info.compress_size <= disk_size
    if not plausible:
        raise ModelFileError(
            f"{target} is corrupt (entry {name!r} declares {info.file_size} bytes in a "
            f"{disk_size}-byte file); re-create or re-download it"
        )
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        reader = _HEADER_READERS.get(version)
        if reader is None:
            raise ModelFileError(
                f"{target}: entry {name!r} has .npy format version {version}, which numnet does "
                "not write; re-create the file with numnet"
            )
        shape, _, dtype = reader(member)
        header_bytes = member.tell()
    if dtype.hasobject:
        raise _pickle_refusal(target)
    if any(int(dim) < 0 for dim in shape):
        raise ModelFileError(
            f"{target}: entry {name!r} declares the invalid shape {shape}; re-create the file"
        )
    declared = math.prod(int(dim) for dim in shape) * dtype.itemsize
    if declared != info.file_size - header_bytes:
        raise ModelFileError(
            f"{target}: entry {name!r} declares shape {shape} ({declared} bytes) but holds "
            f"{info.file_size - header_bytes} bytes; the file is truncated or forged, re-create it"
        )


def _read_arrays(target: Path, handle: BinaryIO, disk_size: int) -> dict[str, np.ndarray]:
    """Every array of the archive ``target`` (open as ``handle``), each header checked before it
    is read."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. numpy's Python-2 header warning: not a numnet file
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            for info in archive.infolist():
                _check_member(target, archive, info, disk_size)
        arrays: dict[str, np.ndarray] = {}
        handle.seek(0)
        with np.load(handle, allow_pickle=False) as archive:
            for key in archive.files:
                value = archive[key]
                if not isinstance(value, np.ndarray):
                    raise ModelFileError(f"{target}: entry {key!r} is not an array; re-create it")
                arrays[key] = value
    return arrays


def _read_npz(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a numnet ``.npz``: return ``(metadata, arrays)`` or raise a one-line ModelFileError."""
    target = Path(path)
    if not target.exists():
        raise ModelFileError(f"model file {target} does not exist; check the path")
    if target.is_dir():
        raise ModelFileError(f"{target} is a directory, not a numnet .npz file; give the file path")
    with open_regular(target, "model file", ModelFileError) as handle:
        return _read_open_npz(target, handle)


def _read_open_npz(target: Path, handle: BinaryIO) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """:func:`_read_npz` on the open regular file ``handle`` (every read goes through it)."""
    disk_size = os.fstat(handle.fileno()).st_size
    if disk_size > MAX_MODEL_BYTES:
        raise ModelFileError(
            f"model file {target} is {disk_size} bytes, more than numnet's {MAX_MODEL_BYTES}-byte "
            "limit for model and checkpoint files; check that this is the right file"
        )
    magic = handle.read(6)
    if not magic:
        raise ModelFileError(f"{target} is empty (a truncated write?); re-create it with numnet")
    if magic.startswith(b"\x93NUMPY"):
        raise ModelFileError(
            f"{target} is a single .npy array, not a numnet .npz file; "
            "save models with numnet.save_model"
        )
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise ModelFileError(
            f"{target} is not an .npz archive (unknown or pickle format); numnet reads only files "
            "written by numnet.save_model"
        )
    try:
        arrays = _read_arrays(target, handle, disk_size)
    except ModelFileError:
        raise
    except _UNREADABLE as exc:
        if "pickle" in str(exc).lower() or "object arrays" in str(exc).lower():
            raise _pickle_refusal(target) from exc
        raise ModelFileError(
            f"{target} is truncated or corrupt ({type(exc).__name__}: {_one_line(exc)[:200]}); "
            "re-create or re-download it"
        ) from exc
    if META_KEY not in arrays:
        raise ModelFileError(
            f"{target} is not a numnet file (no '{META_KEY}' metadata entry); "
            "save models with numnet.save_model"
        )
    raw = arrays.pop(META_KEY)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(
            f"{target} has a malformed '{META_KEY}' entry (expected uint8 JSON bytes); "
            "re-create the file with numnet"
        )
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(
            f"{target} has corrupt metadata (bad JSON: {exc}); re-create the file with numnet"
        ) from exc
    if not isinstance(meta, dict):
        raise ModelFileError(f"{target} has metadata that is not a JSON object; re-create the file")
    if meta.get("format") != FORMAT_VERSION:
        raise ModelFileError(
            f"{target} has numnet file format {meta.get('format')!r}, this numnet reads format "
            f"{FORMAT_VERSION}; re-save it with numnet {__version__}"
        )
    if meta.get("kind") not in ("model", "checkpoint"):
        raise ModelFileError(
            f"{target} has unknown kind {meta.get('kind')!r} (expected 'model' or 'checkpoint')"
        )
    if not isinstance(meta.get("model_config"), dict):
        raise ModelFileError(f"{target} has no model_config in its metadata; re-create the file")
    check_metadata(target, meta)
    check_config_size(target, meta["model_config"], arrays)
    for key, value in arrays.items():
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            raise ModelFileError(
                f"{target}: array {key} holds NaN or Inf values; the file is from a diverged run, "
                "retrain with a lower learning rate"
            )
    return meta, arrays


def _group(arrays: Mapping[str, np.ndarray], group: str) -> dict[str, np.ndarray]:
    """The arrays stored under ``group/``, keyed by the rest of their name."""
    prefix = group + "/"
    return {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}


def _check_finite(group: str, arrays: Mapping[str, Any]) -> None:
    """Refuse to write NaN/Inf in any array (raises ModelFileError naming the array)."""
    for name, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            raise ModelFileError(
                f"refusing to save {group}/{name}: it holds NaN or Inf values (training diverged); "
                "lower the learning rate and retrain"
            )


def _to_numpy(value: Any) -> np.ndarray:
    """A host NumPy copy of ``value`` (works for CuPy arrays too)."""
    getter = getattr(value, "get", None)
    if callable(getter) and not isinstance(value, np.ndarray):
        value = getter()
    return np.array(value, copy=True)


# --------------------------------------------------------------------------------------------------
# helpers shared with the Solver
# --------------------------------------------------------------------------------------------------


def assign_arrays(
    target: MutableMapping[str, Any], source: Mapping[str, np.ndarray], what: str
) -> None:
    """Copy ``source`` into ``target`` in place, after checking names, shapes and dtypes.

    In-place copies keep any views a model holds on its parameters valid. Raises
    :class:`ModelFileError` naming the first missing, unexpected or mismatched entry.
    """
    missing = sorted(set(target) - set(source))
    unexpected = sorted(set(source) - set(target))
    if missing:
        raise ModelFileError(f"{what} is missing {missing}; the file does not match this model")
    if unexpected:
        raise ModelFileError(f"{what} has unexpected entries {unexpected}; it is for another model")
    for name, value in source.items():
        current = target[name]
        if tuple(current.shape) != tuple(value.shape):
            raise ModelFileError(
                f"{what}: {name} has shape {tuple(value.shape)} in the file but "
                f"{tuple(current.shape)} in the model; the file is for another architecture"
            )
        if current.dtype != value.dtype:
            raise ModelFileError(
                f"{what}: {name} has dtype {value.dtype} in the file but {current.dtype} in the "
                "model; rebuild the model with the file's dtype"
            )
    for name, value in source.items():
        current = target[name]
        if isinstance(current, np.ndarray) and current.flags.writeable:
            np.copyto(current, value)
        else:
            target[name] = value.copy()


def config_difference(saved: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """Describe the first difference between two model configs, or ``None`` when they match.

    Values are compared after a JSON round trip, so tuples and lists compare equal.
    """
    saved_norm = json.loads(json.dumps(saved, default=_json_default, sort_keys=True))
    current_norm = json.loads(json.dumps(current, default=_json_default, sort_keys=True))
    for key in sorted(set(saved_norm) | set(current_norm)):
        if key not in current_norm:
            return f"{key!r} is {saved_norm[key]!r} in the file but absent from the model"
        if key not in saved_norm:
            return f"{key!r} is {current_norm[key]!r} in the model but absent from the file"
        if saved_norm[key] != current_norm[key]:
            return (
                f"{key!r} is {saved_norm[key]!r} in the file but {current_norm[key]!r} in the model"
            )
    return None


def _mapping_or_empty(model: Any, attribute: str) -> Mapping[str, Any]:
    """``model.params`` / ``model.buffers``, or an empty mapping when the model has none."""
    value = getattr(model, attribute, None)
    return value if value is not None else {}


def _header(kind: str, model_config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "numnet_version": __version__,
        "kind": kind,
        "model_config": dict(model_config),
    }


# --------------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------------


def save_model(
    path: str | os.PathLike[str], model: Any, metadata: Mapping[str, Any] | None = None
) -> None:
    """Save ``model``'s parameters, buffers and config to ``path`` (atomic ``.npz``).

    Parameters
    ----------
    path : str or PathLike
        Destination file, used exactly as given (conventionally ending in ``.npz``).
    model : model
        Has ``params`` (mapping name -> array), optionally ``buffers``, and ``get_config()``.
    metadata : dict, optional
        JSON-serialisable extras returned by :func:`load_model`, e.g. ``{"preprocessing": {...},
        "class_names": [...]}``.

    Raises
    ------
    ModelFileError
        If a parameter or buffer holds NaN/Inf, or the directory does not exist.
    """
    if not hasattr(model, "get_config"):
        raise TypeError(f"{type(model).__name__} has no get_config(); save a numnet model")
    params = {name: _to_numpy(value) for name, value in model.params.items()}
    buffers = {
        name: _to_numpy(value) for name, value in _mapping_or_empty(model, "buffers").items()
    }
    _check_finite("params", params)
    _check_finite("buffers", buffers)
    meta = _header("model", model.get_config())
    meta["metadata"] = dict(metadata or {})
    arrays = {META_KEY: encode_metadata(meta)}
    arrays.update({f"params/{name}": value for name, value in params.items()})
    arrays.update({f"buffers/{name}": value for name, value in buffers.items()})
    atomic_savez(path, arrays)


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the JSON metadata of a numnet model or checkpoint file (validated, no model built)."""
    meta, _ = _read_npz(path)
    return meta


def load_model(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Rebuild a model from a file written by :func:`save_model` (or a checkpoint).

    The model is rebuilt with ``numnet.models.build_model(model_config)`` and every stored parameter
    and buffer is checked against it (name, shape, dtype) before being copied in.

    Returns
    -------
    model : model
        The rebuilt model with the saved weights.
    metadata : dict
        The ``metadata`` given to :func:`save_model` (for a checkpoint: its ``metadata`` entry, or
        ``{}``).

    Raises
    ------
    ModelFileError
        Missing file; truncated/corrupt archive; not a numnet file (no ``__numnet__`` entry, bad
        JSON, wrong format version); pickled/object arrays; NaN/Inf weights; parameters that do not
        match the model the config describes.
    """
    from numnet.errors import ConfigError
    from numnet.models import build_model

    meta, arrays = _read_npz(path)
    try:
        model = build_model(meta["model_config"])
    except (ConfigError, TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(
            f"{path}: cannot rebuild the model from its stored config ({exc}); "
            "the file was written by an incompatible numnet"
        ) from exc
    assign_arrays(model.params, _group(arrays, "params"), f"{path} parameters")
    buffers = getattr(model, "buffers", None)
    stored_buffers = _group(arrays, "buffers")
    if buffers is not None:
        assign_arrays(buffers, stored_buffers, f"{path} buffers")
    elif stored_buffers:
        raise ModelFileError(
            f"{path} has buffers but the rebuilt model has none; it does not match"
        )
    return model, dict(meta.get("metadata", {}))


# --------------------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------------------


def save_checkpoint(path: str | os.PathLike[str], state: Mapping[str, Any]) -> None:
    """Write a training checkpoint (atomic ``.npz``).

    Parameters
    ----------
    path : str or PathLike
        Destination file.
    state : dict
        As returned by ``Solver.state_dict()``: array groups ``params``, ``buffers``, ``optim``,
        ``best_params``, ``best_buffers`` (each a mapping name -> array, all optional but
        ``params``) and ``meta`` (a JSON-serialisable dict that must include ``model_config``).

    Raises
    ------
    ModelFileError
        If any weight holds NaN/Inf (a checkpoint of a diverged model is never written).
    """
    meta = dict(state.get("meta", {}))
    if "model_config" not in meta:
        raise ValueError("checkpoint state['meta'] must include 'model_config'")
    header = _header("checkpoint", meta.pop("model_config"))
    for key in header:
        meta.pop(key, None)
    header.update(meta)
    arrays: dict[str, np.ndarray] = {META_KEY: encode_metadata(header)}
    for group in ARRAY_GROUPS:
        values = {name: _to_numpy(value) for name, value in dict(state.get(group) or {}).items()}
        _check_finite(group, values)  # optimizer state too: nothing non-finite is written
        arrays.update({f"{group}/{name}": value for name, value in values.items()})
    atomic_savez(path, arrays)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns
    -------
    dict
        ``{"params", "buffers", "optim", "best_params", "best_buffers"}`` (mappings name -> array)
        and ``"meta"`` (the JSON metadata, including ``model_config``).

    Raises
    ------
    ModelFileError
        For every unreadable-file case of :func:`load_model`, and for a model (not checkpoint) file.
    """
    meta, arrays = _read_npz(path)
    if meta["kind"] != "checkpoint":
        raise ModelFileError(
            f"{path} is a model file, not a training checkpoint; resume from last.npz or best.npz "
            "written by the Checkpoint callback"
        )
    state: dict[str, Any] = {group: _group(arrays, group) for group in ARRAY_GROUPS}
    state["meta"] = meta
    return state
