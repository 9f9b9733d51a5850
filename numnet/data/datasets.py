"""Named datasets and dataset paths: ``digits``, ``mnist``, ``fashion-mnist``, or a file/directory.

Every loader returns a :class:`Dataset` whose images are uint8 pixel values 0-255 in the layout
``(N, C, H, W)``; turning them into float32 model inputs is the job of
:class:`numnet.data.Standardizer`, whose statistics are saved with the model. Nothing is ever
downloaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numnet.data.idx import load_idx_pair
from numnet.data.kaggle_csv import read_kaggle_csv
from numnet.data.validate import check_dataset_arrays, check_label_bound
from numnet.errors import DataError
from numnet.files import check_regular

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))

# Where installed datasets live: SYSTEM_DATA_DIRS[i] / "fashion-mnist" etc. (patched in tests).
SYSTEM_DATA_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets"),)
DATA_ENV_VAR = "NUMNET_DATA"
IDX_NAMED = ("mnist", "fashion-mnist")
DATASET_NAMES = ("digits", *IDX_NAMED)

DIGITS_ASSET = Path(__file__).resolve().parent.parent / "assets" / "digits.npz"

# Fraction of sklearn's digits held out as the fixed test split, and the seed that picks it.
DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


@dataclass
class Dataset:
    """A loaded dataset.

    Attributes
    ----------
    X_train : ndarray of uint8, shape (N, C, H, W)
        Training images, pixel values 0-255.
    y_train : ndarray of int64, shape (N,)
    X_test : ndarray of uint8, shape (M, C, H, W), or None
    y_test : ndarray of int64, shape (M,), or None (e.g. Kaggle's unlabelled test.csv)
    class_names : list of str
        ``class_names[k]`` names label k; ``len(class_names)`` is the number of classes.
    image_shape : tuple (C, H, W)
    name : str
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: list[str]
    image_shape: tuple[int, int, int]
    name: str

    @property
    def num_classes(self) -> int:
        """Number of classes, ``len(class_names)``."""
        return len(self.class_names)


def _normalise_name(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace("fashionmnist", "fashion-mnist")


def is_dataset_name(name: str) -> bool:
    """True when ``name`` is a dataset numnet knows: ``digits``, ``mnist``, ``fashion-mnist``."""
    return _normalise_name(name) in DATASET_NAMES


def _looks_like_path(text: str) -> bool:
    """A path rather than a dataset name: it has a directory part or a file suffix."""
    path = Path(text)
    return len(path.parts) > 1 or path.suffix != "" or text.startswith((".", "~"))


def _close_match(word: str, candidates: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def missing_data_message(text: str) -> str:
    """One line for ``--data text`` that names no dataset and no existing path.

    A path is called a missing file, with the closest name in its directory if one is close
    (``trian.csv`` -> ``train.csv``); a word is an unknown dataset, with the closest dataset name.
    """
    if _looks_like_path(text):
        path = Path(text).expanduser()
        parent = path.parent
        hint = ""
        if parent.is_dir():
            try:
                names = sorted(entry.name for entry in parent.iterdir())
            except OSError:
                names = []
            close = _close_match(path.name, names)
            if close is not None:
                hint = f"; did you mean {str(parent / close) if str(parent) != '.' else close}?"
        elif str(parent) not in ("", "."):
            hint = f" (directory {parent} does not exist either)"
        return f"no such file: {text}{hint}"
    close = _close_match(_normalise_name(text), list(DATASET_NAMES))
    if close is None:
        # a bare file name without a suffix may still be meant as a file
        here = [entry.name for entry in Path(".").iterdir()] if Path(".").is_dir() else []
        close_file = _close_match(text, here)
        hint = f"; did you mean the file {close_file}?" if close_file else ""
    else:
        hint = f"; did you mean {close}?"
    return (
        f"unknown dataset {text!r}{hint} (use one of {', '.join(DATASET_NAMES)}, a Kaggle "
        "train.csv file, or a directory of IDX or CSV files)"
    )


def load_dataset(
    name_or_path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None
) -> Dataset:
    """Load a named dataset or the dataset stored at a path.

    Parameters
    ----------
    name_or_path : str or PathLike
        ``"digits"`` (scikit-learn's bundled 8x8 digits), ``"mnist"``, ``"fashion-mnist"``, or a
        path: a Kaggle ``train.csv`` file, or a directory holding ``train-*``/``t10k-*`` IDX files
        or ``train.csv`` (and optionally an unlabelled ``test.csv``).
    data_dir : str or PathLike, optional
        For ``mnist``/``fashion-mnist``: the directory holding the four IDX files (the directory
        itself or its ``<name>/`` subdirectory is searched, and nothing else). Without it numnet
        looks in ``$NUMNET_DATA``, ``$NUMNET_DATA/<name>`` and ``/usr/share/datasets/<name>``.

    Returns
    -------
    Dataset
    """
    if isinstance(name_or_path, str) and _normalise_name(name_or_path) in DATASET_NAMES:
        name = _normalise_name(name_or_path)
        if name == "digits":
            return load_digits()
        return _load_named_idx(name, data_dir)
    path = Path(name_or_path)
    if path.is_file():
        return _load_csv_dataset(path, None)
    if path.is_dir():
        return _load_directory(path)
    if path.exists():  # a FIFO, device or socket: refused by name, never opened
        check_regular(path, "data file", DataError)
    raise DataError(missing_data_message(str(name_or_path)))


def load_digits() -> Dataset:
    """The 8x8 digits embedded in numnet (1797 images; no download, no optional dependency).

    The data is scikit-learn's bundled copy of the UCI handwritten digits, stored in
    ``numnet/assets/digits.npz`` (see ``numnet/assets/README.md``). Pixel values 0-16 are scaled to
    0-255 (``round(v * 255 / 16)``). The last 20 % of a permutation seeded
    with ``DIGITS_SPLIT_SEED`` is the test split (359 images), the rest the training split.
    """
    with np.load(DIGITS_ASSET, allow_pickle=False) as archive:
        raw_images, raw_labels = archive["images"], archive["labels"]
    images = np.round(np.asarray(raw_images, dtype=np.float64) * (255.0 / 16.0))
    X = images.astype(np.uint8)[:, None, :, :]
    y = np.asarray(raw_labels, dtype=np.int64)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(y))
    num_test = int(round(DIGITS_TEST_FRACTION * len(y)))
    train, test = order[:-num_test], order[-num_test:]
    return Dataset(X[train], y[train], X[test], y[test], list(DIGIT_CLASSES), (1, 8, 8), "digits")


def _idx_file(directory: Path, split: str, kind: str) -> Path | None:
    """The first existing file among the usual spellings, e.g. train-images-idx3-ubyte(.gz)."""
    ndim = 3 if kind == "images" else 1
    for stem in (f"{split}-{kind}-idx{ndim}-ubyte", f"{split}-{kind}.idx{ndim}-ubyte"):
        for suffix in ("", ".gz"):
            candidate = directory / (stem + suffix)
            if candidate.is_file():
                return candidate
    return None


def _has_idx_files(directory: Path) -> bool:
    return all(
        _idx_file(directory, split, kind) is not None
        for split in ("train", "t10k")
        for kind in ("images", "labels")
    )


def _search_dirs(name: str, data_dir: str | os.PathLike[str] | None) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir), Path(data_dir) / name]
    dirs = []
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        dirs += [Path(env) / name, Path(env)]
    dirs += [Path(system) / name for system in SYSTEM_DATA_DIRS]
    return dirs


