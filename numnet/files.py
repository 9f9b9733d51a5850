"""One way to open a path numnet reads: regular files only, and never more bytes than a cap.

Every file numnet reads comes from outside and is untrusted. A FIFO would block a reader forever,
``/dev/zero`` or ``/dev/urandom`` would be read until memory runs out, and a directory fails deep
inside a parser. :func:`open_regular` opens without blocking, checks *the opened file* (``fstat``,
so a path swapped between a check and the open changes nothing) and refuses anything that is not a
regular file with one line naming the path; :func:`read_capped` also refuses a file larger than a
limit before reading it, so memory never grows past the cap.

Readers pass the :class:`~numnet.errors.NumnetError` subclass their callers expect (``DataError``
for data, ``ModelFileError`` for model files, ``ConfigError`` for ``--config``) and a few words
saying what the file is, so the message reads e.g. ``config file /dev/zero is a character device,
not a regular file; give the path of a file``.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from numnet.errors import NumnetError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_MODEL_BYTES",
    "check_regular",
    "new_file_mode",
    "open_regular",
    "read_capped",
    "write_atomic",
]

# A --config TOML file holds a few dozen settings; 1 MiB is far beyond any real one.
MAX_CONFIG_BYTES = 1 << 20
# A model or checkpoint file: weights of models that train on a CPU in NumPy (the default CNN's
# checkpoint is well under 10 MB); 4 GiB bounds what loading a file may ever allocate.
MAX_MODEL_BYTES = 4 * 1024**3

_CHUNK = 1 << 20

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refusal(path: Path, what: str, mode: int, error: type[NumnetError]) -> NumnetError:
    return error(f"{what} {path} is {_kind(mode)}, not a regular file; give the path of a file")


def check_regular(path: str | os.PathLike[str], what: str, error: type[NumnetError]) -> Path:
    """Return ``Path(path)`` if it names an existing regular file (symlinks followed), else raise.

    Raises ``error`` with one line: the path does not exist, or it is a directory, FIFO, device or
    socket.
    """
    target = Path(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        raise error(f"{what} {target} does not exist; check the path") from None
    except OSError as exc:
        raise error(f"cannot read {what} {target}: {exc.strerror}; check the path") from None
    if not stat.S_ISREG(mode):
        raise _refusal(target, what, mode, error)
    return target


def open_regular(path: str | os.PathLike[str], what: str, error: type[NumnetError]) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file, else raise ``error`` (one line).

    The file is opened with ``O_NONBLOCK`` (so opening a FIFO returns at once instead of waiting
    for a writer) and the open descriptor is checked with ``fstat``; the returned file object is an
    ordinary blocking binary reader.
    """
    target = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags)
    except FileNotFoundError:
        raise error(f"{what} {target} does not exist; check the path") from None
    except IsADirectoryError:
        msg = f"{what} {target} is a directory, not a regular file; give the path of a file"
        raise error(msg) from None
    except OSError as exc:
        raise error(f"cannot read {what} {target}: {exc.strerror}; check the path") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _refusal(target, what, mode, error)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(
    path: str | os.PathLike[str], what: str, error: type[NumnetError], limit: int
) -> bytes:
    """All bytes of the regular file ``path``, refusing (before reading) a file over ``limit``.

    The size is checked on the open descriptor and the read itself stops at ``limit + 1`` bytes, so
    a file that grows while it is read cannot make numnet allocate more than the cap either.
    """
    with open_regular(path, what, error) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise error(
                f"{what} {path} is {size} bytes, more than the {limit}-byte limit for such a "
                "file; check that this is the right file"
            )
        parts: list[bytes] = []
        total = 0
        try:
            # chunks: read(n) allocates n bytes up front, so read(limit + 1) would itself take
            # the whole cap however small the file is
            while total <= limit:
                chunk = handle.read(min(_CHUNK, limit + 1 - total))
                if not chunk:
                    break
                parts.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise error(f"cannot read {what} {path}: {exc.strerror}; check the file") from None
        data = b"".join(parts)
    if len(data) > limit:
        raise error(f"{what} {path} grew past the {limit}-byte limit while it was read; try again")
    return data


def new_file_mode() -> int:
    """The mode a new file gets from ``open()``: ``0o666`` less the process's umask (0644 usually).

    ``tempfile.mkstemp`` creates its files 0600 whatever the umask; numnet's atomic writes give
    the finished file this mode instead, like every other tool.
    """
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask: read from ``/proc`` on Linux (no change, so safe with threads), else
    by setting and at once restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(handle)`` on a temporary file beside ``target``, then rename it over ``target``.

    The temporary file is flushed and fsync'ed before ``os.replace``, so ``target`` holds either
    its old content or all of the new one; on any error the temporary file is removed and
    ``target`` is left as it was. The new file's mode is :func:`new_file_mode` (0644 under the
    usual umask 022). The caller checks that the directory exists.
    """
    path = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), new_file_mode())  # not mkstemp's 0600 once renamed
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
