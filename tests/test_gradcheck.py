"""The gradient-check tools: CS231n helpers, check_layer, and the all-layers self-check."""

from __future__ import annotations

import numpy as np
import pytest

import numnet.layers
from numnet.functional.activations import relu_backward, relu_forward, tanh_forward
from numnet.functional.affine import affine_backward, affine_forward
from numnet.functional.losses import softmax_loss
from numnet.gradcheck import (
    check_layer,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    gradcheck_all_layers,
    rel_error,
)


def test_rel_error_formula():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.1, 2.0])) == pytest.approx(0.1 / 2.1)
    # the denominator is floored at 1e-8, so tiny absolute differences near zero stay tiny
    assert rel_error(0.0, 1e-10) == pytest.approx(1e-2)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_eval_numerical_gradient_of_a_cubic_and_restores_x(capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    before = x.copy()
    grad = eval_numerical_gradient(lambda v: float(np.sum(v**3)), x, verbose=True)
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(x, before)
    assert len(capsys.readouterr().out.splitlines()) == x.size


def test_eval_numerical_gradient_array_of_a_matrix_product():
    rng = np.random.default_rng(1)
    x, a, df = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    grad = eval_numerical_gradient_array(lambda v: v @ a, x, df)
    np.testing.assert_allclose(grad, df @ a.T, rtol=1e-8)


def test_grad_check_sparse_accepts_right_and_flags_wrong_gradient():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(20)
    f = lambda v: float(np.sum(np.sin(v)))
    assert max(grad_check_sparse(f, x, np.cos(x), num_checks=8, rng=rng)) < 1e-8
    assert max(grad_check_sparse(f, x, np.cos(x) + 0.1, num_checks=8, rng=rng)) > 1e-3


def test_check_layer_passes_a_correct_layer_and_upcasts_float32():
    rng = np.random.default_rng(3)
    args = (
        rng.standard_normal((4, 5)).astype(np.float32),
        rng.standard_normal((5, 3)).astype(np.float32),
        rng.standard_normal(3).astype(np.float32),
    )
    errors = check_layer(affine_forward, affine_backward, args, (0, 1, 2), rng=rng)
    assert set(errors) == {0, 1, 2}
    assert max(errors.values()) < 1e-7
    assert args[0].dtype == np.float32  # the caller's arrays are not replaced


def test_check_layer_catches_a_wrong_backward():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 6))
    wrong = lambda dout, cache: dout  # forgets the ReLU mask
    assert check_layer(relu_forward, wrong, (x,), (0,), rng=rng)[0] > 1e-2
    assert check_layer(relu_forward, relu_backward, (np.abs(x) + 0.1,), (0,), rng=rng)[0] < 1e-9


def test_check_layer_rejects_a_gradient_of_the_wrong_shape():
    x = np.random.default_rng(5).standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"shape \(4, 3\).*\(3, 4\)"):
        check_layer(tanh_forward, lambda dout, cache: dout.T, (x,), (0,))
    with pytest.raises(ValueError, match="2 gradients"):
        check_layer(tanh_forward, lambda dout, cache: (dout, dout), (x,), (0,))


def test_check_layer_on_a_loss():
    rng = np.random.default_rng(6)
    args = (rng.standard_normal((4, 3)), rng.integers(3, size=4))
    assert check_layer(softmax_loss, None, args, (0,))[0] < 1e-7
    broken = lambda x, y: (softmax_loss(x, y)[0], 2 * softmax_loss(x, y)[1])
    assert check_layer(broken, None, args, (0,))[0] > 0.1


def test_gradcheck_all_layers_runs_every_row_of_the_layer_table_and_passes():
    from numnet.kernels.registry import KERNELS
    from numnet.layer_table import ROWS

    results = gradcheck_all_layers()
    names = [name for name, *_ in results]
    assert names == [case.name for case in ROWS]
    # every reference layer and every registered kernel, named first, variant in parentheses
    heads = {name.split(" (")[0] for name in names}
    public = {
        n.removesuffix("_forward")
        for n in numnet.layers.__all__
        if n.endswith(("_forward", "_loss"))  # *_naive / *_fast are variants of a layer's rows
    }
    assert public | set(KERNELS) == heads
    assert "conv (naive-3x3-stride1-pad1)" in names
    assert "conv2d.winograd (3x3-stride1-pad1)" in names
    for name, error, tol, passed in results:
        assert passed and error < tol, f"{name}: relative error {error:.3g} >= {tol:g}"


def test_gradcheck_all_layers_catches_a_wrong_kernel(monkeypatch):
    """A kernel's backward is checked against the numbers, not only against the reference."""
    import dataclasses

    import numnet.layer_table as table

    row = next(case for case in table.ROWS if case.kernel == "linear.gemm")

    def wrong_backward(dout, cache):
        dx, dw, db = row.backward(dout, cache)
        return dx, dw, 2 * db

    monkeypatch.setattr(table, "ROWS", [dataclasses.replace(row, backward=wrong_backward)])
    [(name, error, tol, passed)] = gradcheck_all_layers()
    assert name == row.name and not passed and error > 0.1
