"""Input standardisation whose statistics travel with the model (``to_dict`` / ``from_dict``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numnet.errors import DataError

MODES = ("feature", "channel", "global", "none")


class Standardizer:
    """``transform(X) = (X * scale - mean) / std`` in float32, statistics fitted on training data.

    Parameters
    ----------
    mode : {'feature', 'channel', 'global', 'none'}
        What the mean and std are taken over: per input feature (pixel), per image channel, one
        number for everything, or no centring at all (only ``X * scale``).
    scale : float
        Applied to the raw values first; 1/255 maps uint8 pixels to [0, 1].
    image_shape : tuple (C, H, W), optional
        Needed by ``mode='channel'`` when X is flattened to ``(N, C*H*W)``.
    std_floor : float
        Standard deviations below this (in scaled units) are replaced by it, so constant pixels
        (e.g. MNIST's always-black border) are not divided by zero.
    """

    def __init__(
        self,
        mode: str = "feature",
        scale: float = 1.0 / 255.0,
        image_shape: tuple[int, ...] | None = None,
        std_floor: float = 1e-2,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive number, got {scale}")
        if not (math.isfinite(std_floor) and std_floor > 0):
            raise ValueError(f"std_floor must be a positive number, got {std_floor}")
        self.mode = mode
        self.scale = float(scale)
        self.image_shape = None if image_shape is None else tuple(int(d) for d in image_shape)
        self.std_floor = float(std_floor)
        self.sample_shape: tuple[int, ...] | None = None
        self.mean: np.ndarray | None = None  # float32; shape (), (C,) or sample_shape by mode
        self.std: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` (or ``from_dict``) has set the statistics."""
        return self.sample_shape is not None

    def _channel_axes(self, sample_shape: tuple[int, ...]) -> tuple[int, int, int]:
        """``(C, H, W)`` for channel mode, from the samples' shape or ``image_shape``."""
        if len(sample_shape) == 3:
            return sample_shape  # type: ignore[return-value]
        if len(sample_shape) == 1 and self.image_shape is not None:
            if math.prod(self.image_shape) != sample_shape[0]:
                raise DataError(
                    f"image_shape {self.image_shape} does not match {sample_shape[0]} features; "
                    "pass the right image_shape"
                )
            return self.image_shape  # type: ignore[return-value]
        raise DataError(
            "channel standardisation needs X of shape (N, C, H, W) or (N, C*H*W) with "
            f"image_shape, got samples of shape {sample_shape}"
        )

    def fit(self, X: np.ndarray) -> Standardizer:
        """Compute the statistics from training inputs ``X`` of shape ``(N, ...)``; returns self."""
        X = np.asarray(X)
        if X.ndim < 2 or X.shape[0] == 0:
            raise DataError(f"Standardizer.fit needs X of shape (N, ...) with N > 0, got {X.shape}")
        sample_shape = tuple(int(d) for d in X.shape[1:])
        scaled = X.astype(np.float64) * self.scale
        if self.mode == "feature":
            mean, std = scaled.mean(axis=0), scaled.std(axis=0)
        elif self.mode == "channel":
            C, H, W = self._channel_axes(sample_shape)
            per_channel = scaled.reshape(X.shape[0], C, H * W)
            mean, std = per_channel.mean(axis=(0, 2)), per_channel.std(axis=(0, 2))
        elif self.mode == "global":
            mean, std = scaled.mean(), scaled.std()
        else:
            mean, std = np.zeros(()), np.ones(())
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            raise DataError("Standardizer.fit: X contains NaN or Inf; clean the data first")
        self.sample_shape = sample_shape
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.maximum(np.asarray(std, dtype=np.float32), np.float32(self.std_floor))
        return self

    def _broadcastable(self, stats: np.ndarray) -> np.ndarray:
        """Stats reshaped to broadcast against one sample of shape ``sample_shape``."""
        if self.mode != "channel":
            return stats
        assert self.sample_shape is not None
        C, H, W = self._channel_axes(self.sample_shape)
        per_pixel = np.broadcast_to(stats[:, None, None], (C, H, W))
        return per_pixel.reshape(self.sample_shape)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardise ``X`` of shape ``(N, *sample_shape)``; returns float32 of the same shape."""
        if not self.fitted:
            raise DataError("Standardizer.transform called before fit; fit it on training data")
        X = np.asarray(X)
        if X.ndim < 1 or tuple(X.shape[1:]) != self.sample_shape:
            raise DataError(
                f"inputs have samples of shape {tuple(X.shape[1:])} but the Standardizer was "
                f"fitted on {self.sample_shape}; use data shaped like the training data"
            )
        assert self.mean is not None and self.std is not None
        mean, std = self._broadcastable(self.mean), self._broadcastable(self.std)
        out = X.astype(np.float32)
        out *= np.float32(self.scale)
        out -= mean
        out /= std
        return out

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record of the settings and fitted statistics (for the model file)."""
        if not self.fitted:
            raise DataError("Standardizer.to_dict called before fit; fit it on training data")
        assert self.mean is not None and self.std is not None
        return {
            "type": "Standardizer",
            "mode": self.mode,
            "scale": self.scale,
            "std_floor": self.std_floor,
            "image_shape": None if self.image_shape is None else list(self.image_shape),
            "sample_shape": list(self.sample_shape),
            "stats_shape": list(self.mean.shape),
            "mean": self.mean.ravel().tolist(),
            "std": self.std.ravel().tolist(),
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Standardizer:
        """Rebuild a fitted Standardizer from ``to_dict()``'s output."""
        try:
            image_shape = record["image_shape"]
            standardizer = cls(record["mode"], record["scale"], image_shape, record["std_floor"])
            stats_shape = tuple(int(d) for d in record["stats_shape"])
            mean = np.asarray(record["mean"], dtype=np.float32).reshape(stats_shape)
            std = np.asarray(record["std"], dtype=np.float32).reshape(stats_shape)
            sample_shape = tuple(int(d) for d in record["sample_shape"])
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(
                f"invalid Standardizer record ({type(err).__name__}: {err}); "
                "the model file's preprocessing entry is damaged"
            ) from None
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise DataError("invalid Standardizer record: non-finite mean or non-positive std")
        standardizer.sample_shape, standardizer.mean, standardizer.std = sample_shape, mean, std
        try:
            np.broadcast_to(standardizer._broadcastable(mean), sample_shape)
        except (ValueError, IndexError):
            raise DataError(
                f"invalid Standardizer record: statistics of shape {stats_shape} do not fit "
                f"samples of shape {sample_shape}"
            ) from None
        return standardizer

    def __repr__(self) -> str:
        state = f"fitted on {self.sample_shape}" if self.fitted else "not fitted"
        return f"Standardizer(mode={self.mode!r}, scale={self.scale:g}, {state})"
