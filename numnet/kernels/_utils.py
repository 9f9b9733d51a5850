"""Small helpers shared by the channel-last kernels (``conv_im2col``, ``conv_winograd``,
``pool_nhwc``, ``batchnorm_rows``): scratch arrays, the window positions that lie inside the
input, and pooling blocks back to an image. Output sizes and window slices are the reference's
(:mod:`numnet.functional._windows`).
"""

from __future__ import annotations

from typing import Any

from numnet.functional._backend import get_array_module
from numnet.functional._windows import window_slice


def scratch(workspace: Any, name: str, shape: tuple[int, ...], dtype: Any, xp: Any) -> Any:
    """An uninitialised array: the workspace's buffer ``name`` or a fresh one."""
    if workspace is None:
        return xp.empty(shape, dtype=dtype)
    return workspace.get(name, shape, dtype, xp)


def zeroed_once(
    workspace: Any, name: str, shape: tuple[int, ...], dtype: Any, xp: Any, key: Any = None
) -> Any:
    """(array, new): the workspace's buffer ``name`` (zeros when new, see
    :meth:`~numnet.kernels.workspace.Workspace.zeros` for ``key``) or fresh zeros."""
    if workspace is None:
        return xp.zeros(shape, dtype=dtype), True
    return workspace.zeros(name, shape, dtype, xp, key)


def store(value: Any, out: Any = None) -> Any:
    """``value`` written into ``out`` when one is given, else copied into a new C-contiguous array.

    For kernels whose callers may pass preallocated gradient arrays (views of one flat buffer).
    Always a copy: ``value`` may be a view of a scratch buffer that the next call overwrites.
    """
    if out is None:
        return get_array_module(value).array(value, order="C", copy=True)
    out[...] = value
    return out


def blocks_to_image(blocks: Any, image: Any) -> None:
    """``image`` (N, 2 h, 2 w, C) from the 2x2-window blocks (4, N, h, w, C) of a pooling-ordered
    output: block ``2 p + q`` holds the pixels (2 i + p, 2 j + q)."""
    for p in range(2):
        for q in range(2):
            image[:, p::2, q::2] = blocks[2 * p + q]


def positions_inside(offset: int, stride: int, pad: int, out_size: int, size: int) -> Any:
    """(output slice, input slice) of the positions ``offset + stride * i - pad`` inside [0, size).

    None when no output position of this kernel offset reads inside the input (only padding).
    """
    first = max(0, -(-(pad - offset) // stride))  # ceil((pad - offset) / stride), at least 0
    last = min(out_size - 1, (size - 1 + pad - offset) // stride)
    if last < first:
        return None
    start = offset + stride * first - pad
    return slice(first, last + 1), window_slice(start, stride, last - first + 1)
