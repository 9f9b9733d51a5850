"""What a new batch size or geometry sets up: workspace memory reused across shapes, zeros kept
right across geometries, inference that keeps no training state, and huge-page zeros.

Behaviour only; how long a first call takes is measured by ``python -m bench.cold_start``.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from numnet.functional.conv import conv_forward
from numnet.kernels import huge_pages
from numnet.kernels import workspace as workspace_module
from numnet.kernels.conv_im2col import conv_nhwc_forward
from numnet.kernels.conv_winograd import winograd_backward, winograd_forward
from numnet.kernels.workspace import Workspace

MIB_FLOATS = huge_pages.MIN_BYTES // 4  # float32 values in 1 MiB


# ---------------------------------------------------------------- Workspace blocks across shapes


@pytest.mark.parametrize("rows", [MIB_FLOATS // 100, 7])  # a huge-page block and a small one
def test_a_smaller_request_reuses_the_block(rows):
    workspace = Workspace()
    big = workspace.get("buffer", (4 * rows, 100), np.float32)
    held = workspace.nbytes()
    small = workspace.get("buffer", (3 * rows, 100), np.float32)
    assert small.shape == (3 * rows, 100) and small.dtype == np.float32
    assert small.flags.c_contiguous and small.flags.writeable
    assert np.shares_memory(small, big)
    assert workspace.nbytes() == held
    # and back: the first shape again is served from the same block
    again = workspace.get("buffer", (4 * rows, 100), np.float32)
    assert np.shares_memory(again, small) and workspace.nbytes() == held


def test_another_dtype_of_the_same_size_reuses_the_block():
    workspace = Workspace()
    first = workspace.get("buffer", (1000,), np.float64)
    second = workspace.get("buffer", (2000,), np.float32)
    assert second.dtype == np.float32 and np.shares_memory(first, second)


def test_much_smaller_requests_in_a_row_give_the_memory_back():
    workspace = Workspace()
    big = workspace.get("buffer", (workspace_module.SHRINK_BELOW * 1000 + 4,), np.float32)
    held = workspace.nbytes()
    for _ in range(2):
        # a few small requests, then a big one: the block stays
        for _ in range(workspace_module.SHRINK_AFTER - 1):
            small = workspace.get("buffer", (1000,), np.float32)
            assert np.shares_memory(small, big) and workspace.nbytes() == held
        assert np.shares_memory(workspace.get("buffer", big.shape, np.float32), big)
    for _ in range(workspace_module.SHRINK_AFTER - 1):
        small = workspace.get("buffer", (1000,), np.float32)
    assert np.shares_memory(small, big)
    small = workspace.get("buffer", (1000,), np.float32)  # the SHRINK_AFTER-th in a row
    assert not np.shares_memory(small, big)
    assert workspace.nbytes() == small.nbytes  # a block of its own; the big one is gone
    assert workspace.get("buffer", (1000,), np.float32) is small


def test_zeros_on_an_oversized_block_stay_zero_until_it_is_replaced():
    workspace = Workspace()
    workspace.zeros("buffer", (workspace_module.SHRINK_BELOW * 100 + 4,), np.float32)
    for _ in range(workspace_module.SHRINK_AFTER):  # the last one replaces the block
        zeros, _ = workspace.zeros("buffer", (100,), np.float32)
        assert not np.any(zeros)
        zeros[...] = 7  # what a caller writes inside; the next call must not see it
    again, new = workspace.zeros("buffer", (100,), np.float32)
    assert not new and again is zeros and np.all(again == 7)  # replaced: kept as usual again


def test_a_larger_request_replaces_the_block():
    workspace = Workspace()
    workspace.get("buffer", (1000,), np.float32)
    workspace.get("other", (10,), np.float32)
    bigger = workspace.get("buffer", (3000,), np.float32)
    assert bigger.shape == (3000,)
    assert workspace.nbytes() == bigger.nbytes + 10 * 4  # one block per name


def test_the_same_shape_gives_the_same_array():
    workspace = Workspace()
    first = workspace.get("buffer", (3, 5), np.float32)
    assert workspace.get("buffer", (3, 5), np.float32) is first
    zeros, new = workspace.zeros("padded", (4, 6), np.float32)
    assert new and workspace.zeros("padded", (4, 6), np.float32) == (zeros, False)


def test_zeros_from_a_reused_block_are_zero():
    workspace = Workspace()
    first, _ = workspace.zeros("buffer", (MIB_FLOATS,), np.float32)
    first[...] = 5
    smaller, new = workspace.zeros("buffer", (MIB_FLOATS // 2,), np.float32)
    assert new and np.shares_memory(first, smaller) and not np.any(smaller)
    smaller[...] = 3
    bigger_again, new = workspace.zeros("buffer", (MIB_FLOATS,), np.float32)
    assert new and not np.any(bigger_again)


def test_zeros_with_another_key_are_zeroed_again():
    workspace = Workspace()
    first, new = workspace.zeros("buffer", (10, 10), np.float32, key=("pad", 1))
    assert new
    first[...] = 2
    same, new = workspace.zeros("buffer", (10, 10), np.float32, key=("pad", 1))
    assert not new and same is first and np.all(same == 2)  # kept: only the key says otherwise
    other, new = workspace.zeros("buffer", (10, 10), np.float32, key=("pad", 2))
    assert new and not np.any(other)


def test_get_after_zeros_and_back_starts_from_zero():
    workspace = Workspace()
    zeros, _ = workspace.zeros("buffer", (100,), np.float32)
    plain = workspace.get("buffer", (50,), np.float32)
    plain[...] = 9
    zeros, new = workspace.zeros("buffer", (100,), np.float32)
    assert new and not np.any(zeros)


def test_clear_drops_every_block():
    workspace = Workspace()
    workspace.get("a", (100,), np.float32)
    workspace.zeros("b", (100,), np.float32)
    workspace.clear()
    assert workspace.nbytes() == 0
    _, new = workspace.zeros("b", (100,), np.float32)
    assert new


# ---------------------------------------------------------------- huge pages


@pytest.mark.parametrize("size", [10, MIB_FLOATS + 3])
def test_huge_page_zeros_are_zero_and_writable(size):
    array = huge_pages.zeros((size,), np.float32)
    assert array.shape == (size,) and not np.any(array)
    array[...] = 1
    assert float(array.sum()) == size
    assert not np.any(huge_pages.zeros((size,), np.float32))  # a new one is zero again


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _advised_huge(address: int) -> bool:
    """Whether the memory range holding ``address`` is advised MADV_HUGEPAGE (VmFlags "hg")."""
    inside = False
    with open("/proc/self/smaps", encoding="ascii") as smaps:
        for line in smaps:
            head = line.split()[0] if line.strip() else ""
            if "-" in head and all(c in "0123456789abcdef-" for c in head):
                start, stop = (int(part, 16) for part in head.split("-"))
                inside = start <= address < stop
            elif line.startswith("VmFlags:") and inside:
                return "hg" in line.split()[1:]
    raise AssertionError(f"address {address:#x} is in no mapping")


@pytest.mark.skipif(
    not (huge_pages._SUPPORTED and sys.platform.startswith("linux")),
    reason="needs MADV_HUGEPAGE and /proc/self/smaps",
)
def test_trim_tail_leaves_a_short_tail_in_ordinary_pages():
    page = huge_pages.HUGE_PAGE_BYTES
    array = huge_pages.empty((2 * page + page // 4,), np.uint8, trim_tail=True)
    assert _address(array) % page == 0
    assert _advised_huge(_address(array)) and _advised_huge(_address(array) + 2 * page - 1)
    assert not _advised_huge(_address(array) + 2 * page)  # the last quarter page
    array[...] = 1
    assert int(array.sum()) == array.size
    # a tail of half a huge page or more takes the whole page, as without trim_tail
    for size in (2 * page + page // 2, page - 1):
        longer = huge_pages.zeros((size,), np.uint8, trim_tail=True)
        assert _advised_huge(_address(longer) + size - 1) and not np.any(longer)


def test_workspace_blocks_page_in_no_more_than_they_hold():
    page = huge_pages.HUGE_PAGE_BYTES
    workspace = Workspace()
    block = workspace.get("buffer", (2 * page + page // 4,), np.uint8)
    block[...] = 1
    if huge_pages._SUPPORTED and sys.platform.startswith("linux"):
        assert _advised_huge(_address(block))
        assert not _advised_huge(_address(block) + 2 * page)


# ---------------------------------------------------------------- kernels across geometries


def _conv_reference(x_nhwc, w, b, pad):
    out, _ = conv_forward(x_nhwc.transpose(0, 3, 1, 2), w, b, {"stride": 1, "pad": pad})
    return out.transpose(0, 2, 3, 1)


@pytest.mark.parametrize("kernel", ["im2col", "winograd"])
def test_a_workspace_reused_across_paddings_and_batch_sizes(kernel):
    # (height, pad) pairs whose padded input (im2col) or patch buffer (Winograd) have the same
    # shape: the zeros of the first padding must not be taken for those of the second.
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 3, 3, 3))
    b = rng.standard_normal(5)
    workspace = Workspace()
    geometries = [(14, 1, 4), (12, 2, 4), (16, 0, 4), (14, 1, 4), (14, 1, 2), (12, 2, 3)]
    for height, pad, images in geometries:
        x = rng.standard_normal((images, height, height, 3))
        if kernel == "im2col":
            out, _ = conv_nhwc_forward(x, w, b, (1, 1, pad, pad), workspace)
        else:
            out, _ = winograd_forward(x, w, b, pad, workspace)
        np.testing.assert_allclose(out, _conv_reference(x, w, b, pad), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("pool_blocks", [False, True])
def test_winograd_inference_gives_the_training_output(monkeypatch, pool_blocks):
    from numnet.kernels import conv_winograd

    monkeypatch.setattr(conv_winograd, "_PASS_BYTES", 1)  # one image per pass
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 8, 8, 4))
    w = rng.standard_normal((6, 4, 3, 3))
    b = rng.standard_normal(6)
    training, inference = Workspace(), Workspace()
    for _ in range(2):
        want, _ = winograd_forward(x, w, b, 1, training, pool_blocks)
        got, cache = winograd_forward(x, w, b, 1, inference, pool_blocks, train=False)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert inference.nbytes() < training.nbytes()  # V is kept one pass at a time
    with pytest.raises(RuntimeError, match="train=True"):
        winograd_backward(np.ones_like(got), cache)


def test_winograd_passes_of_uneven_length_after_a_bigger_batch(monkeypatch):
    from numnet.kernels import conv_winograd

    # passes of at most 2 images: 5 images as 2 + 2 + 1 after 7 as 2 + 2 + 2 + 1, the second
    # call on blocks that the first made
    monkeypatch.setattr(conv_winograd, "_PASS_BYTES", 1)
    monkeypatch.setattr(conv_winograd, "_MIN_PASS_IMAGES", 2)
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    workspace = Workspace()
    for images in (7, 5):
        x = rng.standard_normal((images, 7, 9, 3))
        out, cache = winograd_forward(x, w, b, 1, workspace)
        np.testing.assert_allclose(out, _conv_reference(x, w, b, 1), rtol=1e-10, atol=1e-10)
        dx, _, _ = winograd_backward(np.ones(out.shape), cache)
        assert dx.shape == x.shape


# ---------------------------------------------------------------- a model across batch sizes


def _workspace_bytes(model) -> int:
    total = 0
    for layer in model.net.layers:
        workspace = getattr(layer, "workspace", None)
        if workspace is not None:
            total += workspace.nbytes()
    return total


def test_a_model_across_batch_sizes_scores_as_a_new_one_and_gives_memory_back():
    from numnet.models import ConvNet

    def build():
        return ConvNet(
            input_dim=(1, 12, 12), conv_channels=(4, 16), hidden_dims=(8,), seed=0
        )  # the second convolution has 16 channels: Winograd

    rng = np.random.default_rng(3)
    X = rng.standard_normal((96, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 10, size=96)
    model = build()
    model.loss(X[:8], y[:8])
    trained_bytes = _workspace_bytes(model)
    for size in (96, 8, 5, 96, 1):
        np.testing.assert_allclose(
            model.loss(X[:size]), build().loss(X[:size]), rtol=1e-5, atol=1e-6
        )
    for _ in range(workspace_module.SHRINK_AFTER):
        model.loss(X[:8], y[:8])
    # the big inference batch left nothing behind once training at the small one resumed
    assert _workspace_bytes(model) <= 1.25 * trained_bytes
