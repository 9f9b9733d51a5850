"""Window arithmetic shared by convolution and pooling: output sizes and strided window slices."""

from __future__ import annotations


def output_size(size: int, window: int, stride: int, pad: int = 0) -> int:
    """Number of window positions along one axis: ``1 + (size + 2 pad - window) // stride``.

    The floor drops a last partial window (as PyTorch); the result is < 1 when no window fits.
    """
    return 1 + (size + 2 * pad - window) // stride


def window_slice(offset: int, stride: int, count: int) -> slice:
    """Positions ``offset, offset + stride, ..., offset + stride (count - 1)``.

    Along one axis, the element at ``offset`` inside each of ``count`` windows: slicing an image
    with it (on both axes) gives, for one window offset, the value every window sees there.
    """
    return slice(offset, offset + stride * (count - 1) + 1, stride)
