"""Build what ``numnet train`` needs from a resolved config: data splits, model, optimizer."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from numnet.errors import DataError

# Hidden layer sizes when the config leaves ``hidden_dims`` unset.
DEFAULT_HIDDEN_DIMS = {"mlp": [256, 128], "cnn": [128]}


@dataclass
class TrainingData:
    """Standardised float32 splits of one dataset, plus what the model file must remember.

    Attributes
    ----------
    X_train, X_val : ndarray of float32, shape (N, C, H, W)
    y_train, y_val : ndarray of int64, shape (N,)
    X_test, y_test : ndarray or None
        The dataset's test split (``y_test`` None when it is unlabelled).
    val_is_train : bool
        True with ``val_fraction = 0``: the "validation" numbers are measured on the training data.
    metadata : dict
        ``preprocessing``, ``class_names``, ``image_shape``, ``dataset`` for the model file.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    val_is_train: bool
    class_names: list[str]
    image_shape: tuple[int, int, int]
    metadata: dict[str, Any]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def resolved_hidden_dims(config: dict[str, Any]) -> list[int]:
    """``config['hidden_dims']``, or the model family's default when it is unset."""
    dims = config["hidden_dims"]
    return list(dims) if dims is not None else list(DEFAULT_HIDDEN_DIMS[config["model"]])


def blank_image(data: TrainingData) -> np.ndarray:
    """A blank (all-zero) raw image as the model sees it, after standardisation, shape (C, H, W).

    Augmentation fills the pixels it shifts into view with it, so they look like the black
    background of the real images rather than like the mean grey (0 after standardising).
    """
    from numnet.data import Standardizer

    standardizer = Standardizer.from_dict(data.metadata["preprocessing"])
    zeros = np.zeros((1, *data.X_train.shape[1:]), dtype=np.float32)
    return standardizer.transform(zeros)[0].reshape(data.image_shape)


def prepare_data(config: dict[str, Any]) -> TrainingData:
    """Load ``config['data']``, subsample, split off validation data and standardise.

    The subsample (``max_train_samples``) and the validation split are drawn with generators seeded
    by ``config['seed']``, so a resumed run sees the same data. The Standardizer is fitted on the
    training part only: per pixel for the MLP, per channel for the CNN.
    """
    from numnet.data import Standardizer, load_dataset, train_val_split

    dataset = load_dataset(config["data"], config["data_dir"])
    X, y = dataset.X_train, dataset.y_train
    limit = config["max_train_samples"]
    if limit is not None and limit < len(y):
        keep = np.sort(np.random.default_rng([config["seed"], 1]).permutation(len(y))[:limit])
        X, y = X[keep], y[keep]
    X_train, y_train, X_val, y_val = train_val_split(X, y, config["val_fraction"], config["seed"])
    val_is_train = len(y_val) == 0
    if val_is_train:
        X_val, y_val = X_train, y_train
    mode = "channel" if config["model"] == "cnn" else "feature"
    standardizer = Standardizer(mode=mode, image_shape=dataset.image_shape).fit(X_train)
    X_test = None if dataset.X_test is None else standardizer.transform(dataset.X_test)
    metadata = {
        "preprocessing": standardizer.to_dict(),
        "class_names": list(dataset.class_names),
        "image_shape": list(dataset.image_shape),
        "dataset": dataset.name,
    }
    return TrainingData(
        X_train=standardizer.transform(X_train),
        y_train=y_train,
        X_val=standardizer.transform(X_val),
        y_val=y_val,
        X_test=X_test,
        y_test=dataset.y_test,
        val_is_train=val_is_train,
        class_names=list(dataset.class_names),
        image_shape=tuple(dataset.image_shape),
        metadata=metadata,
    )


def build_model(config: dict[str, Any], image_shape: tuple[int, ...], num_classes: int) -> Any:
    """A freshly initialised FullyConnectedNet (``mlp``) or ConvNet (``cnn``) for the config."""
    from numnet.models import ConvNet, FullyConnectedNet

    normalization = None if config["normalization"] == "none" else config["normalization"]
    common = {
        "hidden_dims": resolved_hidden_dims(config),
        "num_classes": num_classes,
        "dropout_keep_ratio": config["dropout"],
        "normalization": normalization,
        "reg": config["reg"],
        "label_smoothing": config["label_smoothing"],
        "init": config["init"],
        "dtype": np.float32,
        "seed": config["seed"],
    }
    if config["model"] == "mlp":
        return FullyConnectedNet(input_dim=math.prod(image_shape), **common)
    blocks = len(config["conv_channels"])
    if len(image_shape) != 3 or min(image_shape[1:]) < 2**blocks:
        raise DataError(
            f"images of shape {tuple(image_shape)} are too small for {blocks} conv blocks with "
            "2x2 pooling; use fewer --conv-channels"
        )
    return ConvNet(input_dim=tuple(image_shape), conv_channels=config["conv_channels"], **common)


def build_schedule(config: dict[str, Any], steps_per_epoch: int) -> Any:
    """The learning-rate schedule ``step -> lr`` named by ``config['schedule']``.

    ``--lr-decay`` multiplies the rate after every epoch (``constant``/``step``) or smoothly per
    update (``exponential``); ``--warmup-epochs`` belongs to ``warmup-cosine``.
    """
    from numnet.optim import make_schedule

    name, decay = config["schedule"], config["lr_decay"]
    if name == "constant" and decay != 1.0:
        name = "step"  # CS231n's lr_decay: multiply after each epoch
    options: dict[str, Any] = {}
    if name in ("step", "exponential"):
        options["decay"] = decay
    if name == "warmup-cosine" and config["warmup_epochs"]:
        options["warmup_epochs"] = config["warmup_epochs"]
    total = steps_per_epoch * config["epochs"]
    return make_schedule(name, config["lr"], steps_per_epoch, total, **options)


def build_optimizer(config: dict[str, Any], steps_per_epoch: int) -> Any:
    """The numnet optimizer (a GradientTransformation) the config asks for, with its schedule."""
    from numnet.optim import get_optimizer

    name = config["optimizer"]
    hyper: dict[str, Any] = {"weight_decay": config["weight_decay"]}
    if config["clip_norm"] > 0:
        hyper["clip_norm"] = config["clip_norm"]
    if name in ("momentum", "nesterov"):
        hyper["momentum"] = config["momentum"]
    return get_optimizer(name, build_schedule(config, steps_per_epoch), **hyper)
