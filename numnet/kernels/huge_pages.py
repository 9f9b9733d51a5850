"""Arrays in 2 MiB "huge" memory pages, for the big scratch arrays that a layer reuses every step.

Why: a training step of the benchmark CNN sweeps through tens of megabytes of workspace arrays
(im2col matrices, Winograd transforms, outputs, gradients). With the usual 4 KiB pages that is
thousands of pages, far more than the CPU's TLB (its cache of page addresses) holds, so the
elementwise passes and GEMMs keep stalling on page-table walks. Linux backs a memory range with
2 MiB pages when the range is 2 MiB-aligned and the program asks for it (``madvise(MADV_HUGEPAGE)``,
"transparent huge pages"). NumPy asks for it only for arrays of 4 MiB and more, and then only their
aligned middle; :func:`empty` gives the whole array aligned 2 MiB pages. Besides being faster to
sweep, the arrays of a model then land in fewer, larger pages, so model copies differ less in how
their memory happens to be placed (``python -m bench.run`` shows the effect on the CNN step).

Where the platform has no ``MADV_HUGEPAGE`` (not Linux) or the mapping fails, :func:`empty` is
``np.empty`` (and :func:`zeros` is ``np.zeros``). The memory is returned to the system when the
array (and every view of it) is gone.
"""

from __future__ import annotations

import math
import mmap
from typing import Any

import numpy as np

HUGE_PAGE_BYTES = 2 << 20
# Smaller arrays stay ordinary: a huge page is allocated whole, so a 300 KB buffer would occupy
# 2 MiB of memory; from 1 MiB on the rounding costs at most as much as the array itself.
MIN_BYTES = 1 << 20
_SUPPORTED = hasattr(mmap, "MADV_HUGEPAGE") and hasattr(mmap, "MAP_ANONYMOUS")


def _mapped(shape: Any, dtype: np.dtype, trim_tail: bool) -> np.ndarray | None:
    """A new C-contiguous array on a fresh huge-page mapping, or None where that is ruled out.

    The array starts on a 2 MiB boundary of an anonymous memory mapping advised
    ``MADV_HUGEPAGE`` (with ``trim_tail``, all but a last huge page that the array fills less
    than half of). A fresh anonymous mapping reads as zeros, and its pages are only allocated
    (and zeroed by the kernel) when first touched.
    """
    shape = (int(shape),) if isinstance(shape, int | np.integer) else tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if not _SUPPORTED or nbytes < MIN_BYTES:
        return None
    mapped = -(-nbytes // HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES + HUGE_PAGE_BYTES  # room to align
    try:
        mapping = mmap.mmap(-1, mapped, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except OSError:
        return None
    address = np.frombuffer(mapping, dtype=np.uint8, count=1).__array_interface__["data"][0]
    start = -address % HUGE_PAGE_BYTES
    advised = mapped - start  # the last huge page too, though the array ends inside it
    if trim_tail and nbytes % HUGE_PAGE_BYTES < HUGE_PAGE_BYTES // 2:
        advised = nbytes // HUGE_PAGE_BYTES * HUGE_PAGE_BYTES  # (not 0: nbytes >= MIN_BYTES)
    try:
        mapping.madvise(mmap.MADV_HUGEPAGE, start, advised)
    except OSError:  # a kernel without transparent huge pages: ordinary pages then
        pass
    # One 1-D array straight on the mapping (which it keeps alive): its views and reshapes have
    # it as their ``base``, as views of an ``np.empty`` array have that array.
    flat = np.frombuffer(mapping, dtype=dtype, count=nbytes // dtype.itemsize, offset=start)
    return flat if flat.shape == shape else flat.reshape(shape)


def empty(shape: tuple[int, ...], dtype: Any, *, trim_tail: bool = False) -> np.ndarray:
    """Uninitialised C-contiguous array, in 2 MiB pages when it has at least ``MIN_BYTES``.

    Small arrays, and any platform or failure that rules the pages out, get
    ``np.empty(shape, dtype)``.

    The first write into a huge page makes the kernel allocate and zero all 2 MiB of it, so an
    array that ends just inside its last huge page pays for that page whole. With ``trim_tail``
    such a tail (less than half a huge page) stays in ordinary pages: for scratch buffers of any
    size, whose first use should page in little more than the buffer, while their last few
    ordinary pages cost the TLB little.
    """
    dtype = np.dtype(dtype)
    array = _mapped(shape, dtype, trim_tail)
    return np.empty(shape, dtype=dtype) if array is None else array


def zeros(shape: tuple[int, ...], dtype: Any, *, trim_tail: bool = False) -> np.ndarray:
    """Like :func:`empty`, filled with zeros.

    A fresh mapping already reads as zeros, so nothing is written: the pages are allocated when
    the caller first writes them, not by a zero-filling pass before that.
    """
    dtype = np.dtype(dtype)
    array = _mapped(shape, dtype, trim_tail)
    return np.zeros(shape, dtype=dtype) if array is None else array