def _load_named_idx(name: str, data_dir: str | os.PathLike[str] | None) -> Dataset:
    searched = _search_dirs(name, data_dir)
    for directory in searched:
        if directory.is_dir() and _has_idx_files(directory):
            class_names = FASHION_MNIST_CLASSES if name == "fashion-mnist" else DIGIT_CLASSES
            return _load_idx_directory(directory, name, list(class_names))
    install = "apt-get install dataset-fashion-mnist, or " if name == "fashion-mnist" else ""
    raise DataError(
        f"{name} not found (looked in {', '.join(str(d) for d in searched)}); {install}put "
        "the four files {train,t10k}-{images-idx3,labels-idx1}-ubyte(.gz) in a directory "
        f"passed with --data-dir (or set ${DATA_ENV_VAR})"
    )


def _load_idx_directory(directory: Path, name: str, class_names: list[str] | None) -> Dataset:
    arrays = []
    for split in ("train", "t10k"):
        images_path = _idx_file(directory, split, "images")
        labels_path = _idx_file(directory, split, "labels")
        if images_path is None or labels_path is None:
            raise DataError(
                f"{directory}: missing {split}-images/{split}-labels IDX files; put all four "
                "{train,t10k}-{images-idx3,labels-idx1}-ubyte(.gz) files there"
            )
        images, labels = load_idx_pair(images_path, labels_path)
        arrays += [images[:, None, :, :], labels]
    X_train, y_train, X_test, y_test = arrays
    if X_train.shape[1:] != X_test.shape[1:]:
        raise DataError(
            f"{directory}: train images are {X_train.shape[2:]} but test images are "
            f"{X_test.shape[2:]}; use files from the same dataset"
        )
    if class_names is None:
        class_names = _default_class_names(y_train, y_test)
    check_dataset_arrays(X_train, y_train, len(class_names))
    check_dataset_arrays(X_test, y_test, len(class_names))
    image_shape = tuple(int(d) for d in X_train.shape[1:])
    return Dataset(X_train, y_train, X_test, y_test, class_names, image_shape, name)


