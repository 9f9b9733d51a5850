"""Kaggle digit-recognizer CSV reader and submission writer."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.data import read_kaggle_csv, write_submission
from numnet.errors import DataError
from tests.data.csv_files import header, tiny_train, write_csv


def _lines(path):
    return path.read_text().splitlines()


def _replace_line(path, number, text):
    lines = _lines(path)
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


def test_train_csv_round_trip(tmp_path):
    X, y = tiny_train()
    path = write_csv(tmp_path / "train.csv", X, y)
    X2, y2 = read_kaggle_csv(path, require_labels=True, num_classes=10)
    assert X2.dtype == np.uint8 and X2.shape == (6, 9)
    assert y2 is not None and y2.dtype == np.int64
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_test_csv_detected_by_header(tmp_path):
    X, _ = tiny_train()
    X2, y2 = read_kaggle_csv(write_csv(tmp_path / "test.csv", X))
    assert y2 is None
    np.testing.assert_array_equal(X2, X)


def test_784_columns_and_crlf_and_bom(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, size=(3, 784))
    y = np.array([3, 1, 4])
    text = header(784, True) + "\r\n"
    text += "\r\n".join(",".join(map(str, row)) for row in np.column_stack([y, X]).tolist())
    (tmp_path / "train.csv").write_bytes(b"\xef\xbb\xbf" + text.encode() + b"\r\n\r\n")
    X2, y2 = read_kaggle_csv(tmp_path / "train.csv")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_many_rows_cross_block_boundaries(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 256, size=(5000, 4))
    y = rng.integers(0, 10, size=5000)
    X2, y2 = read_kaggle_csv(write_csv(tmp_path / "train.csv", X, y))
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_error_line_number_in_a_later_block(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, size=(5000, 4))
    y = rng.integers(0, 10, size=5000)
    path = write_csv(tmp_path / "train.csv", X, y)
    _replace_line(path, 4500, "1,2,3,4,300")
    with pytest.raises(DataError, match="line 4500: pixel3 = 300 is outside 0-255"):
        read_kaggle_csv(path)


def test_spaces_and_decimal_integers_accepted(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(header(4, True) + "\n 1, 0.0,255 ,3e1,+4\n2,1,2,3,4\n")
    X, y = read_kaggle_csv(path)
    assert X.dtype == np.uint8
    np.testing.assert_array_equal(X, [[0, 255, 30, 4], [1, 2, 3, 4]])
    np.testing.assert_array_equal(y, [1, 2])


def test_fractional_pixels_give_float32(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(header(4, False) + "\n0.5,1,2,3\n4,5,6,7\n")
    X, _ = read_kaggle_csv(path)
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, [[0.5, 1, 2, 3], [4, 5, 6, 7]])


@pytest.mark.parametrize(
    ("line2", "fragment"),
    [
        ("1,2,3,4", "line 2: has 4 columns, expected 5"),
        ("1,2,3,4,5,6", "line 2: has 6 columns, expected 5"),
        ("1,2,,4,5", "line 2: empty cell in column 'pixel1'"),
        ("1,2, ,4,5", "line 2: empty cell in column 'pixel1'"),
        ("1,2,3,4,", "line 2: empty cell in column 'pixel3'"),
        ("1,2,x,4,5", "line 2: non-numeric cell 'x' in column 'pixel1'"),
        ("1,2,-,4,5", "line 2: non-numeric cell '-' in column 'pixel1'"),
        ("1,2,nan,4,5", "line 2: non-numeric cell 'nan'"),
        ("1,2,0x1,4,5", "line 2: non-numeric cell '0x1'"),
        ("1,2,3,4,256", "line 2: pixel3 = 256 is outside 0-255"),
        ("1,-1,3,4,5", "line 2: pixel0 = -1 is outside 0-255"),
        ("-1,1,3,4,5", "line 2: negative label -1"),
        ("2.5,1,3,4,5", "line 2: label 2.5 is not an integer class index"),
        ("10,1,3,4,5", "line 2: label 10 is beyond the 10 classes"),
        ("", "line 2: has 1 columns, expected 5"),
    ],
)
def test_bad_rows(tmp_path, line2, fragment):
    path = write_csv(tmp_path / "train.csv", *tiny_train(n=3, side=2))
    _replace_line(path, 2, line2)
    with pytest.raises(DataError) as info:
        read_kaggle_csv(path, num_classes=10)
    message = str(info.value)
    assert fragment in message and str(path) in message and "\n" not in message


def test_bad_row_in_the_middle_reports_its_line(tmp_path):
    path = write_csv(tmp_path / "train.csv", *tiny_train(n=5, side=2))
    _replace_line(path, 5, "1,2,3,4")
    with pytest.raises(DataError, match="line 5: has 4 columns"):
        read_kaggle_csv(path)


def test_non_ascii_cell(tmp_path):
    path = write_csv(tmp_path / "train.csv", *tiny_train(n=3, side=2))
    _replace_line(path, 3, "1,2,\u0663,4,5")
    with pytest.raises(DataError, match="line 3: non-numeric cell"):
        read_kaggle_csv(path)


@pytest.mark.parametrize(
    ("first_line", "fragment"),
    [
        ("0,1,2,3,4", "missing or wrong header"),
        ("label", "missing or wrong header"),
        ("label,pixel0,pixel2,pixel1,pixel3", "header column 3 is 'pixel2', expected 'pixel1'"),
        ("label,pixel0,pixel1,pixel2", "3 pixel columns do not form a square"),
        ("lbl,pixel0,pixel1,pixel2,pixel3", "missing or wrong header"),
        ("\u00e9tiquette,pixel0", "header is not ASCII"),
    ],
)
def test_bad_headers(tmp_path, first_line, fragment):
    path = write_csv(tmp_path / "train.csv", *tiny_train(n=3, side=2))
    _replace_line(path, 1, first_line)
    with pytest.raises(DataError, match=fragment):
        read_kaggle_csv(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_kaggle_csv(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("\n \n")
    with pytest.raises(DataError, match="is empty"):
        read_kaggle_csv(tmp_path / "empty.csv")
    (tmp_path / "header_only.csv").write_text(header(4, True) + "\n")
    with pytest.raises(DataError, match="no data rows"):
        read_kaggle_csv(tmp_path / "header_only.csv")


def test_test_csv_where_train_required(tmp_path):
    X, _ = tiny_train()
    path = write_csv(tmp_path / "test.csv", X)
    with pytest.raises(DataError, match="test CSV .* pass the train.csv"):
        read_kaggle_csv(path, require_labels=True)


def test_write_submission(tmp_path):
    path = tmp_path / "submission.csv"
    write_submission(path, np.array([7, 2, 1, 0], dtype=np.int64))
    assert path.read_text() == "ImageId,Label\n1,7\n2,2\n3,1\n4,0\n"
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]  # no temp file left over


def test_write_submission_rejects_bad_labels(tmp_path):
    with pytest.raises(TypeError, match="integer"):
        write_submission(tmp_path / "s.csv", np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        write_submission(tmp_path / "s.csv", np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="non-negative"):
        write_submission(tmp_path / "s.csv", np.array([1, -1]))
    assert list(tmp_path.iterdir()) == []
