"""CS231n's ``visualize_grid``: tile a batch of images into one array for display (NumPy only).

The notebooks show first-layer filters with
``plt.imshow(visualize_grid(W1.transpose(0, 2, 3, 1)).astype("uint8"))``; numnet computes the array
and leaves the plotting to the caller, so this module needs nothing but NumPy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["visualize_grid"]


def visualize_grid(Xs: Any, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """Tile ``N`` images into a square grid, each rescaled on its own to ``[0, ubound]``.

    Parameters
    ----------
    Xs : array_like, shape (N, H, W, C)
        Channels last, as the assignment's call ``visualize_grid(W1.transpose(0, 2, 3, 1))``.
    ubound : float
        Every image is mapped linearly so its minimum becomes 0 and its maximum ``ubound``.
    padding : int
        Pixels of zeros between neighbouring images.

    Returns
    -------
    grid : ndarray, shape (G * H + (G - 1) * padding, G * W + (G - 1) * padding, C), float64
        ``G = ceil(sqrt(N))``; image ``i`` sits in row ``i // G``, column ``i % G``; unused cells
        and the padding are 0.

    Notes
    -----
    One difference from the assignment: a constant image (``max == min``, e.g. a filter that
    is still all zeros) becomes all zeros instead of NaN from a division by zero.
    """
    Xs = np.asarray(Xs)
    if Xs.ndim != 4:
        raise ValueError(
            f"visualize_grid needs images (N, H, W, C), got shape {Xs.shape}; for filters "
            "(F, C, HH, WW) pass W.transpose(0, 2, 3, 1)"
        )
    if Xs.dtype.kind not in "fiub":
        raise TypeError(f"visualize_grid needs a numeric array, got dtype {Xs.dtype}")
    if isinstance(padding, bool) or not isinstance(padding, int | np.integer) or padding < 0:
        raise ValueError(f"padding must be an integer >= 0, got {padding!r}")
    n, height, width, channels = Xs.shape
    grid_size = math.ceil(math.sqrt(n))
    grid = np.zeros(
        (
            max(0, height * grid_size + padding * (grid_size - 1)),
            max(0, width * grid_size + padding * (grid_size - 1)),
            channels,
        )
    )
    for index in range(n):
        row, col = divmod(index, grid_size)
        y0, x0 = row * (height + padding), col * (width + padding)
        img = Xs[index].astype(np.float64)
        if img.size and img.max() > img.min():
            low, high = img.min(), img.max()
            grid[y0 : y0 + height, x0 : x0 + width] = ubound * (img - low) / (high - low)
    return grid
