"""Data: IDX and Kaggle CSV readers, named datasets, splitting, standardisation, augmentation.

Images are kept as uint8 ``(N, C, H, W)`` until :class:`Standardizer` turns them into float32.
"""

from numnet.data.augment import Augmenter, random_hflip, random_shift
from numnet.data.cifar import load_CIFAR10
from numnet.data.datasets import (
    DATASET_NAMES,
    DIGIT_CLASSES,
    FASHION_MNIST_CLASSES,
    Dataset,
    load_dataset,
    load_digits,
)
from numnet.data.idx import load_idx_pair, read_idx, write_idx
from numnet.data.input_range import input_range, range_mismatch
from numnet.data.kaggle_csv import read_kaggle_csv, write_probabilities, write_submission
from numnet.data.pipeline import InputPipeline
from numnet.data.preprocessing import Standardizer
from numnet.data.split import train_val_split
from numnet.data.validate import check_dataset_arrays

__all__ = [
    "DATASET_NAMES",
    "DIGIT_CLASSES",
    "FASHION_MNIST_CLASSES",
    "Augmenter",
    "Dataset",
    "InputPipeline",
    "Standardizer",
    "check_dataset_arrays",
    "input_range",
    "load_CIFAR10",
    "load_dataset",
    "load_digits",
    "load_idx_pair",
    "random_hflip",
    "random_shift",
    "range_mismatch",
    "read_idx",
    "read_kaggle_csv",
    "train_val_split",
    "write_idx",
    "write_probabilities",
    "write_submission",
]
