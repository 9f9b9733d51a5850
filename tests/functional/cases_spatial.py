"""Layer table rows for the spatial layers: convolution, max pooling, average pooling.

Every ``make_args`` draws its shapes from the generator, so each seed tests different sizes, and
sizes are chosen so that the last window does not always tile the input evenly (floor output).
Max-pool inputs are a random permutation of well separated values: no ties and no kinks within
the central-difference step, so both the gradient check and PyTorch parity are exact.
"""

from __future__ import annotations

import numpy as np

from numnet.functional.conv import conv_backward, conv_forward
from numnet.functional.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)
from numnet.gradcheck import _winograd_nchw_backward, _winograd_nchw_forward
from tests.functional.layercase import LayerCase


def _between(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer drawn uniformly from ``[low, high]``."""
    return int(rng.integers(low, high + 1))


def _input_size(rng: np.random.Generator, window: int, stride: int, pad: int = 0) -> int:
    """An input size giving 1..3 outputs, often with rows left over that no window covers."""
    outputs = _between(rng, 1, 3)
    smallest = max(1, window - 2 * pad + stride * (outputs - 1))
    return smallest + _between(rng, 0, stride - 1)


def _conv_args_maker(stride: int, pad: int, kernel: tuple[int, int] | None):
    """``make_args`` for a convolution; ``kernel=None`` draws a non-square kernel at random."""

    def make_args(rng: np.random.Generator) -> tuple:
        if kernel is None:
            kernel_h, kernel_w = _between(rng, 1, 4), _between(rng, 1, 4)
        else:
            kernel_h, kernel_w = kernel
        num_images, channels, filters = (
            _between(rng, 1, 3),
            _between(rng, 1, 3),
            _between(rng, 1, 4),
        )
        height = _input_size(rng, kernel_h, stride, pad)
        width = _input_size(rng, kernel_w, stride, pad)
        x = rng.standard_normal((num_images, channels, height, width))
        w = rng.standard_normal((filters, channels, kernel_h, kernel_w))
        b = rng.standard_normal(filters)
        return x, w, b, {"stride": stride, "pad": pad}

    return make_args


def _torch_conv(torch, x, w, b, conv_param):
    return torch.nn.functional.conv2d(
        x, w, b, stride=conv_param["stride"], padding=conv_param["pad"]
    )


def _pool_args_maker(pool_h: int, pool_w: int, stride: int, distinct: bool):
    """``make_args`` for a pooling layer with the given window; ``distinct`` avoids ties."""

    def make_args(rng: np.random.Generator) -> tuple:
        shape = (
            _between(rng, 1, 3),
            _between(rng, 1, 3),
            _input_size(rng, pool_h, stride),
            _input_size(rng, pool_w, stride),
        )
        if distinct:  # values 0.1 apart in random order, plus a little noise: no ties
            size = int(np.prod(shape))
            x = 0.1 * rng.permutation(size).reshape(shape) + 0.01 * rng.random(shape)
            x -= x.mean()
        else:
            x = rng.standard_normal(shape)
        return x, {"pool_height": pool_h, "pool_width": pool_w, "stride": stride}

    return make_args


def _torch_max_pool(torch, x, pool_param):
    window = (pool_param["pool_height"], pool_param["pool_width"])
    return torch.nn.functional.max_pool2d(x, window, pool_param["stride"])


def _torch_avg_pool(torch, x, pool_param):
    window = (pool_param["pool_height"], pool_param["pool_width"])
    return torch.nn.functional.avg_pool2d(x, window, pool_param["stride"])


def _conv_case(name: str, stride: int, pad: int, kernel: tuple[int, int] | None) -> LayerCase:
    return LayerCase(
        id=f"conv/{name}",
        forward=conv_forward,
        backward=conv_backward,
        make_args=_conv_args_maker(stride, pad, kernel),
        grad_args=(0, 1, 2),
        torch_fn=_torch_conv,
    )


def _winograd_args_maker(pad: int):
    """``make_args`` for the Winograd kernel: 3x3 filters, stride 1, 1 to 6 outputs per axis.

    Every filter tap reads some real input (no tap sees only padding), so no gradient entry is
    exactly zero: the transforms' rounding (~1e-16) would otherwise show up as a relative error of
    order 1 against a numerical derivative of 1e-11 where the exact one is 0.
    """

    def make_args(rng: np.random.Generator) -> tuple:
        num_images, channels, filters = (
            _between(rng, 1, 3),
            _between(rng, 1, 4),
            _between(rng, 1, 4),
        )
        smallest = max(3 - 2 * pad, 2)
        height, width = _between(rng, smallest, smallest + 5), _between(rng, smallest, smallest + 5)
        x = rng.standard_normal((num_images, channels, height, width))
        w = rng.standard_normal((filters, channels, 3, 3))
        b = rng.standard_normal(filters)
        return x, w, b, {"stride": 1, "pad": pad}

    return make_args


def _winograd_case(pad: int) -> LayerCase:
    return LayerCase(
        id=f"conv-winograd/3x3-stride1-pad{pad}",
        forward=_winograd_nchw_forward,
        backward=_winograd_nchw_backward,
        make_args=_winograd_args_maker(pad),
        grad_args=(0, 1, 2),
        torch_fn=_torch_conv,
    )


def _pool_case(kind: str, name: str, pool_h: int, pool_w: int, stride: int) -> LayerCase:
    is_max = kind == "max"
    return LayerCase(
        id=f"{kind}_pool/{name}",
        forward=max_pool_forward if is_max else avg_pool_forward,
        backward=max_pool_backward if is_max else avg_pool_backward,
        make_args=_pool_args_maker(pool_h, pool_w, stride, distinct=is_max),
        grad_args=(0,),
        torch_fn=_torch_max_pool if is_max else _torch_avg_pool,
    )


CASES: list[LayerCase] = [
    _conv_case("3x3-stride1-pad1", 1, 1, (3, 3)),
    _conv_case("3x3-stride1-pad0", 1, 0, (3, 3)),
    _conv_case("random-kernel-stride2-pad1", 2, 1, None),
    _conv_case("random-kernel-stride3-pad2", 3, 2, None),
    _conv_case("2x3-stride1-pad2", 1, 2, (2, 3)),
    _conv_case("1x1-stride2-pad0", 2, 0, (1, 1)),
    _winograd_case(0),
    _winograd_case(1),
    _winograd_case(2),
    _pool_case("max", "2x2-stride2", 2, 2, 2),
    _pool_case("max", "3x3-stride2-overlapping", 3, 3, 2),
    _pool_case("max", "2x3-stride1-overlapping", 2, 3, 1),
    _pool_case("max", "2x2-stride3-gaps", 2, 2, 3),
    _pool_case("avg", "2x2-stride2", 2, 2, 2),
    _pool_case("avg", "3x2-stride1-overlapping", 3, 2, 1),
    _pool_case("avg", "2x2-stride3-gaps", 2, 2, 3),
]
