"""PyTorch parity in float64: forward output and every input gradient, on randomly drawn shapes.

Every row of the layer table with an oracle: the reference pairs and the kernels alike.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from numnet.layer_table import ROWS, row_rng

torch = pytest.importorskip("torch")

TORCH_CASES = [c for c in ROWS if c.torch_fn is not None]


def _to_torch(case, args: tuple) -> list:
    """Arguments at grad_args become float64 leaf tensors (requires_grad); others pass as given."""
    targs = case.torch_args(copy.deepcopy(args)) if case.torch_args else copy.deepcopy(args)
    return [
        torch.tensor(a, dtype=torch.float64, requires_grad=True) if i in case.grad_args else a
        for i, a in enumerate(targs)
    ]


def _assert_close(actual, expected, case, what: str) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (
        f"{case.id}: {what} shape {actual.shape} != {expected.shape}"
    )
    np.testing.assert_allclose(
        actual, expected, rtol=case.parity_rtol, atol=case.parity_atol, err_msg=f"{case.id}: {what}"
    )


@pytest.mark.parametrize("trial", range(3))
@pytest.mark.parametrize("case", TORCH_CASES, ids=[c.id for c in TORCH_CASES])
def test_forward_and_backward_match_torch(case, trial):
    rng = row_rng(case, 100 + trial)
    args = case.make_args(rng)
    targs = _to_torch(case, args)

    if case.kind == "loss":
        out, grads = case.forward(*args)
        grads = (grads,)
        t_out = case.torch_fn(torch, *targs)
        t_out.backward()
    else:
        out, cache = case.forward(*args)
        dout = rng.standard_normal(np.shape(out))
        grads = case.backward(dout, cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        t_out = case.torch_fn(torch, *targs)
        t_out.backward(torch.from_numpy(dout))

    if case.compare_forward:
        _assert_close(out, t_out.detach().numpy(), case, "forward")
    t_grads = [targs[i].grad.numpy() for i in case.grad_args]
    if case.torch_grads is not None:
        t_grads = case.torch_grads(t_grads)
    for position, grad, t_grad in zip(case.grad_args, grads, t_grads, strict=True):
        _assert_close(grad, t_grad, case, f"gradient of argument {position}")


@pytest.mark.parametrize("spatial", [False, True], ids=["batchnorm", "spatial_batchnorm"])
def test_batchnorm_running_stats_match_torch(spatial):
    """numnet keeps CS231n's convention (momentum 0.9 = weight of the old value, biased variance);
    torch's momentum 0.1 weighs the new value and its running_var holds the unbiased variance."""
    from numnet.functional import normalization

    rng = np.random.default_rng(11)
    shape = (5, 3, 4, 2) if spatial else (6, 3)
    forward = (
        normalization.spatial_batchnorm_forward if spatial else normalization.batchnorm_forward
    )
    axes = (0, 2, 3) if spatial else (0,)
    count = int(np.prod([shape[a] for a in axes]))
    bn_param = {"mode": "train", "momentum": 0.9, "eps": 1e-5}
    # both start from zeros, so the linear updates differ only by the biased/unbiased factor
    t_mean, t_var = torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    for _ in range(4):
        x = rng.standard_normal(shape) * 3 + 1
        forward(x, gamma, beta, bn_param)
        torch.nn.functional.batch_norm(
            torch.from_numpy(x), t_mean, t_var, training=True, momentum=0.1, eps=1e-5
        )
    np.testing.assert_allclose(bn_param["running_mean"], t_mean.numpy(), rtol=1e-12, atol=1e-14)
    biased_from_torch = t_var.numpy() * (count - 1) / count
    np.testing.assert_allclose(bn_param["running_var"], biased_from_torch, rtol=1e-12)
