"""Rows of the fast kernels: every kernel in the registry on inputs that fit its condition.

A kernel row is its reference layer's row with the kernel's NCHW adapters as the functions under
test: the same PyTorch oracle and gradient tolerance, inputs drawn to fit the kernel (Winograd
needs 3x3 filters, stride 1 and equal padding; the pooling blocks 2x2 windows with stride 2), and
:attr:`~numnet.layer_table.case.LayerCase.dtypes` naming float64 and float32, the dtypes in which
forward and every gradient are held against the reference pair.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from numnet.kernels.registry import KERNELS, Kernel
from numnet.layer_table import dense, spatial
from numnet.layer_table.case import LayerCase
from numnet.layer_table.draw import between, distinct


def _pool_blocks_args(rng: np.random.Generator) -> tuple:
    """2x2 windows with stride 2 on 2 to 11 rows and columns: odd sizes leave a row unpooled."""
    shape = (between(rng, 1, 3), between(rng, 1, 4), between(rng, 2, 11), between(rng, 2, 11))
    return distinct(rng, shape), {"pool_height": 2, "pool_width": 2, "stride": 2}


KERNEL_INPUTS: dict[str, dict[str, Callable[[np.random.Generator], tuple]]] = {
    "conv2d.winograd": spatial.WINOGRAD_INPUTS,
    "conv2d.im2col": spatial.CONV_INPUTS,
    "maxpool2d.blocks": {
        "2x2-stride2": spatial.MAX_POOL_INPUTS["2x2-stride2"],
        "2x2-stride2-up-to-11x11": _pool_blocks_args,
    },
    "maxpool2d.nhwc": spatial.MAX_POOL_INPUTS,
    "batchnorm2d.rows": {
        "train": lambda rng: dense.spatial_bn_args(rng, "train"),
        "test": lambda rng: dense.spatial_bn_args(rng, "test"),
    },
    "linear.gemm": dense.AFFINE_INPUTS,
    "relu.in_place": {"": dense.relu_args},
}
"""``kernel name -> {variant: make_args}``: the inputs each registered kernel is checked on."""

KERNEL_DTYPES = ("float64", "float32")


def kernel_rows(kernel: Kernel, reference_rows: list[LayerCase]) -> list[LayerCase]:
    """The rows of ``kernel``: its reference layer's first row with the kernel's functions.

    No rows when :data:`KERNEL_INPUTS` names no inputs for the kernel, or the table has no row of
    its reference layer (the meta-tests then fail).
    """
    template = next(
        (row for row in reference_rows if row.layer == kernel.reference and row.is_reference),
        None,
    )
    inputs = KERNEL_INPUTS.get(kernel.name, {})
    if template is None:
        return []
    return [
        dataclasses.replace(
            template,
            variant=variant,
            forward=kernel.forward,
            backward=kernel.backward,
            make_args=make_args,
            kernel=kernel.name,
            dtypes=KERNEL_DTYPES,
        )
        for variant, make_args in inputs.items()
    ]


def all_kernel_rows(reference_rows: list[LayerCase]) -> list[LayerCase]:
    """Rows for every kernel in :data:`~numnet.kernels.registry.KERNELS`, registry order."""
    return [row for kernel in KERNELS.values() for row in kernel_rows(kernel, reference_rows)]
