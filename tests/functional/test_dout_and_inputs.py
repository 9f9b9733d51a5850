"""Every backward checks ``dout``; layer functions say how to fix what a student hands them.

A ``dout`` of another shape must not broadcast into a gradient of x's shape; integer images are
refused with the conversion to use; a 1-D or 2-D filter is told the (F, C, HH, WW) shape.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

from numnet.functional import activations as act
from numnet.functional import conv, dropout, normalization, pooling
from numnet.functional.affine import affine_backward, affine_forward

MODULES = ("activations", "affine", "conv", "dropout", "losses", "normalization", "pooling")
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
CONV = {"stride": 1, "pad": 1}


def _x(shape):
    return np.random.default_rng(0).standard_normal(shape)


# name -> (forward called on fresh inputs, backward): the forward returns (out, cache)
CASES = {
    "relu_backward": (lambda: act.relu_forward(_x((3, 4))), act.relu_backward),
    "leaky_relu_backward": (lambda: act.leaky_relu_forward(_x((3, 4))), act.leaky_relu_backward),
    "sigmoid_backward": (lambda: act.sigmoid_forward(_x((3, 4))), act.sigmoid_backward),
    "tanh_backward": (lambda: act.tanh_forward(_x((3, 4))), act.tanh_backward),
    "dropout_backward": (
        lambda: dropout.dropout_forward(_x((3, 4)), {"p": 0.5, "mode": "train", "seed": 0}),
        dropout.dropout_backward,
    ),
    "affine_backward": (
        lambda: affine_forward(_x((3, 2, 2)), _x((4, 5)), _x(5)),
        affine_backward,
    ),
    "batchnorm_backward": (
        lambda: normalization.batchnorm_forward(_x((3, 4)), _x(4), _x(4), {"mode": "train"}),
        normalization.batchnorm_backward,
    ),
    "layernorm_backward": (
        lambda: normalization.layernorm_forward(_x((3, 4)), _x(4), _x(4), {}),
        normalization.layernorm_backward,
    ),
    "spatial_batchnorm_backward": (
        lambda: normalization.spatial_batchnorm_forward(
            _x((2, 3, 4, 4)), _x(3), _x(3), {"mode": "train"}
        ),
        normalization.spatial_batchnorm_backward,
    ),
    "spatial_groupnorm_backward": (
        lambda: normalization.spatial_groupnorm_forward(
            _x((2, 4, 3, 3)), _x((1, 4, 1, 1)), _x((1, 4, 1, 1)), 2, {}
        ),
        normalization.spatial_groupnorm_backward,
    ),
    "conv_backward": (
        lambda: conv.conv_forward(_x((2, 3, 5, 5)), _x((4, 3, 3, 3)), _x(4), CONV),
        conv.conv_backward,
    ),
    "conv_backward_naive": (
        lambda: conv.conv_forward_naive(_x((2, 3, 5, 5)), _x((4, 3, 3, 3)), _x(4), CONV),
        conv.conv_backward_naive,
    ),
    "max_pool_backward": (
        lambda: pooling.max_pool_forward(_x((2, 3, 4, 4)), POOL),
        pooling.max_pool_backward,
    ),
    "max_pool_backward_naive": (
        lambda: pooling.max_pool_forward_naive(_x((2, 3, 4, 4)), POOL),
        pooling.max_pool_backward_naive,
    ),
    "avg_pool_backward": (
        lambda: pooling.avg_pool_forward(_x((2, 3, 4, 4)), POOL),
        pooling.avg_pool_backward,
    ),
}


def _public_backwards() -> set[str]:
    names = set()
    for module_name in MODULES:
        module = importlib.import_module(f"numnet.functional.{module_name}")
        for name, _ in inspect.getmembers(module, inspect.isfunction):
            if "backward" in name and not name.startswith("_"):
                names.add(name)
    return names - {"batchnorm_backward_alt"}  # the same function as batchnorm_backward


def test_every_backward_has_a_case():
    assert _public_backwards() == set(CASES)


def _wrong_shapes(shape):
    """A dout that broadcasts against ``shape``, and one with the axes swapped or cut."""
    yield (1,) * len(shape)  # broadcasts: an elementwise backward would accept it silently
    yield shape[::-1] if shape[::-1] != shape else shape + (1,)
    yield shape[:-1]


@pytest.mark.parametrize("name", sorted(CASES))
def test_backward_refuses_a_dout_of_another_shape(name):
    forward, backward = CASES[name]
    out, cache = forward()
    for shape in _wrong_shapes(out.shape):
        with pytest.raises(ValueError, match=rf"dout must have shape .*got shape \({shape[0]}"):
            backward(np.ones(shape), cache)
    backward(np.ones(out.shape), forward()[1])  # the right shape still works


@pytest.mark.parametrize("name", sorted(CASES))
def test_backward_refuses_a_dout_that_is_not_an_array(name):
    forward, backward = CASES[name]
    _, cache = forward()
    with pytest.raises(TypeError, match="dout must be an array"):
        backward(1.0, cache)


def test_dropout_in_test_mode_checks_dout_too():
    out, cache = dropout.dropout_forward(_x((3, 4)), {"p": 0.5, "mode": "test"})
    with pytest.raises(ValueError, match=r"dout must have shape \(same as x\) = \(3, 4\)"):
        dropout.dropout_backward(np.ones(4), cache)


def test_affine_backward_names_dout_and_the_shape_it_needs():
    _, cache = affine_forward(_x((3, 2, 2)), _x((4, 5)), _x(5))
    with pytest.raises(ValueError, match=r"dout must have shape \(N, M\) = \(3, 5\), got shape"):
        affine_backward(np.ones((3, 4)), cache)


def test_affine_forward_on_an_empty_batch_gives_an_empty_result():
    w, b = _x((4, 5)), _x(5)
    out, cache = affine_forward(np.zeros((0, 2, 2)), w, b)
    assert out.shape == (0, 5)
    dx, dw, db = affine_backward(np.zeros((0, 5)), cache)
    assert dx.shape == (0, 2, 2) and dw.shape == (4, 5) and db.shape == (5,)
    np.testing.assert_array_equal(dw, 0)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.bool_])
@pytest.mark.parametrize(
    "call",
    [
        lambda x: act.relu_forward(x),
        lambda x: affine_forward(x, np.ones((48, 2)), np.ones(2)),
        lambda x: conv.conv_forward(x, np.ones((1, 3, 3, 3)), np.ones(1), CONV),
        lambda x: pooling.max_pool_forward(x, POOL),
    ],
)
def test_integer_images_are_refused_with_the_conversion_to_use(call, dtype):
    image = np.ones((1, 3, 4, 4), dtype=dtype)
    with pytest.raises(TypeError, match=r"got dtype .*: convert it with x\.astype\(np\.float64\)"):
        call(image)
    call(image.astype(np.float64))  # the conversion the message names works


@pytest.mark.parametrize("filter_shape", [(3,), (1, 3), (3, 3)])
def test_a_1d_or_2d_filter_is_told_the_expected_shape(filter_shape):
    x = np.ones((1, 1, 5, 5))
    w = np.ones(filter_shape)
    with pytest.raises(ValueError, match=r"w must have shape \(F, C, HH, WW\).*reshape\(1, 1"):
        conv.conv_forward(x, w, np.zeros(1), {"stride": 1, "pad": 0})
    w4 = w.reshape(1, 1, *(filter_shape if len(filter_shape) == 2 else (1, 3)))
    out, _ = conv.conv_forward(x, w4, np.zeros(1), {"stride": 1, "pad": 0})
    assert out.shape[:2] == (1, 1)
