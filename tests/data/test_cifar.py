"""CIFAR-10 loader: both distributions from tiny fake files, the assignment's layout, refusals.

The fakes are written here byte by byte: binary records (1 label byte + 3072 pixels), Python
batches pickled by this Python (protocols 4 and 5) and one built opcode by opcode the way Python 2
pickled the published files. Malicious pickles must be refused before their payload runs.
"""

import os
import pickle
import struct

import numpy as np
import pytest

from numnet.data.cifar import (
    load_CIFAR10,
    load_CIFAR_batch,
    read_cifar_bin,
    read_cifar_pickle,
)
from numnet.errors import DataError

NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def fake_batches(n=3, seed=0):
    """Per batch name: pixels (n, 3072) uint8 and labels (n,), all different."""
    rng = np.random.default_rng(seed)
    return {
        name: (
            rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            rng.integers(0, 10, n).astype(np.int64),
        )
        for name in NAMES
    }


def bin_bytes(data, labels):
    return np.concatenate([labels.astype(np.uint8)[:, None], data], axis=1).tobytes()


def py2_pickle(data, labels):
    """A batch dict pickled as Python 2's cPickle (protocol 2) wrote it with NumPy 1."""

    def s(text):  # SHORT_BINSTRING: a Python 2 str
        raw = text.encode("latin1")
        return b"U" + bytes([len(raw)]) + raw

    def i(value):  # BININT
        return b"J" + struct.pack("<i", value)

    raw = data.tobytes()
    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
        + i(0) + b"\x85" + s("b") + b"\x87R"
        + b"(" + i(1) + i(data.shape[0]) + i(data.shape[1]) + b"\x86"
        + b"cnumpy\ndtype\n" + s("u1") + b"\x89\x88\x87R"
        + b"(" + i(3) + s("|") + b"NNN" + i(-1) + i(-1) + i(0) + b"tb"
        + b"\x89" + b"T" + struct.pack("<i", len(raw)) + raw + b"tb"
    )  # fmt: skip
    label_list = b"](" + b"".join(i(int(v)) for v in labels) + b"e"
    return (
        b"\x80\x02}(" + s("batch_label") + s("training batch 1 of 5")
        + s("data") + array + s("labels") + label_list + b"u."
    )  # fmt: skip


def write_tree(root, batches, kind):
    root.mkdir(parents=True, exist_ok=True)
    for name, (data, labels) in batches.items():
        if kind == "bin":
            (root / f"{name}.bin").write_bytes(bin_bytes(data, labels))
        elif kind == "py2":
            (root / name).write_bytes(py2_pickle(data, labels))
        else:
            batch = {"data": data, "labels": [int(v) for v in labels], "batch_label": name}
            (root / name).write_bytes(pickle.dumps(batch, protocol=kind))
    return root


def expected(batches, names):
    """The assignment's transform, written out: (N, 3072) -> (N, 3, 32, 32) -> (N, 32, 32, 3)."""
    data = np.concatenate([batches[n][0] for n in names])
    labels = np.concatenate([batches[n][1] for n in names])
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64), labels


@pytest.mark.parametrize("kind", ["bin", "py2", 4, 5])
def test_load_cifar10_gives_the_assignments_arrays(tmp_path, kind):
    batches = fake_batches()
    root = write_tree(tmp_path / "cifar", batches, kind)
    Xtr, Ytr, Xte, Yte = load_CIFAR10(root)
    ex_tr, ey_tr = expected(batches, NAMES[:5])
    ex_te, ey_te = expected(batches, NAMES[5:])
    assert Xtr.shape == (15, 32, 32, 3) and Xtr.dtype == np.float64
    np.testing.assert_array_equal(Xtr, ex_tr)
    np.testing.assert_array_equal(Ytr, ey_tr)
    np.testing.assert_array_equal(Xte, ex_te)
    np.testing.assert_array_equal(Yte, ey_te)


def test_pixel_layout_of_a_binary_record(tmp_path):
    record = np.zeros(3073, dtype=np.uint8)
    record[0] = 7
    record[1 + 0 * 1024 + 2 * 32 + 5] = 11  # red, row 2, column 5
    record[1 + 2 * 1024 + 31 * 32 + 0] = 13  # blue, row 31, column 0
    path = tmp_path / "test_batch.bin"
    path.write_bytes(record.tobytes())
    X, y = read_cifar_bin(path)
    assert y.tolist() == [7] and X.shape == (1, 3, 32, 32) and X.dtype == np.uint8
    assert X[0, 0, 2, 5] == 11 and X[0, 2, 31, 0] == 13 and X.sum() == 24
    Xa, _ = load_CIFAR_batch(path)
    assert Xa[0, 2, 5, 0] == 11 and Xa[0, 31, 0, 2] == 13


