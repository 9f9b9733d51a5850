"""``visualize_grid``: the assignment's layout (square grid, padding, per-image rescaling)."""

import math

import numpy as np
import pytest

from numnet.vis import visualize_grid


def reference_grid(Xs, ubound, padding):
    """The layout written out cell by cell, the way the assignment's loop builds it."""
    n, h, w, c = Xs.shape
    g = math.ceil(math.sqrt(n))
    grid = np.zeros((g * h + (g - 1) * padding, g * w + (g - 1) * padding, c))
    for i in range(n):
        r, q = i // g, i % g
        img = Xs[i]
        grid[
            r * (h + padding) : r * (h + padding) + h, q * (w + padding) : q * (w + padding) + w
        ] = ubound * (img - img.min()) / (img.max() - img.min())
    return grid


@pytest.mark.parametrize("n, padding", [(1, 1), (5, 1), (9, 0), (10, 3)])
def test_layout_matches_the_cell_by_cell_grid(n, padding):
    Xs = np.random.default_rng(n).standard_normal((n, 4, 3, 2))
    grid = visualize_grid(Xs, ubound=10.0, padding=padding)
    g = math.ceil(math.sqrt(n))
    assert grid.shape == (4 * g + padding * (g - 1), 3 * g + padding * (g - 1), 2)
    np.testing.assert_allclose(grid, reference_grid(Xs, 10.0, padding))


def test_each_image_spans_zero_to_ubound_and_padding_stays_zero():
    Xs = np.arange(4 * 2 * 2 * 3, dtype=np.float64).reshape(4, 2, 2, 3)
    Xs[1] *= -7
    grid = visualize_grid(Xs)
    for r in range(2):
        for c in range(2):
            cell = grid[3 * r : 3 * r + 2, 3 * c : 3 * c + 2]
            assert cell.min() == 0 and cell.max() == 255.0
    assert np.all(grid[2, :] == 0) and np.all(grid[:, 2] == 0)


def test_constant_image_gives_zeros_not_nan():
    Xs = np.zeros((2, 3, 3, 1))
    Xs[1] = np.arange(9).reshape(3, 3, 1)
    grid = visualize_grid(Xs)
    assert np.isfinite(grid).all()
    assert np.all(grid[:3, :3] == 0) and grid[:3, 4:].max() == 255.0


def test_filters_through_the_notebooks_transpose():
    W1 = np.random.default_rng(0).standard_normal((6, 3, 5, 5))  # (F, C, HH, WW)
    grid = visualize_grid(W1.transpose(0, 2, 3, 1)).astype("uint8")
    assert grid.shape == (3 * 5 + 2, 3 * 5 + 2, 3)


@pytest.mark.parametrize(
    "Xs, kwargs, match",
    [
        (np.zeros((3, 5, 5)), {}, r"\(N, H, W, C\)"),
        (np.zeros((1, 2, 2, 1)), {"padding": -1}, "padding"),
        (np.array([[[["a"]]]]), {}, "numeric"),
    ],
)
def test_bad_input_is_named(Xs, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        visualize_grid(Xs, **kwargs)
