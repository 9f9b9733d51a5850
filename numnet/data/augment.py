"""Data augmentation on image batches ``(N, C, H, W)``: random shifts and horizontal flips.

All randomness comes from the ``np.random.Generator`` passed in, so a seeded run is reproducible.
The work is vectorised: the only Python loops run over the (few) distinct shift values.
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


def random_shift(X: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Translate each image by an integer offset in ``[-max_shift, max_shift]`` on each axis.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    max_shift : int
        Largest shift in pixels (non-negative); 0 returns a copy.
    rng : np.random.Generator
        Draws the vertical then horizontal shifts, ``rng.integers(-m, m + 1, size=(2, N))``.

    Returns
    -------
    ndarray, shape (N, C, H, W)
        A new array of X's dtype; pixels shifted in from outside the image are zero.
    """
    _check_images(X, "random_shift")
    if int(max_shift) != max_shift or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift}")
    max_shift = int(max_shift)
    if max_shift == 0:
        return X.copy()
    shifts = rng.integers(-max_shift, max_shift + 1, size=(2, X.shape[0]))
    shifted_rows = _shift_axis(X, shifts[0], axis=2, max_shift=max_shift)
    return _shift_axis(shifted_rows, shifts[1], axis=3, max_shift=max_shift)


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

    Calling ``augmenter(X_batch, rng)`` returns a new, augmented batch of the same shape and dtype.
    """

    def __init__(
        self, shift: int = 2, hflip: bool = False, image_shape: tuple[int, ...] | None = None
    ) -> None:
        if int(shift) != shift or shift < 0:
            raise ValueError(f"shift must be a non-negative integer, got {shift}")
        self.shift = int(shift)
        self.hflip = bool(hflip)
        self.image_shape = None if image_shape is None else tuple(int(d) for d in image_shape)

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
        out = random_shift(X_batch, self.shift, rng) if self.shift else X_batch.copy()
        if self.hflip:
            out = random_hflip(out, rng)
        return out if flat_shape is None else out.reshape(flat_shape)

    def get_config(self) -> dict[str, Any]:
        """JSON-able settings, e.g. for run metadata."""
        return {"shift": self.shift, "hflip": self.hflip}

    def __repr__(self) -> str:
        return f"Augmenter(shift={self.shift}, hflip={self.hflip})"
