"""``numnet.layer_utils``: each sandwich's backward against central differences, its output against
its layers applied one after the other, and the assignment's cache layout."""

import numpy as np
import pytest

import numnet.layer_utils as lu
from numnet.gradcheck import eval_numerical_gradient_array, rel_error
from numnet.layers import (
    affine_forward,
    batchnorm_forward,
    conv_forward,
    layernorm_forward,
    max_pool_forward,
    spatial_batchnorm_forward,
)

rng = np.random.default_rng(0)
CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def relu(a):
    return np.maximum(a, 0)


def affine_case():
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    return x, w, b


def conv_case():
    x = rng.standard_normal((2, 3, 4, 4))
    w, b = rng.standard_normal((3, 3, 3, 3)), rng.standard_normal(3)
    return x, w, b


def norm_args(n):
    return rng.standard_normal(n) + 1.0, rng.standard_normal(n)


def cases():
    """name -> (forward, backward, inputs, extra settings, the composition of the layers)."""
    x, w, b = affine_case()
    g, be = norm_args(5)
    xc, wc, bc = conv_case()
    gc, bec = norm_args(3)
    return {
        "affine_relu": (
            lu.affine_relu_forward, lu.affine_relu_backward, [x, w, b], [],
            lambda x, w, b: relu(affine_forward(x, w, b)[0]),
        ),
        "affine_bn_relu": (
            lu.affine_bn_relu_forward, lu.affine_bn_relu_backward, [x, w, b, g, be],
            [{"mode": "train"}],
            lambda x, w, b, g, be, p: relu(
                batchnorm_forward(affine_forward(x, w, b)[0], g, be, dict(p))[0]
            ),
        ),
        "affine_ln_relu": (
            lu.affine_ln_relu_forward, lu.affine_ln_relu_backward, [x, w, b, g, be], [{}],
            lambda x, w, b, g, be, p: relu(
                layernorm_forward(affine_forward(x, w, b)[0], g, be, dict(p))[0]
            ),
        ),
        "conv_relu": (
            lu.conv_relu_forward, lu.conv_relu_backward, [xc, wc, bc], [CONV],
            lambda x, w, b, c: relu(conv_forward(x, w, b, c)[0]),
        ),
        "conv_relu_pool": (
            lu.conv_relu_pool_forward, lu.conv_relu_pool_backward, [xc, wc, bc], [CONV, POOL],
            lambda x, w, b, c, p: max_pool_forward(relu(conv_forward(x, w, b, c)[0]), p)[0],
        ),
        "conv_bn_relu": (
            lu.conv_bn_relu_forward, lu.conv_bn_relu_backward, [xc, wc, bc, gc, bec],
            [CONV, {"mode": "train"}],
            lambda x, w, b, g, be, c, p: relu(
                spatial_batchnorm_forward(conv_forward(x, w, b, c)[0], g, be, dict(p))[0]
            ),
        ),
    }  # fmt: skip


CACHE_LENGTHS = {
    "affine_relu": 2,
    "affine_bn_relu": 3,
    "affine_ln_relu": 3,
    "conv_relu": 2,
    "conv_relu_pool": 3,
    "conv_bn_relu": 3,
}


@pytest.mark.parametrize("name", sorted(CACHE_LENGTHS))
def test_forward_is_the_composition_of_its_layers(name):
    forward, _, inputs, settings, composed = cases()[name]
    out, cache = forward(*inputs, *[dict(s) for s in settings])
    np.testing.assert_allclose(out, composed(*inputs, *settings), rtol=1e-12, atol=1e-12)
    assert isinstance(cache, tuple) and len(cache) == CACHE_LENGTHS[name]


@pytest.mark.parametrize("name", sorted(CACHE_LENGTHS))
def test_backward_matches_central_differences(name):
    forward, backward, inputs, settings, _ = cases()[name]
    out, cache = forward(*inputs, *[dict(s) for s in settings])
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    assert len(grads) == len(inputs)
    for i, value in enumerate(inputs):

        def f(_, i=i):
            args = list(inputs)
            args[i] = value
            return forward(*args, *[dict(s) for s in settings])[0]

        numeric = eval_numerical_gradient_array(f, value, dout)
        assert grads[i].shape == value.shape
        if max(np.abs(numeric).max(), np.abs(grads[i]).max()) < 1e-8:
            # a bias before batch norm has a true gradient of zero: compare absolutely
            assert np.abs(numeric - grads[i]).max() < 1e-9, (name, i)
        else:
            assert rel_error(numeric, grads[i]) < 1e-6, (name, i)


def test_cache_order_is_the_assignments():
    x, w, b = conv_case()
    _, (conv_cache, relu_cache, pool_cache) = lu.conv_relu_pool_forward(x, w, b, CONV, POOL)
    _, expected_conv = conv_forward(x, w, b, CONV)
    np.testing.assert_array_equal(conv_cache[0], expected_conv[0])
    assert relu_cache.shape == (2, 3, 4, 4)
    assert len(lu.__all__) == 12 and all(callable(getattr(lu, n)) for n in lu.__all__)
