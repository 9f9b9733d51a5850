"""CS231n-compatible layer functions.

A notebook written against the CS231n assignment switches to numnet by changing one import::

    from numnet.layers import *

``*_forward(...) -> (out, cache)`` and ``*_backward(dout, cache) -> gradients``; the losses return
``(loss, dx)``. Three kinds of the same layer, as in the assignment:

* ``conv_forward_naive`` / ``conv_backward_naive``, ``max_pool_forward_naive`` /
  ``max_pool_backward_naive``: the definitions as loops over output positions, to read next to
  the derivation (slow);
* the plain names (``conv_forward``, ``max_pool_forward``, ``affine_forward``, ...): the
  vectorised reference in :mod:`numnet.functional`, plain NCHW NumPy with the derivation in each
  docstring's Notes;
* ``conv_forward_fast`` / ``conv_backward_fast``, ``max_pool_forward_fast`` /
  ``max_pool_backward_fast``: the fast kernels from :mod:`numnet.kernels.catalog` (as the
  assignment's ``fast_layers.py``), same arguments and results, checked against the reference.

``batchnorm_backward_alt`` is the assignment's name for the closed form, which
``batchnorm_backward`` already is.
"""

from numnet.functional.activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from numnet.functional.affine import affine_backward, affine_forward
from numnet.functional.conv import (
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
)
from numnet.functional.dropout import dropout_backward, dropout_forward
from numnet.functional.losses import softmax_loss, svm_loss
from numnet.functional.normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from numnet.functional.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_backward_naive,
    max_pool_forward,
    max_pool_forward_naive,
)
from numnet.kernels.catalog import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

__all__ = [
    "affine_backward",
    "affine_forward",
    "avg_pool_backward",
    "avg_pool_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "conv_backward",
    "conv_backward_fast",
    "conv_backward_naive",
    "conv_forward",
    "conv_forward_fast",
    "conv_forward_naive",
    "dropout_backward",
    "dropout_forward",
    "layernorm_backward",
    "layernorm_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "max_pool_backward",
    "max_pool_backward_fast",
    "max_pool_backward_naive",
    "max_pool_forward",
    "max_pool_forward_fast",
    "max_pool_forward_naive",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
    "svm_loss",
    "tanh_backward",
    "tanh_forward",
]
