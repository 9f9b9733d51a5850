"""Huge-page arrays (numnet.kernels.huge_pages), as Workspace and the flat parameters use them."""

from __future__ import annotations

import gc
import mmap
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

from numnet.kernels import huge_pages
from numnet.kernels.workspace import Workspace

needs_madvise = pytest.mark.skipif(
    not hasattr(mmap, "MADV_HUGEPAGE"), reason="the platform has no MADV_HUGEPAGE"
)


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _mapping_of(array: np.ndarray) -> mmap.mmap | None:
    """The mmap behind ``array`` (view -> uint8 array -> memoryview -> mmap), or None."""
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return base if isinstance(base, mmap.mmap) else None


def _vm_flags(address: int) -> list[str]:
    """The VmFlags of the memory range holding ``address`` (Linux /proc/self/smaps)."""
    current = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0] if line else ""
        if "-" in head and all(c in "0123456789abcdef-" for c in head):
            start, stop = (int(part, 16) for part in head.split("-"))
            current = start <= address < stop
        elif line.startswith("VmFlags:") and current:
            return line.split()[1:]
    raise AssertionError(f"address {address:#x} is in no mapping of /proc/self/smaps")


@needs_madvise
@pytest.mark.parametrize("dtype", [np.float32, np.float64, bool])
def test_big_arrays_start_on_a_huge_page_boundary(dtype: type) -> None:
    shape = (3, huge_pages.MIN_BYTES // np.dtype(dtype).itemsize // 2 + 5)
    array = huge_pages.empty(shape, dtype)
    assert array.shape == shape and array.dtype == np.dtype(dtype)
    assert array.flags.c_contiguous and array.flags.writeable
    assert _address(array) % huge_pages.HUGE_PAGE_BYTES == 0
    assert _mapping_of(array) is not None
    array[...] = 1  # the whole extent is writable memory
    assert int(array.sum()) == array.size


def test_small_arrays_are_ordinary() -> None:
    small = huge_pages.empty((huge_pages.MIN_BYTES // 8 - 1,), np.float64)
    assert _mapping_of(small) is None
    assert small.shape == (huge_pages.MIN_BYTES // 8 - 1,)


@needs_madvise
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_the_kernel_is_asked_for_huge_pages() -> None:
    array = huge_pages.empty((huge_pages.MIN_BYTES,), np.uint8)
    assert "hg" in _vm_flags(_address(array))  # VmFlags "hg": advised MADV_HUGEPAGE
    # (no check that an ordinary array lacks it: the heap may hold ranges that NumPy itself
    # advised for an earlier array of 4 MiB or more)


@needs_madvise
def test_the_memory_is_released_with_the_last_view() -> None:
    array = huge_pages.empty((huge_pages.MIN_BYTES // 4,), np.float32)
    mapping = weakref.ref(_mapping_of(array))
    view = array[10:20]
    del array
    gc.collect()
    assert mapping() is not None  # the view still needs it
    del view
    gc.collect()
    assert mapping() is None


@needs_madvise
def test_workspace_buffers_use_huge_pages_from_one_mebibyte() -> None:
    workspace = Workspace()
    big = workspace.get("big", (huge_pages.MIN_BYTES // 4,), np.float32)
    small = workspace.get("small", (1000,), np.float32)
    assert _mapping_of(big) is not None and _mapping_of(small) is None
    assert workspace.get("big", (huge_pages.MIN_BYTES // 4,), np.float32) is big


def test_workspace_zeros_are_zero_after_a_reused_name_held_other_values() -> None:
    workspace = Workspace()
    first = workspace.get("buffer", (huge_pages.MIN_BYTES // 4,), np.float32)
    first[...] = 7
    zeros, new = workspace.zeros("buffer", (huge_pages.MIN_BYTES // 4 + 1,), np.float32)
    assert new and not np.any(zeros)
    zeros[...] = 3
    again, new = workspace.zeros("buffer", (huge_pages.MIN_BYTES // 4 + 1,), np.float32)
    assert not new and again is zeros and np.all(again == 3)  # kept, not re-zeroed


@needs_madvise
def test_flat_parameters_and_momentum_live_in_huge_pages() -> None:
    from numnet import optim
    from numnet.models import FullyConnectedNet

    model = FullyConnectedNet(
        hidden_dims=[500], input_dim=784, num_classes=10, dtype=np.float32, seed=0
    )
    before = {name: value.copy() for name, value in model.params.items()}
    flat = model.params.flat_buffer()
    assert flat is not None and _mapping_of(flat) is not None
    assert all(np.array_equal(model.params[name], before[name]) for name in before)
    # The fused update keeps the momentum in huge pages too, as views of one flat buffer.
    from numnet.kernels.flat_update import flat_update

    opt = optim.SGD(0.1, momentum=0.9)
    state = opt.init(model.params)
    _, grads = model.loss(np.zeros((2, 784), np.float32), np.array([0, 1]))
    assert flat_update(opt).step(model.params, grads, state)
    momentum = [value for key, value in state.items() if "momentum/" in key]
    assert momentum and all(_mapping_of(v) is not None for v in momentum)
    assert len({id(v.base) for v in momentum}) == 1


def test_views_of_a_one_dimensional_array_have_it_as_base() -> None:
    flat = huge_pages.empty((huge_pages.MIN_BYTES // 4,), np.float32)
    assert flat[10:20].reshape(2, 5).base is flat  # as for np.empty (the optimizers rely on it)
