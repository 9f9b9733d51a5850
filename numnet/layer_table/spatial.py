"""Rows of the spatial layers: convolution, max pooling, average pooling.

The loop versions (``conv_forward_naive``, ``max_pool_forward_naive`` and their backwards) run on
the same inputs as the vectorised reference and are held against it, float64 and float32.

Every ``make_args`` draws its shapes from the generator, and sizes are chosen so that the last
window often does not tile the input (the output size floors). Max-pool inputs are a random
permutation of well separated values: no ties and no kinks within the central-difference step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from numnet.functional.conv import (
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
)
from numnet.functional.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_backward_naive,
    max_pool_forward,
    max_pool_forward_naive,
)
from numnet.layer_table.case import PIECEWISE_LINEAR_STEP, LayerCase, reference_row
from numnet.layer_table.draw import between, distinct, input_size

MakeArgs = Callable[[np.random.Generator], tuple]


def conv_args_maker(
    stride: int | tuple[int, int], pad: int | tuple[int, int], kernel: tuple[int, int] | None
) -> MakeArgs:
    """``make_args`` of a convolution; ``kernel=None`` draws a (often non-square) kernel.

    A pair ``(h, w)`` for ``stride`` or ``pad`` gives per-axis settings
    (``stride_h``/``stride_w``/``pad_h``/``pad_w``).
    """
    stride_h, stride_w = stride if isinstance(stride, tuple) else (stride, stride)
    pad_h, pad_w = pad if isinstance(pad, tuple) else (pad, pad)
    if isinstance(stride, tuple) or isinstance(pad, tuple):
        param = {"stride_h": stride_h, "stride_w": stride_w, "pad_h": pad_h, "pad_w": pad_w}
    else:
        param = {"stride": stride, "pad": pad}

    def make_args(rng: np.random.Generator) -> tuple:
        if kernel is None:
            kernel_h, kernel_w = between(rng, 1, 4), between(rng, 1, 4)
        else:
            kernel_h, kernel_w = kernel
        num_images, channels, filters = between(rng, 1, 3), between(rng, 1, 3), between(rng, 1, 4)
        height = input_size(rng, kernel_h, stride_h, pad_h)
        width = input_size(rng, kernel_w, stride_w, pad_w)
        x = rng.standard_normal((num_images, channels, height, width))
        w = rng.standard_normal((filters, channels, kernel_h, kernel_w))
        b = rng.standard_normal(filters)
        return x, w, b, dict(param)

    return make_args


def torch_conv(torch, x, w, b, conv_param):
    """``F.conv2d`` with numnet's settings (``stride``/``pad`` or their per-axis forms)."""
    stride = tuple(conv_param.get(k, conv_param.get("stride", 1)) for k in ("stride_h", "stride_w"))
    pad = tuple(conv_param.get(k, conv_param.get("pad", 0)) for k in ("pad_h", "pad_w"))
    return torch.nn.functional.conv2d(x, w, b, stride=stride, padding=pad)


def winograd_args_maker(pad: int) -> MakeArgs:
    """``make_args`` fitting the Winograd kernel: 3x3 filters, stride 1, 1 to 6 outputs per axis.

    Every filter tap reads some real input (no tap sees only padding), so no gradient entry is
    exactly zero: the transforms' rounding (~1e-16) would otherwise show as a relative error of
    order 1 against a numerical derivative of 1e-11 where the exact one is 0.
    """

    def make_args(rng: np.random.Generator) -> tuple:
        num_images, channels, filters = between(rng, 1, 3), between(rng, 1, 4), between(rng, 1, 4)
        smallest = max(3 - 2 * pad, 2)
        height, width = between(rng, smallest, smallest + 5), between(rng, smallest, smallest + 5)
        x = rng.standard_normal((num_images, channels, height, width))
        w = rng.standard_normal((filters, channels, 3, 3))
        b = rng.standard_normal(filters)
        return x, w, b, {"stride": 1, "pad": pad}

    return make_args


def pool_args_maker(pool_h: int, pool_w: int, stride: int, distinct_values: bool) -> MakeArgs:
    """``make_args`` of a pooling layer; ``distinct_values`` keeps a max free of ties."""

    def make_args(rng: np.random.Generator) -> tuple:
        shape = (
            between(rng, 1, 3),
            between(rng, 1, 3),
            input_size(rng, pool_h, stride),
            input_size(rng, pool_w, stride),
        )
        x = distinct(rng, shape) if distinct_values else rng.standard_normal(shape)
        return x, {"pool_height": pool_h, "pool_width": pool_w, "stride": stride}

    return make_args


