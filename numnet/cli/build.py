"""Build what ``numnet train`` needs from a resolved config: data splits, model, optimizer.

The library's constructors are the one judge of the values they receive. :func:`check_settings`
builds the configured model on a placeholder input, the optimizer with its schedule, and a Solver,
before anything is read or written, and turns a constructor's error into one line that names the
flag (:data:`PARAMETER_FLAGS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from numnet.errors import ConfigError, DataError, NumnetError

# Hidden layer sizes when the config leaves ``hidden_dims`` unset.
DEFAULT_HIDDEN_DIMS = {"mlp": [256, 128], "cnn": [128]}

# Optimizers that take ``--momentum``.
MOMENTUM_OPTIMIZERS = ("momentum", "nesterov")

# A constructor's error message starts with the name of the parameter it rejects; this maps those
# names (lower case) to the config key of the flag that sets them.
PARAMETER_FLAGS: dict[str, str] = {
    # FullyConnectedNet and ConvNet
    "hidden_dims": "hidden_dims",
    "conv_channels": "conv_channels",
    "dropout_keep_ratio": "dropout",
    "normalization": "normalization",
    "convnet normalization": "normalization",
    "reg": "reg",
    "label_smoothing": "label_smoothing",
    "init": "init",
    "seed": "seed",
    "kernels": "kernels",
    # optimizers and schedules
    "learning rate": "lr",
    "momentum": "momentum",
    "nesterov momentum": "momentum",
    "weight_decay": "weight_decay",
    "clip_norm": "clip_norm",
    "decay": "lr_decay",
    "warmup_epochs": "warmup_epochs",
    "warmup_steps": "warmup_epochs",
    # Solver and callbacks
    "batch_size": "batch_size",
    "num_epochs": "epochs",
    "earlystopping patience": "early_stopping",
}

# Classes of the placeholder problem :func:`check_settings` builds (the real count comes from the
# data, which is read later).
PLACEHOLDER_CLASSES = 2


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
        ``preprocessing``, ``class_names``, ``image_shape``, ``dataset``, ``input_range`` (min,
        max and mean of the raw training inputs) for the model file.
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
    from numnet.data import Standardizer, input_range, load_dataset, train_val_split

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
        "input_range": input_range(X_train),  # raw, for the range warning of predict/evaluate
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


def model_config(
    config: dict[str, Any], image_shape: tuple[int, ...], num_classes: int
) -> dict[str, Any]:
    """The model the settings describe, as a :func:`numnet.models.build_model` config.

    ``{"class": "FullyConnectedNet" | "ConvNet", **constructor keywords}`` for images of
    ``image_shape`` (C, H, W) in ``num_classes`` classes; the same form as ``model.get_config()``.
    """
    normalization = None if config["normalization"] == "none" else config["normalization"]
    common = {
        "hidden_dims": resolved_hidden_dims(config),
        "num_classes": num_classes,
        "dropout_keep_ratio": config["dropout"],
        "normalization": normalization,
        "reg": config["reg"],
        "label_smoothing": config["label_smoothing"],
        "init": config["init"],
        "dtype": "float32",
        "seed": config["seed"],
    }
    if config["model"] == "mlp":
        return {"class": "FullyConnectedNet", "input_dim": math.prod(image_shape), **common}
    return {
        "class": "ConvNet",
        "input_dim": tuple(image_shape),
        "conv_channels": list(config["conv_channels"]),
        **common,
    }


def model_for_data(config: dict[str, Any], data: TrainingData) -> Any:
    """The freshly initialised model of the settings for ``data``, running ``config["kernels"]``.

    The settings passed :func:`check_settings`, so a constructor error here comes from the images'
    shape (a ConvNet whose blocks shrink them to nothing): a :class:`DataError`, like other data
    that does not suit the run.
    """
    from numnet.models import build_model

    try:
        model = build_model(model_config(config, data.image_shape, data.num_classes))
    except ConfigError as exc:
        raise DataError(
            f"images of shape {tuple(data.image_shape)} do not fit --model {config['model']}: "
            f"{exc}; use fewer --conv-channels"
        ) from exc
    model.set_kernels(config["kernels"])
    return model


def _shown(value: Any) -> str:
    """A setting as it would be typed after its flag."""
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value)
    return str(value)


def flag_error(exc: Exception, config: dict[str, Any]) -> ConfigError:
    """``exc`` (a constructor's error) as a :class:`ConfigError` that starts with the flag.

    ``--dropout 1.5: dropout_keep_ratio must be a number in (0, 1] ..., got 1.5``: the flag and
    the value as the user gave them, then the constructor's own words. A message that names no
    parameter of :data:`PARAMETER_FLAGS` is passed on as it is.
    """
    from numnet.cli.config import OPTIONS_BY_KEY

    message = " ".join(str(exc).split())
    lowered = message.lower()
    for name in sorted(PARAMETER_FLAGS, key=len, reverse=True):
        after = lowered[len(name) : len(name) + 1]
        if lowered.startswith(name) and not (after.isalnum() or after == "_"):
            key = PARAMETER_FLAGS[name]
            return ConfigError(f"{OPTIONS_BY_KEY[key].flag} {_shown(config[key])}: {message}")
    return ConfigError(message)


@contextmanager
def _reported_as_flags(config: dict[str, Any]) -> Iterator[None]:
    try:
        yield
    except ConfigError as exc:
        raise flag_error(exc, config) from exc
    except ValueError as exc:
        if isinstance(exc, NumnetError):  # a DataError here is a bug, not a bad setting
            raise
        raise flag_error(exc, config) from exc


def check_settings(config: dict[str, Any]) -> None:
    """Build everything the settings configure, so that the constructors judge their values.

    The model is the configured one on a placeholder input of ``(1, 2**blocks, 2**blocks)``
    images (each 2x2 pooling block halves it, down to 1x1) in two classes, which keeps it small
    whatever the data; the optimizer and its schedule get one step per epoch; the Solver two
    blank images. A setting the chosen model or optimizer does not use (``--conv-channels`` of an
    MLP, ``--momentum`` of Adam) is judged all the same by the constructor that takes it, so that a
    bad value is reported rather than silently ignored.

    Raises
    ------
    ConfigError
        One line that starts with the flag of the rejected setting (see :func:`flag_error`).
    """
    from numnet.callbacks import EarlyStopping
    from numnet.models import ConvNet, build_model
    from numnet.optim import SGD
    from numnet.solver import Solver

    blocks = len(config["conv_channels"])
    cnn_input = (1, 2**blocks, 2**blocks)
    image_shape = cnn_input if config["model"] == "cnn" else (1, 1, 1)
    with _reported_as_flags(config):
        model = build_model(model_config(config, image_shape, PLACEHOLDER_CLASSES))
        model.set_kernels(config["kernels"])
        if config["model"] != "cnn":
            ConvNet(
                cnn_input, config["conv_channels"], hidden_dims=[], num_classes=PLACEHOLDER_CLASSES
            )
        optimizer = build_optimizer(config, steps_per_epoch=1)
        if config["optimizer"] not in MOMENTUM_OPTIMIZERS:
            SGD(config["lr"], momentum=config["momentum"])
        X = np.zeros((PLACEHOLDER_CLASSES, *image_shape), dtype=np.float32)
        y = np.arange(PLACEHOLDER_CLASSES)
        Solver(
            model,
            {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
            optimizer=optimizer,
            batch_size=config["batch_size"],
            num_epochs=config["epochs"],
            seed=config["seed"],
            verbose=False,
        )
        if config["early_stopping"] != 0:  # 0 disables early stopping
            EarlyStopping(config["early_stopping"])


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
    if config["clip_norm"] != 0:  # 0 disables clipping; the optimizer judges any other value
        hyper["clip_norm"] = config["clip_norm"]
    if name in MOMENTUM_OPTIMIZERS:
        hyper["momentum"] = config["momentum"]
    return get_optimizer(name, build_schedule(config, steps_per_epoch), **hyper)
