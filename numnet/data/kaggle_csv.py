"""Kaggle digit-recognizer CSV files: ``train.csv``, ``test.csv`` and the submission file.

``train.csv`` has the header ``label,pixel0,...,pixel783`` and ``test.csv`` the header
``pixel0,...,pixel783``; any number P of pixel columns is accepted as long as P is a perfect square
(pixel k is row ``k // side``, column ``k % side``).

Parsing is fast and strict: rows are checked for their comma count, then parsed in blocks with
NumPy's C number parser. Only when a block fails does a slow line-by-line pass run, to report the
first bad line by number.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from numnet.data.validate import MAX_CLASSES
from numnet.errors import DataError
from numnet.files import read_capped, write_atomic

_BLOCK_ROWS = 2048
# Largest CSV file numnet reads (Kaggle's train.csv is 73 MB); the same bound as an IDX payload.
MAX_CSV_BYTES = 4 * 1024**3
_NUMBER = re.compile(rb"[ \t]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[ \t]*")
_DIGITS_AND_COMMA = b"0123456789,"


def _parse_header(path: Path, header: bytes, require_labels: bool) -> tuple[bool, int]:
    """Return ``(has_labels, num_pixels)`` from the header line, or raise DataError."""
    expected_hint = "expected 'label,pixel0,...' (train) or 'pixel0,...' (test)"
    try:
        text = header.decode("ascii")
    except UnicodeDecodeError:
        raise DataError(f"{path}: line 1: header is not ASCII text; {expected_hint}") from None
    names = [name.strip().strip('"') for name in text.split(",")]
    has_labels = names[0] == "label"
    pixels = names[1:] if has_labels else names
    if not pixels or not pixels[0].startswith("pixel"):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise DataError(f"{path}: line 1: missing or wrong header {shown!r}; {expected_hint}")
    for k, name in enumerate(pixels):
        if name != f"pixel{k}":
            column = k + 1 + has_labels
            raise DataError(
                f"{path}: line 1: header column {column} is {name!r}, expected 'pixel{k}'; "
                "fix the header (pixel columns must be pixel0..pixelP-1 in order)"
            )
    side = math.isqrt(len(pixels))
    if side * side != len(pixels):
        raise DataError(
            f"{path}: line 1: {len(pixels)} pixel columns do not form a square image; "
            "the header must list side*side pixel columns (784 for 28x28)"
        )
    if require_labels and not has_labels:
        raise DataError(
            f"{path}: this is a test CSV (no 'label' column) but labelled training data is "
            "needed; pass the train.csv file"
        )
    return has_labels, len(pixels)


def _describe_line_problem(line: bytes, num_columns: int, names: list[str]) -> str | None:
    """Return what is wrong with the format of one data line, or None if it is well formed."""
    cells = line.split(b",")
    if len(cells) != num_columns:
        return f"has {len(cells)} columns, expected {num_columns}"
    for column, cell in enumerate(cells):
        if not cell.strip():
            return f"empty cell in column {names[column]!r}"
        if _NUMBER.fullmatch(cell) is None:
            shown = cell.decode("ascii", errors="replace")[:20]
            return f"non-numeric cell {shown!r} in column {names[column]!r}"
    return None


class _CsvReader:
    """Parse the data lines of one file into preallocated arrays; keeps the context for errors."""

    def __init__(self, path: Path, lines: list[bytes], has_labels: bool, num_pixels: int) -> None:
        self.path = path
        self.lines = lines
        self.has_labels = has_labels
        self.num_pixels = num_pixels
        self.num_columns = num_pixels + has_labels
        self.names = (["label"] if has_labels else []) + [f"pixel{k}" for k in range(num_pixels)]

    def fail(self, row: int, problem: str) -> DataError:
        """A DataError for data row ``row`` (line ``row + 2`` of the file)."""
        return DataError(f"{self.path}: line {row + 2}: {problem}; fix or remove this line")

    def check_format(self, start: int, stop: int) -> None:
        """Raise for the first malformed line in ``lines[start:stop]``."""
        for row in range(start, stop):
            problem = _describe_line_problem(self.lines[row], self.num_columns, self.names)
            if problem is not None:
                raise self.fail(row, problem)

    def check_column_counts(self) -> None:
        counts = np.fromiter((line.count(b",") for line in self.lines), np.int64, len(self.lines))
        bad = np.flatnonzero(counts != self.num_columns - 1)
        if bad.size:
            self.check_format(int(bad[0]), int(bad[0]) + 1)

    def parse_block(self, start: int, stop: int) -> np.ndarray:
        """Values of rows ``start:stop`` as an ``(rows, columns)`` int64 or float64 array.

        Plain digits and commas (Kaggle's own files) go straight to NumPy's integer parser. Anything
        else is first checked cell by cell (over the distinct cell strings, which are few), because
        NumPy's parser silently reads a blank cell as 0 or -1.
        """
        text = b",".join(self.lines[start:stop])
        want = (stop - start) * self.num_columns
        canonical = (
            not text.translate(None, _DIGITS_AND_COMMA)
            and b",," not in text
            and not text.startswith(b",")
            and not text.endswith(b",")
        )
        if canonical:
            dtype: type = np.int64
        else:
            if any(_NUMBER.fullmatch(cell) is None for cell in set(text.split(b","))):
                self.check_format(start, stop)
            dtype = np.float64
        try:
            values = np.fromstring(text, dtype=dtype, sep=",")
        except ValueError:
            values = np.empty(0)
        if values.size == want:
            return values.reshape(stop - start, self.num_columns)
        self.check_format(start, stop)
        raise DataError(
            f"{self.path}: lines {start + 2}-{stop + 1}: cannot parse the numbers; "
            "check these lines for stray characters"
        )

    def check_values(self, block: np.ndarray, start: int, num_classes: int | None) -> None:
        """Raise for the first label or pixel value out of range in a parsed block."""
        pixels = block[:, self.has_labels :]
        bad_pixel = ~((pixels >= 0) & (pixels <= 255))
        bad_rows = np.flatnonzero(bad_pixel.any(axis=1))
        label_problem_rows = np.empty(0, dtype=np.int64)
        if self.has_labels:
            labels = block[:, 0]
            bad_label = ~(labels >= 0) | (labels != np.floor(labels))
            bad_label |= labels >= (MAX_CLASSES if num_classes is None else num_classes)
            label_problem_rows = np.flatnonzero(bad_label)
        rows = np.union1d(bad_rows, label_problem_rows)
        if rows.size == 0:
            return
        row = int(rows[0])
        self.check_format(start + row, start + row + 1)  # e.g. a blank cell NumPy read as -1
        if row in label_problem_rows:
            label = block[row, 0]
            # the cell as written: a float64 cannot show 1e400 or a 25-digit integer faithfully
            text = self.lines[start + row].split(b",", 1)[0].strip().decode("ascii", "replace")
            if label < 0:
                problem = f"negative label {text}"
            elif num_classes is None and not label < MAX_CLASSES:
                problem = (
                    f"label {text} is beyond numnet's limit of {MAX_CLASSES} classes "
                    f"(0-{MAX_CLASSES - 1})"
                )
            elif num_classes is not None and not label < num_classes:
                last = num_classes - 1
                problem = f"label {text} is beyond the {num_classes} classes (0-{last})"
            else:
                problem = f"label {text} is not an integer class index"
            raise self.fail(start + row, problem)
        column = int(np.flatnonzero(bad_pixel[row])[0])
        value = pixels[row, column]
        raise self.fail(start + row, f"pixel{column} = {value:g} is outside 0-255")


def read_kaggle_csv(
    path: str | os.PathLike[str], require_labels: bool = False, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a Kaggle digit-recognizer CSV (train or test, told apart by the header).

    Parameters
    ----------
    path : str or PathLike
        ``train.csv`` (header ``label,pixel0,...``) or ``test.csv`` (header ``pixel0,...``).
    require_labels : bool
        Raise DataError if the file has no ``label`` column.
    num_classes : int, optional
        If given, labels must lie in ``[0, num_classes)``.

    Returns
    -------
    X : ndarray, shape (N, P)
        Pixels, uint8 when every value is an integer (as in Kaggle's files), else float32; P is a
        perfect square (784).
    y : ndarray of int64, shape (N,), or None
        Labels, or None for a test CSV.

    Raises
    ------
    DataError
        Missing or empty file, missing/wrong header, a row with the wrong number of columns, an
        empty or non-numeric cell, a pixel outside 0-255, a negative, fractional or too large label,
        or a test CSV where ``require_labels`` is True. The message names the file and line.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: CSV file not found; check the path")
    raw = read_capped(path, "CSV file", DataError, MAX_CSV_BYTES)
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n")
    raw = raw.rstrip(b"\r\n\t ")
    if not raw:
        raise DataError(f"{path}: the CSV file is empty; expected a Kaggle train.csv or test.csv")
    header, _, body = raw.partition(b"\n")
    has_labels, num_pixels = _parse_header(path, header, require_labels)
    lines = body.split(b"\n") if body else []
    if not lines:
        raise DataError(f"{path}: the CSV file has a header but no data rows; add data rows")
    reader = _CsvReader(path, lines, has_labels, num_pixels)
    reader.check_column_counts()

    X: np.ndarray = np.empty((len(lines), num_pixels), dtype=np.uint8)
    y = np.empty(len(lines), dtype=np.int64) if has_labels else None
    for start in range(0, len(lines), _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, len(lines))
        block = reader.parse_block(start, stop)
        reader.check_values(block, start, num_classes)
        pixels = block[:, has_labels:]
        if X.dtype == np.uint8 and block.dtype.kind == "f" and np.any(pixels != np.floor(pixels)):
            X = X.astype(np.float32)
        X[start:stop] = pixels
        if y is not None:
            y[start:stop] = block[:, 0]
    return X, y


def write_submission(path: str | os.PathLike[str], labels: np.ndarray) -> None:
    """Write a Kaggle submission ``ImageId,Label`` (ImageId from 1), atomically.

    Parameters
    ----------
    path : str or PathLike
        Destination CSV; written to a temporary file in the same directory, then renamed.
    labels : ndarray of int, shape (N,)
        Predicted class of each test row, in the order of ``test.csv``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array, got dtype {labels.dtype}")
    if labels.size and int(labels.min()) < 0:
        raise ValueError(f"labels must be non-negative class indices, got {int(labels.min())}")
    rows = "".join(f"{i},{label}\n" for i, label in enumerate(labels.tolist(), start=1))
    _write_text(Path(path), "ImageId,Label\n" + rows)


def write_probabilities(
    path: str | os.PathLike[str], probabilities: np.ndarray, class_names: list[str]
) -> None:
    """Write class probabilities ``ImageId,<class name>,...`` (ImageId from 1), atomically.

    One column per class, in the model's class order, each value with 9 significant digits; the
    Kaggle layout of a probability submission, and a scores file for ensembling.

    Parameters
    ----------
    path : str or PathLike
        Destination CSV.
    probabilities : ndarray of float, shape (N, K)
        Each row a distribution over the K classes.
    class_names : list of str, length K
        Column headers; a name holding a comma or a quote is quoted as CSV requires.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(class_names):
        raise ValueError(
            f"probabilities must have shape (N, {len(class_names)}), got {probabilities.shape}"
        )
    header = ",".join(["ImageId", *(_csv_field(str(name)) for name in class_names)])
    lines = [header]
    for i, row in enumerate(probabilities.tolist(), start=1):
        lines.append(",".join([str(i), *(f"{value:.9g}" for value in row)]))
    _write_text(Path(path), "\n".join(lines) + "\n", encoding="utf-8")


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n\r') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _write_text(path: Path, text: str, encoding: str = "ascii") -> None:
    """Write ``text`` to ``path`` atomically (a temporary file beside it, then a rename)."""
    data = text.encode(encoding)
    write_atomic(path, lambda handle: handle.write(data))
