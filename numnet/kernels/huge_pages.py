"""Arrays in 2 MiB "huge" memory pages, for the big scratch arrays that a layer reuses every step.

Why: a training step of the benchmark CNN sweeps through some 60 MB of workspace arrays (im2col
matrices, Winograd transforms, outputs, gradients). With the usual 4 KiB pages that is ~15,000
pages, far more than the CPU's TLB (its cache of page addresses) holds, so the elementwise passes
and GEMMs keep stalling on page-table walks. Linux backs a memory range with 2 MiB pages when the
range is 2 MiB-aligned and the program asks for it (``madvise(MADV_HUGEPAGE)``, "transparent huge
pages"). NumPy asks for it only for arrays of 4 MiB and more, and then only their aligned middle;
:func:`empty` gives the whole array aligned 2 MiB pages.

Measured (CNN training step of ``python -m bench.run``, batch 64, 2 cores; three model copies per
variant, interleaved, so that one copy's lucky or unlucky memory placement does not decide): the
workspace in huge pages took 0.3 to 0.55 ms (3-4 %) off a 13 ms step, and the step times of the
copies spread less (two runs: 12.61-12.72 and 12.81-12.85 ms, against 13.14-13.25 and
12.88-13.53 ms with ordinary pages).

Where the platform has no ``MADV_HUGEPAGE`` (not Linux) or the mapping fails, :func:`empty` is
``np.empty`` (and :func:`zeros` fills one). The memory is returned to the system when the array
(and every view of it) is gone.
"""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np

HUGE_PAGE_BYTES = 2 << 20
# Smaller arrays stay ordinary: a huge page is allocated whole, so a 300 KB buffer would occupy
# 2 MiB of memory; from 1 MiB on the rounding costs at most as much as the array itself.
MIN_BYTES = 1 << 20
_SUPPORTED = hasattr(mmap, "MADV_HUGEPAGE") and hasattr(mmap, "MAP_ANONYMOUS")


def empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Uninitialised C-contiguous array, in 2 MiB pages when it has at least ``MIN_BYTES``.

    The array starts on a 2 MiB boundary of an anonymous memory mapping advised
    ``MADV_HUGEPAGE`` (fresh mappings read as zeros). Small arrays, and any platform or failure
    that rules this out, get ``np.empty(shape, dtype)``.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if not _SUPPORTED or nbytes < MIN_BYTES:
        return np.empty(shape, dtype=dtype)
    mapped = -(-nbytes // HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES + HUGE_PAGE_BYTES  # room to align
    try:
        mapping = mmap.mmap(-1, mapped, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except OSError:
        return np.empty(shape, dtype=dtype)
    address = np.frombuffer(mapping, dtype=np.uint8, count=1).__array_interface__["data"][0]
    start = -address % HUGE_PAGE_BYTES
    try:
        mapping.madvise(mmap.MADV_HUGEPAGE, start, mapped - start)
    except OSError:  # a kernel without transparent huge pages: ordinary pages then
        pass
    # One 1-D array straight on the mapping (which it keeps alive): its views and reshapes have
    # it as their ``base``, as views of an ``np.empty`` array have that array.
    flat = np.frombuffer(mapping, dtype=dtype, count=nbytes // dtype.itemsize, offset=start)
    return flat if flat.shape == tuple(shape) else flat.reshape(shape)


def zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Like :func:`empty`, filled with zeros."""
    array = empty(shape, dtype)
    array[...] = 0
    return array
