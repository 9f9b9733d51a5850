"""CS231n's sandwich layers: common stacks of layers as one forward/backward pair.

A notebook that imports ``from cs231n.layer_utils import *`` switches to numnet with
``from numnet.layer_utils import *``. Every function has the assignment's name, signature and cache
layout: the forward returns ``(out, cache)`` where ``cache`` is the tuple of the member layers'
caches in forward order (``(fc_cache, relu_cache)``, ``(conv_cache, bn_cache, relu_cache)``, ...),
and the backward unpacks it in that order and returns the gradients of the inputs in argument
order (``dx, dw, db`` and then ``dgamma, dbeta``).

The members are the reference functions of :mod:`numnet.functional` (the same functions that
:mod:`numnet.layers` exports under these names), so a sandwich is exactly its layers composed;
the assignment's version calls its fast layers for the convolutions, which compute the same values.
"""

from __future__ import annotations

from typing import Any

from numnet.functional.activations import relu_backward, relu_forward
from numnet.functional.affine import affine_backward, affine_forward
from numnet.functional.conv import conv_backward, conv_forward
from numnet.functional.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from numnet.functional.pooling import max_pool_backward, max_pool_forward

__all__ = [
    "affine_bn_relu_backward",
    "affine_bn_relu_forward",
    "affine_ln_relu_backward",
    "affine_ln_relu_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "conv_bn_relu_backward",
    "conv_bn_relu_forward",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
]


def affine_relu_forward(x: Any, w: Any, b: Any) -> tuple[Any, tuple]:
    """affine - relu; ``cache = (fc_cache, relu_cache)``."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward of :func:`affine_relu_forward`: ``dx, dw, db``."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


def affine_bn_relu_forward(
    x: Any, w: Any, b: Any, gamma: Any, beta: Any, bn_param: dict
) -> tuple[Any, tuple]:
    """affine - batchnorm - relu; ``cache = (fc_cache, bn_cache, relu_cache)``."""
    a, fc_cache = affine_forward(x, w, b)
    a_bn, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(a_bn)
    return out, (fc_cache, bn_cache, relu_cache)


def affine_bn_relu_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Backward of :func:`affine_bn_relu_forward`: ``dx, dw, db, dgamma, dbeta``."""
    fc_cache, bn_cache, relu_cache = cache
    da_bn = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = batchnorm_backward(da_bn, bn_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


def affine_ln_relu_forward(
    x: Any, w: Any, b: Any, gamma: Any, beta: Any, ln_param: dict
) -> tuple[Any, tuple]:
    """affine - layernorm - relu; ``cache = (fc_cache, ln_cache, relu_cache)``."""
    a, fc_cache = affine_forward(x, w, b)
    a_ln, ln_cache = layernorm_forward(a, gamma, beta, ln_param)
    out, relu_cache = relu_forward(a_ln)
    return out, (fc_cache, ln_cache, relu_cache)


def affine_ln_relu_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Backward of :func:`affine_ln_relu_forward`: ``dx, dw, db, dgamma, dbeta``."""
    fc_cache, ln_cache, relu_cache = cache
    da_ln = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = layernorm_backward(da_ln, ln_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_forward(x: Any, w: Any, b: Any, conv_param: dict) -> tuple[Any, tuple]:
    """conv - relu; ``cache = (conv_cache, relu_cache)``."""
    a, conv_cache = conv_forward(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward of :func:`conv_relu_forward`: ``dx, dw, db``."""
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward(da, conv_cache)


def conv_bn_relu_forward(
    x: Any, w: Any, b: Any, gamma: Any, beta: Any, conv_param: dict, bn_param: dict
) -> tuple[Any, tuple]:
    """conv - spatial batchnorm - relu; ``cache = (conv_cache, bn_cache, relu_cache)``."""
    a, conv_cache = conv_forward(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Backward of :func:`conv_bn_relu_forward`: ``dx, dw, db, dgamma, dbeta``."""
    conv_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)
    dx, dw, db = conv_backward(da, conv_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_pool_forward(
    x: Any, w: Any, b: Any, conv_param: dict, pool_param: dict
) -> tuple[Any, tuple]:
    """conv - relu - max pool; ``cache = (conv_cache, relu_cache, pool_cache)``."""
    a, conv_cache = conv_forward(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward of :func:`conv_relu_pool_forward`: ``dx, dw, db``."""
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward(da, conv_cache)
