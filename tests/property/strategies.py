"""Hypothesis strategies shared by the property tests: small layer geometries and seeded arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def conv_geometry(draw: st.DrawFn) -> dict:
    """A conv input/filter geometry whose output size is >= 1 on both axes."""
    kernel_h = draw(st.integers(1, 4))
    kernel_w = draw(st.integers(1, 4))
    pad = draw(st.integers(0, 2))
    stride = draw(st.integers(1, 3))
    height = draw(st.integers(max(1, kernel_h - 2 * pad), 9))
    width = draw(st.integers(max(1, kernel_w - 2 * pad), 9))
    return {
        "n": draw(st.integers(1, 3)),
        "c": draw(st.integers(1, 3)),
        "f": draw(st.integers(1, 3)),
        "h": height,
        "w": width,
        "hh": kernel_h,
        "ww": kernel_w,
        "stride": stride,
        "pad": pad,
    }


@st.composite
def pool_geometry(draw: st.DrawFn) -> dict:
    """A pooling geometry: window no larger than the input, any stride."""
    pool_h = draw(st.integers(1, 4))
    pool_w = draw(st.integers(1, 4))
    return {
        "n": draw(st.integers(1, 3)),
        "c": draw(st.integers(1, 3)),
        "h": draw(st.integers(pool_h, 9)),
        "w": draw(st.integers(pool_w, 9)),
        "pool_height": pool_h,
        "pool_width": pool_w,
        "stride": draw(st.integers(1, 4)),
    }


seeds = st.integers(0, 2**32 - 1)


def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Standard-normal float64 array of ``shape`` from the given generator."""
    return rng.standard_normal(shape)
