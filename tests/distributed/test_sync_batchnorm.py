"""Synchronised batch norm on one process (``BatchSync(None)``) is plain batch norm.

The sums go through the same code as under MPI, only the allreduce is the identity: forward,
running statistics and every gradient must equal the reference pair's, on the reference path
(:mod:`numnet.nn.sync_batchnorm`) and on the row kernel's (:mod:`numnet.kernels.batchnorm_rows`).
The equality of K ranks with one process is tested through mpiexec in test_data_parallel.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from numnet.distributed import BatchSync
from numnet.functional.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from numnet.kernels.batchnorm_rows import batchnorm_rows_backward, batchnorm_rows_forward
from numnet.nn import BatchNorm1d, BatchNorm2d
from numnet.nn.normalization import set_batchnorm_sync
from numnet.nn.sync_batchnorm import sync_batchnorm_backward, sync_batchnorm_forward

CLOSE = dict(rtol=1e-12, atol=1e-12)


def _bn_param() -> dict:
    return {
        "mode": "train",
        "momentum": 0.8,
        "running_mean": np.zeros(5),
        "running_var": np.ones(5),
    }


@pytest.mark.parametrize("shape", [(7, 5), (3, 5, 4, 6)])
def test_sync_reference_on_one_process_is_batchnorm(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=shape)
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    dout = rng.normal(size=shape)
    spatial = len(shape) == 4
    forward = spatial_batchnorm_forward if spatial else batchnorm_forward
    backward = spatial_batchnorm_backward if spatial else batchnorm_backward
    axes = (0, 2, 3) if spatial else (0,)
    want_param, got_param = _bn_param(), _bn_param()
    want, want_cache = forward(x, gamma, beta, want_param)
    got, got_cache = sync_batchnorm_forward(x, gamma, beta, got_param, BatchSync(None), axes)
    np.testing.assert_allclose(got, want, **CLOSE)
    for key in ("running_mean", "running_var"):
        np.testing.assert_allclose(got_param[key], want_param[key], **CLOSE)
    for g, w in zip(
        sync_batchnorm_backward(dout, got_cache), backward(dout, want_cache), strict=True
    ):
        np.testing.assert_allclose(g, np.reshape(w, g.shape), **CLOSE)


def test_sync_row_kernel_on_one_process_is_the_row_kernel() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 2.0, size=(64, 5))
    gamma, beta, dout = rng.normal(size=5), rng.normal(size=5), rng.normal(size=(64, 5))
    want_param, got_param = _bn_param(), _bn_param()
    want, want_cache = batchnorm_rows_forward(x, gamma, beta, want_param)
    want = want.copy()
    got, got_cache = batchnorm_rows_forward(x, gamma, beta, got_param, None, BatchSync(None))
    np.testing.assert_allclose(got, want, **CLOSE)
    np.testing.assert_allclose(got_param["running_var"], want_param["running_var"], **CLOSE)
    for g, w in zip(
        batchnorm_rows_backward(dout, got_cache),
        batchnorm_rows_backward(dout, want_cache),
        strict=True,
    ):
        np.testing.assert_allclose(g, w, **CLOSE)


def test_set_batchnorm_sync_reaches_every_batchnorm_and_clears() -> None:
    class Model:
        def __init__(self) -> None:
            self.layers = [BatchNorm1d(3), BatchNorm2d(4)]

    model, sync = Model(), BatchSync(None)
    assert set_batchnorm_sync(model, sync) == 2
    assert all(layer.sync is sync for layer in model.layers)
    assert set_batchnorm_sync(model, None) == 2
    assert all(layer.sync is None for layer in model.layers)
    # test mode never synchronises: the running statistics need no communication
    model.layers[0].sync = sync
    out = model.layers[0].forward(np.ones((2, 3), dtype=np.float32), train=False)
    assert out.shape == (2, 3)
