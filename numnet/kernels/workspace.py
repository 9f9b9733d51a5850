"""``Workspace``: scratch arrays a layer keeps from one call to the next instead of reallocating.

Fresh large arrays cost more than the arithmetic done in them (a page fault on every first touch,
and the kernel zeroes each page it hands out), so the layers of a model reuse their outputs, input
gradients and big temporaries (im2col matrices, padded inputs) between steps.

Each name owns one block of memory. A request of another shape or dtype (a new batch size, the
short last batch of an epoch) is served from that block when it fits, as a view of its start, so
switching between batch sizes touches no new memory. The block is replaced by a new one when the
request is larger, and also when ``SHRINK_AFTER`` requests in a row needed less than
``1 / SHRINK_BELOW`` of it, so that one big batch (predicting a test set at once) does not leave a
model holding that much memory for good, while a few small calls between big ones (a server's odd
single request, an epoch's short last batch) neither give it back nor page it in again: at most
one block per name lives. Blocks of 1 MiB and more sit in 2 MiB memory pages
(:mod:`numnet.kernels.huge_pages`), all but a tail of less than half a huge page, so that a first
call pages in little more memory than its buffers hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.kernels import huge_pages

# A block serves requests down to 1 / SHRINK_BELOW of its size; smaller ones too, until
# SHRINK_AFTER of them in a row have come, and then the block is replaced by one of their size.
SHRINK_BELOW = 4
SHRINK_AFTER = 8


def _nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    size = 1
    for length in shape:
        size *= int(length)
    return size * dtype.itemsize


class Workspace:
    """Named scratch arrays, reused while their shape and dtype stay the same.

    Notes
    -----
    A buffer handed out by :meth:`get` is overwritten by the next call with the same name, whatever
    its shape: callers must be done with it by then (a model's ``loss`` call is; the arrays it
    returns are fresh).
    """

    def __init__(self) -> None:
        self._arrays: dict[str, Any] = {}  # the array last handed out under each name
        self._blocks: dict[str, Any] = {}  # its memory: a 1-D uint8 NumPy array
        self._zero_keys: dict[str, Any] = {}  # names whose array came from zeros(): their key
        # names whose block is more than SHRINK_BELOW times their last request: how many such
        # requests came in a row (their calls take the slow path, to be counted)
        self._oversized: dict[str, int] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any, xp: Any = np) -> Any:
        """Return the buffer ``name`` of the given shape and dtype (uninitialised when new)."""
        array = self._arrays.get(name)
        if (
            array is not None
            and array.shape == shape
            and array.dtype == dtype
            and name not in self._oversized
        ):
            return array
        array = self._fit(name, tuple(shape), np.dtype(dtype), xp, zeroed=False)
        self._zero_keys.pop(name, None)
        return array

    def zeros(
        self, name: str, shape: tuple[int, ...], dtype: Any, xp: Any = np, key: Any = None
    ) -> tuple[Any, bool]:
        """Like :meth:`get`, but a new buffer starts at zero; also return whether it is new.

        Callers that overwrite the same region on every call (the inside of a zero-padded copy) only
        need the zeros around it written once. ``key`` (hashable) names what else decides which
        region that is (e.g. the image size and padding): a buffer asked for with another key than
        last time counts as new, and is zeroed again, as is memory reused from another shape.
        """
        array = self._arrays.get(name)
        if (
            array is not None
            and array.shape == shape
            and array.dtype == dtype
            and name in self._zero_keys
            and self._zero_keys[name] == key
            and name not in self._oversized
        ):
            return array, False
        array = self._fit(name, tuple(shape), np.dtype(dtype), xp, zeroed=True)
        self._zero_keys[name] = key
        return array, True

    def _fit(
        self, name: str, shape: tuple[int, ...], dtype: np.dtype, xp: Any, zeroed: bool
    ) -> Any:
        """``name``'s array of this shape (zeros if ``zeroed``), on its block when it fits."""
        if xp is not np:  # other array modules: one array per name, made anew on any change
            self._arrays.pop(name, None)
            array = (xp.zeros if zeroed else xp.empty)(shape, dtype=dtype)
            self._arrays[name] = array
            return array
        nbytes = _nbytes(shape, dtype)
        block = self._blocks.get(name)
        fits = block is not None and nbytes <= block.size
        if fits and nbytes * SHRINK_BELOW < block.size:
            in_a_row = self._oversized.get(name, 0) + 1
            fits = in_a_row < SHRINK_AFTER
            if fits:
                self._oversized[name] = in_a_row
        else:
            self._oversized.pop(name, None)
        if not fits:
            # free the old block (and the array on it) before making its replacement
            self._arrays.pop(name, None)
            self._blocks.pop(name, None)
            self._oversized.pop(name, None)
            size = max(nbytes, 1)
            if size < huge_pages.MIN_BYTES:
                block = (np.zeros if zeroed else np.empty)(size, dtype=np.uint8)
            else:
                make = huge_pages.zeros if zeroed else huge_pages.empty
                block = make((size,), np.uint8, trim_tail=True)
            self._blocks[name] = block
        array = block[:nbytes].view(dtype).reshape(shape)
        if zeroed and fits:
            array[...] = 0
        self._arrays[name] = array
        return array

    def clear(self) -> None:
        """Drop every buffer (they are reallocated on demand)."""
        self._arrays.clear()
        self._blocks.clear()
        self._zero_keys.clear()
        self._oversized.clear()

    def nbytes(self) -> int:
        """Memory held by the buffers, in bytes (a block may be larger than its current array)."""
        held = sum(int(block.nbytes) for block in self._blocks.values())
        return held + sum(
            int(array.nbytes) for name, array in self._arrays.items() if name not in self._blocks
        )

    def __repr__(self) -> str:
        shapes = {name: tuple(a.shape) for name, a in self._arrays.items()}
        return f"Workspace({shapes})"