def _default_class_names(*label_arrays: np.ndarray | None) -> list[str]:
    """``"0"``, ``"1"``, ...: at least 10 classes (digits), more if the labels go higher."""
    largest = max((int(y.max()) for y in label_arrays if y is not None and y.size), default=0)
    check_label_bound(largest, "labels")
    return [str(k) for k in range(max(10, largest + 1))]


def _csv_images(X: np.ndarray) -> np.ndarray:
    side = int(round(np.sqrt(X.shape[1])))
    return X.reshape(X.shape[0], 1, side, side)


def _load_csv_dataset(train_csv: Path, test_csv: Path | None, name: str | None = None) -> Dataset:
    X_train, y_train = read_kaggle_csv(train_csv, require_labels=True)
    assert y_train is not None  # guaranteed by require_labels
    X_test = y_test = None
    if test_csv is not None:
        X_test, y_test = read_kaggle_csv(test_csv)
        if X_test.shape[1] != X_train.shape[1]:
            raise DataError(
                f"{test_csv} has {X_test.shape[1]} pixel columns but {train_csv} has "
                f"{X_train.shape[1]}; use files from the same dataset"
            )
        X_test = _csv_images(X_test)
    class_names = _default_class_names(y_train, y_test)
    X_train = _csv_images(X_train)
    check_dataset_arrays(X_train, y_train, len(class_names))
    if X_test is not None:
        check_dataset_arrays(X_test, y_test, len(class_names))
    image_shape = tuple(int(d) for d in X_train.shape[1:])
    # a CSV file is named with its directory, "kaggle/train.csv" (a bare train.csv has an empty
    # parent name: the directory it is in then); a directory of CSV files by the directory
    if name is None:
        parent = train_csv.parent.name or train_csv.resolve().parent.name
        name = f"{parent}/{train_csv.name}" if parent else train_csv.name
    return Dataset(X_train, y_train, X_test, y_test, class_names, image_shape, name)


def _load_directory(directory: Path) -> Dataset:
    if _has_idx_files(directory):
        fashion = "fashion" in directory.resolve().name.lower()
        class_names = list(FASHION_MNIST_CLASSES) if fashion else None
        return _load_idx_directory(directory, directory.resolve().name, class_names)
    train_csv = directory / "train.csv"
    if train_csv.is_file():
        test_csv = directory / "test.csv"
        test = test_csv if test_csv.is_file() else None
        return _load_csv_dataset(train_csv, test, directory.resolve().name or str(directory))
    raise DataError(
        f"{directory}: no dataset found; expected the four "
        "{train,t10k}-{images-idx3,labels-idx1}-ubyte(.gz) IDX files or a Kaggle train.csv "
        "(and optional test.csv)"
    )