def torch_max_pool(torch, x, pool_param):
    """``F.max_pool2d`` with numnet's pool_param (no padding, floor)."""
    window = (pool_param["pool_height"], pool_param["pool_width"])
    return torch.nn.functional.max_pool2d(x, window, pool_param["stride"])


def torch_avg_pool(torch, x, pool_param):
    """``F.avg_pool2d`` with numnet's pool_param (no padding, floor)."""
    window = (pool_param["pool_height"], pool_param["pool_width"])
    return torch.nn.functional.avg_pool2d(x, window, pool_param["stride"])


CONV_INPUTS: dict[str, MakeArgs] = {
    "3x3-stride1-pad1": conv_args_maker(1, 1, (3, 3)),
    "3x3-stride1-pad0": conv_args_maker(1, 0, (3, 3)),
    "random-kernel-stride2-pad1": conv_args_maker(2, 1, None),
    "random-kernel-stride3-pad2": conv_args_maker(3, 2, None),
    "2x3-stride1-pad2": conv_args_maker(1, 2, (2, 3)),
    "1x1-stride2-pad0": conv_args_maker(2, 0, (1, 1)),
    "random-kernel-stride(2,1)-pad(0,2)": conv_args_maker((2, 1), (0, 2), None),
}
"""``variant -> make_args`` of the convolution rows (the im2col kernel reuses them)."""

WINOGRAD_INPUTS: dict[str, MakeArgs] = {
    f"3x3-stride1-pad{pad}": winograd_args_maker(pad) for pad in (0, 1, 2)
}
"""Inputs the Winograd kernel computes: 3x3 filters, stride 1, the same padding on both axes."""

MAX_POOL_INPUTS: dict[str, MakeArgs] = {
    "2x2-stride2": pool_args_maker(2, 2, 2, True),
    "3x3-stride2-overlapping": pool_args_maker(3, 3, 2, True),
    "2x3-stride1-overlapping": pool_args_maker(2, 3, 1, True),
    "2x2-stride3-gaps": pool_args_maker(2, 2, 3, True),
}
"""``variant -> make_args`` of the max-pooling rows (the channel-last kernel reuses them)."""

AVG_POOL_INPUTS: dict[str, MakeArgs] = {
    "2x2-stride2": pool_args_maker(2, 2, 2, False),
    "3x2-stride1-overlapping": pool_args_maker(3, 2, 1, False),
    "2x2-stride3-gaps": pool_args_maker(2, 2, 3, False),
}


def _conv_row(variant: str, make_args: MakeArgs) -> LayerCase:
    return reference_row(
        "conv",
        variant,
        conv_forward,
        conv_backward,
        make_args,
        (0, 1, 2),
        h=PIECEWISE_LINEAR_STEP,
        torch_fn=torch_conv,
    )


def _pool_row(kind: str, variant: str, make_args: MakeArgs) -> LayerCase:
    is_max = kind == "max"
    return reference_row(
        f"{kind}_pool",
        variant,
        max_pool_forward if is_max else avg_pool_forward,
        max_pool_backward if is_max else avg_pool_backward,
        make_args,
        (0,),
        h=PIECEWISE_LINEAR_STEP,
        torch_fn=torch_max_pool if is_max else torch_avg_pool,
    )


def _naive_rows(rows: list[LayerCase], forward, backward) -> list[LayerCase]:
    """The loop versions on the same inputs as ``rows``, held against the vectorised reference."""
    return [
        dataclasses.replace(
            row,
            variant=f"naive-{row.variant}",
            forward=forward,
            backward=backward,
            dtypes=("float64", "float32"),
        )
        for row in rows
    ]


_CONV_ROWS = [_conv_row(variant, make_args) for variant, make_args in CONV_INPUTS.items()]
_MAX_POOL_ROWS = [
    _pool_row("max", variant, make_args) for variant, make_args in MAX_POOL_INPUTS.items()
]

ROWS: list[LayerCase] = [
    *_CONV_ROWS,
    *_naive_rows(_CONV_ROWS, conv_forward_naive, conv_backward_naive),
    *_MAX_POOL_ROWS,
    *_naive_rows(_MAX_POOL_ROWS, max_pool_forward_naive, max_pool_backward_naive),
    *(_pool_row("avg", variant, make_args) for variant, make_args in AVG_POOL_INPUTS.items()),
]
