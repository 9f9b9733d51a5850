"""The layer table: one row per way of calling every layer, for the reference and every kernel.

Each row (:class:`LayerCase`) names a forward/backward pair, how to draw its inputs from a seeded
generator (random shapes with odd sizes, strides, padding, overlapping windows), which arguments
get gradients, the gradient-check tolerance, and how PyTorch computes the same layer. There are
two kinds of rows:

- reference rows (:data:`REFERENCE_ROWS`): the pairs of :mod:`numnet.functional` (every public
  function of :mod:`numnet.layers` appears in one);
- kernel rows (:data:`KERNEL_ROWS`): every kernel registered in
  :data:`numnet.kernels.registry.KERNELS`, on inputs that fit its condition, held against its
  reference pair in float64 and float32 (:func:`compare_with_reference`).

``numnet gradcheck`` (:func:`numnet.gradcheck.gradcheck_all_layers`) checks every row's gradients
by central differences; the tests under ``tests/functional`` run every row against central
differences, PyTorch and the reference, and fail when a public layer or a registered kernel has
no row.

Importing the table needs only NumPy: PyTorch is passed in to the oracles
(``torch_fn(torch, ...)``).
"""

from __future__ import annotations

import numnet.kernels.catalog  # noqa: F401  (registers the kernels the table checks)
from numnet.layer_table import dense, spatial
from numnet.layer_table.case import LayerCase, reference_row
from numnet.layer_table.checks import cast_args, compare_with_reference, row_rng, scaled_error
from numnet.layer_table.kernel_rows import KERNEL_DTYPES, KERNEL_INPUTS, all_kernel_rows

REFERENCE_ROWS: list[LayerCase] = [*dense.ROWS, *spatial.ROWS]
"""Rows of the reference pairs (and the other public functions of :mod:`numnet.layers`)."""

KERNEL_ROWS: list[LayerCase] = all_kernel_rows(REFERENCE_ROWS)
"""Rows of the registered kernels, registry order."""

ROWS: list[LayerCase] = [*REFERENCE_ROWS, *KERNEL_ROWS]
"""The whole table."""

__all__ = [
    "KERNEL_DTYPES",
    "KERNEL_INPUTS",
    "KERNEL_ROWS",
    "REFERENCE_ROWS",
    "ROWS",
    "LayerCase",
    "cast_args",
    "compare_with_reference",
    "reference_row",
    "row_rng",
    "scaled_error",
]
