"""A picture of misclassified images: one small panel per image, titled with its true class, the
predicted class and the model's confidence in that prediction."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from numnet.callbacks.figures import pyplot, save_figure


def plot_misclassified(
    images: np.ndarray,
    true_names: Sequence[str],
    predicted_names: Sequence[str],
    confidences: Sequence[float],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> None:
    """Draw ``images`` in a grid (as square as it gets) to a PNG at ``path``.

    Parameters
    ----------
    images : ndarray, shape (N, H, W) or (N, H, W, 3), values in [0, 1]
        Grey images are drawn with the grey colour map (0 black).
    true_names, predicted_names, confidences : sequences of length N
        Panel ``i`` is titled ``"true <t>" / "predicted <p> (<confidence as a percentage>)"``.
    title : str, optional
        The figure's title. With ``N == 0`` the picture says there is nothing to show.

    Raises NumnetError if matplotlib is missing.
    """
    images = np.asarray(images)
    count = len(images)
    if not len(true_names) == len(predicted_names) == len(confidences) == count:
        raise ValueError(
            f"one true name, predicted name and confidence per image are needed ({count} images, "
            f"{len(true_names)}, {len(predicted_names)} and {len(confidences)} given)"
        )
    plt = pyplot()
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.9 * cols + 0.6, 2.0 * rows + 0.9), squeeze=False
    )
    try:
        for index, ax in enumerate(axes.ravel()):
            ax.set_axis_off()
            if index >= count:
                continue
            grey = images[index].ndim == 2
            ax.imshow(images[index], cmap="gray" if grey else None, vmin=0.0, vmax=1.0)
            ax.set_title(
                f"true {true_names[index]}\npredicted {predicted_names[index]} "
                f"({confidences[index]:.0%})",
                fontsize=8,
            )
        if count == 0:
            axes[0, 0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        if title:
            fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        save_figure(fig, path)
    finally:
        plt.close(fig)
