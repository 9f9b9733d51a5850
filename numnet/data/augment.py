"""Data augmentation on image batches ``(N, C, H, W)``: random shifts and horizontal flips.

All randomness comes from the ``np.random.Generator`` passed in, so a seeded run is reproducible.
The work is vectorised: the only Python loops run over the (few) distinct shift values.

Pixels shifted in from outside the image take a ``fill`` value. On raw images that is 0 (black),
but on standardised images black is ``(0 - mean) / std``, not 0: 0 would paint bands of the mean
grey that no test image has. Give the standardised blank image as ``fill`` then.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _check_images(X: np.ndarray, what: str) -> None:
    if not isinstance(X, np.ndarray) or X.ndim != 4:
        shape = getattr(X, "shape", type(X).__name__)
        raise ValueError(f"{what} needs images of shape (N, C, H, W), got {shape}")


def _shift_axis(X: np.ndarray, shifts: np.ndarray, axis: int, max_shift: int) -> np.ndarray:
    """Shift each image ``X[i]`` by ``shifts[i]`` pixels along ``axis`` (2 or 3), filling zeros.

    A positive shift moves the content down (axis 2) or right (axis 3).
    """
    out = np.zeros_like(X)
    size = X.shape[axis]
    for shift in range(-max_shift, max_shift + 1):
        chosen = np.flatnonzero(shifts == shift)
        if chosen.size == 0 or abs(shift) >= size:
            continue  # shifted fully out of the image: stays all zeros
        dst = [slice(None)] * 4
        src = [slice(None)] * 4
        dst[0] = src[0] = chosen  # type: ignore[call-overload]
        dst[axis] = slice(max(shift, 0), size + min(shift, 0))
        src[axis] = slice(max(-shift, 0), size - max(shift, 0))
        out[tuple(dst)] = X[tuple(src)]
    return out


def _check_fill(fill: Any, image_shape: tuple[int, ...]) -> Any:
    """Return ``fill`` as a float scalar or a float array broadcastable to ``image_shape``."""
    if fill is None:
        return 0.0
    fill_array = np.asarray(fill)
    if fill_array.dtype.kind not in "fiu" or not np.all(np.isfinite(fill_array)):
        raise ValueError("fill must hold finite numbers (the value of a blank pixel)")
    try:
        np.broadcast_shapes(fill_array.shape, image_shape)
    except ValueError:
        raise ValueError(
            f"fill of shape {fill_array.shape} does not broadcast to images of shape "
            f"{image_shape}; give a scalar, (C, 1, 1) or (C, H, W)"
        ) from None
    return fill_array


def random_shift(
    X: np.ndarray, max_shift: int, rng: np.random.Generator, fill: Any = 0.0
) -> np.ndarray:
    """Translate each image by an integer offset in ``[-max_shift, max_shift]`` on each axis.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    max_shift : int
        Largest shift in pixels (non-negative); 0 returns a copy.
    rng : np.random.Generator
        Draws the vertical then horizontal shifts, ``rng.integers(-m, m + 1, size=(2, N))``.
    fill : float or ndarray broadcastable to (C, H, W)
        Value of the pixels shifted in from outside the image (a blank image's pixels).

    Returns
    -------
    ndarray, shape (N, C, H, W)
        A new array of X's dtype; pixels shifted in from outside the image are ``fill``.
    """
    _check_images(X, "random_shift")
    fill = _check_fill(fill, X.shape[1:])
    if int(max_shift) != max_shift or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift}")
    max_shift = int(max_shift)
    if max_shift == 0:
        return X.copy()
    shifts = rng.integers(-max_shift, max_shift + 1, size=(2, X.shape[0]))
    shifted_rows = _shift_axis(X, shifts[0], axis=2, max_shift=max_shift)
    shifted = _shift_axis(shifted_rows, shifts[1], axis=3, max_shift=max_shift)
    if np.all(fill == 0):
        return shifted
    # Pixel (r, c) of image i shows the source pixel (r - dy_i, c - dx_i) when that lies inside
    # the image; every other pixel gets its fill value (which may differ from pixel to pixel).
    height, width = X.shape[2], X.shape[3]
    source_rows = np.arange(height)[None, :] - shifts[0][:, None]  # (N, H)
    source_cols = np.arange(width)[None, :] - shifts[1][:, None]  # (N, W)
    rows_inside = (source_rows >= 0) & (source_rows < height)
    cols_inside = (source_cols >= 0) & (source_cols < width)
    inside = rows_inside[:, None, :, None] & cols_inside[:, None, None, :]  # (N, 1, H, W)
    return np.where(inside, shifted, np.asarray(fill, dtype=X.dtype))


def random_hflip(X: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability ``p``.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    rng : np.random.Generator
        Draws ``rng.random(N) < p``.
    p : float
        Probability of flipping an image, in [0, 1].

    Returns
    -------
    ndarray, shape (N, C, H, W)
        A new array; X is not modified.
    """
    _check_images(X, "random_hflip")
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    flip = np.flatnonzero(rng.random(X.shape[0]) < p)
    out = X.copy()
    out[flip] = X[flip, :, :, ::-1]
    return out


class Augmenter:
    """Random shifts and optional horizontal flips for training batches.

    Parameters
    ----------
    shift : int
        ``max_shift`` of :func:`random_shift` (0 disables it).
    hflip : bool
        Flip half of the images left-right (right for clothes, wrong for digits).
    image_shape : tuple (C, H, W), optional
        Lets the augmenter accept flattened batches ``(N, C*H*W)``.
    fill : float or ndarray, optional
        Value of pixels shifted in from outside the image: a scalar, or a blank image (C, H, W)
        or (C*H*W,) as the model sees it, e.g. ``standardizer.transform(zeros)[0]``. Default 0.

    Calling ``augmenter(X_batch, rng)`` returns a new, augmented batch of the same shape and dtype.
    """

    def __init__(
        self,
        shift: int = 2,
        hflip: bool = False,
        image_shape: tuple[int, ...] | None = None,
        fill: Any = None,
    ) -> None:
        if int(shift) != shift or shift < 0:
            raise ValueError(f"shift must be a non-negative integer, got {shift}")
        self.shift = int(shift)
        self.hflip = bool(hflip)
        self.image_shape = None if image_shape is None else tuple(int(d) for d in image_shape)
        self.fill: Any = 0.0
        if fill is not None:
            fill = np.asarray(fill, dtype=np.float64)
            if fill.ndim == 1 and self.image_shape is not None and fill.size > 1:
                if fill.size != int(np.prod(self.image_shape)):
                    raise ValueError(
                        f"fill has {fill.size} values but images of shape {self.image_shape} "
                        f"have {int(np.prod(self.image_shape))}; give one per pixel or a scalar"
                    )
                fill = fill.reshape(self.image_shape)
            self.fill = _check_fill(fill, fill.shape if fill.ndim == 3 else ())

    @property
    def enabled(self) -> bool:
        """Whether calling the augmenter changes anything."""
        return self.shift > 0 or self.hflip

    def __call__(self, X_batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flat_shape = None
        if isinstance(X_batch, np.ndarray) and X_batch.ndim == 2 and self.image_shape is not None:
            flat_shape = X_batch.shape
            X_batch = X_batch.reshape(X_batch.shape[0], *self.image_shape)
        _check_images(X_batch, "Augmenter")
        if self.shift:
            out = random_shift(X_batch, self.shift, rng, fill=self.fill)
        else:
            out = X_batch.copy()
        if self.hflip:
            out = random_hflip(out, rng)
        return out if flat_shape is None else out.reshape(flat_shape)

    def get_config(self) -> dict[str, Any]:
        """JSON-able settings, e.g. for run metadata."""
        fill = float(self.fill) if np.ndim(self.fill) == 0 else "per-pixel"
        return {"shift": self.shift, "hflip": self.hflip, "fill": fill}

    def __repr__(self) -> str:
        fill = float(self.fill) if np.ndim(self.fill) == 0 else f"array{np.shape(self.fill)}"
        return f"Augmenter(shift={self.shift}, hflip={self.hflip}, fill={fill})"