def test_root_may_be_the_folder_above_the_batches(tmp_path):
    batches = fake_batches(n=2)
    write_tree(tmp_path / "cifar-10-batches-py", batches, 5)
    Xtr, Ytr, Xte, Yte = load_CIFAR10(tmp_path, dtype=np.uint8)
    assert Xtr.shape == (10, 32, 32, 3) and Xtr.dtype == np.uint8 and Yte.shape == (2,)


class Payload:
    """Unpickling this runs ``os.system(command)``, as a malicious batch file would."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class EvalPayload:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


@pytest.mark.parametrize(
    "make, named",
    [
        (lambda marker: Payload(f"touch {marker}"), "system"),
        (lambda marker: {"data": Payload(f"touch {marker}"), "labels": [0]}, "system"),
        (lambda marker: {"labels": [EvalPayload()]}, ".eval,"),
        (lambda marker: {"data": np.load}, "numpy.load"),
    ],
    ids=["os.system", "nested-os.system", "eval", "other-numpy-global"],
)
def test_malicious_pickle_is_refused_before_it_runs(tmp_path, make, named):
    marker = tmp_path / "ran"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(make(marker), protocol=2))
    with pytest.raises(DataError, match="refusing") as info:
        read_cifar_pickle(path)
    message = str(info.value)
    assert named in message and "\n" not in message
    assert not marker.exists()
    with pytest.raises(DataError, match="refusing"):
        load_CIFAR10(tmp_path)


def test_truncated_and_damaged_files_give_one_line(tmp_path):
    data, labels = fake_batches(n=2)["test_batch"]
    cases = {
        "cut.bin": bin_bytes(data, labels)[:-100],
        "empty.bin": b"",
        "cut_py": pickle.dumps({"data": data, "labels": labels.tolist()}, protocol=4)[:4000],
        "cut_py2": py2_pickle(data, labels)[:-50],
        "empty_py": b"",
        "garbage_py": b"\x00\x01not a pickle",
    }
    for name, raw in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        reader = read_cifar_bin if name.endswith(".bin") else read_cifar_pickle
        with pytest.raises(DataError) as info:
            reader(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value), name


@pytest.mark.parametrize(
    "batch, match",
    [
        ([1, 2, 3], "not a CIFAR-10 batch dict"),
        ({"data": np.zeros((2, 3072), np.float32), "labels": [0, 1]}, "dtype float32"),
        ({"data": np.zeros((2, 3072), object), "labels": [0, 1]}, "dtype object"),
        ({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, r"shape \(N, 3072\)"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, "2 images but 1 labels"),
        ({"data": np.zeros((1, 3072), np.uint8), "labels": [10]}, "label 10"),
        ({"data": np.zeros((1, 3072), np.uint8), "labels": ["cat"]}, "labels"),
    ],
)
def test_wrong_contents_are_named(tmp_path, batch, match):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(batch, protocol=5))
    with pytest.raises(DataError, match=match):
        read_cifar_pickle(path)


def test_binary_label_out_of_range_and_missing_files(tmp_path):
    data, labels = fake_batches(n=1)["test_batch"]
    path = tmp_path / "test_batch.bin"
    path.write_bytes(bin_bytes(data, np.array([12])))
    with pytest.raises(DataError, match="label 12"):
        read_cifar_bin(path)
    with pytest.raises(DataError, match="does not exist"):
        read_cifar_bin(tmp_path / "nope.bin")
    with pytest.raises(DataError, match="no CIFAR-10 batches"):
        load_CIFAR10(tmp_path / "empty")
    write_tree(tmp_path / "partial", {"data_batch_1": fake_batches(n=1)["data_batch_1"]}, "bin")
    with pytest.raises(DataError, match="data_batch_2.bin does not exist"):
        load_CIFAR10(tmp_path / "partial")
    with pytest.raises(DataError, match="not a regular file"):
        read_cifar_pickle(tmp_path)
