"""Stateful layers: thin objects that keep parameters and caches around :mod:`numnet.functional`.

Every layer is a :class:`Module` with ``params`` / ``grads`` / ``buffers`` under local names,
``forward(x, train=False)`` and ``backward(dout)``. :class:`Sequential` chains them and exposes the
arrays under CS231n's global names (``W1``, ``b1``, ``gamma1``, ``running_mean1``, ...).
"""

from numnet.nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from numnet.nn.conv import Conv2d
from numnet.nn.dropout import Dropout
from numnet.nn.flatten import Flatten
from numnet.nn.linear import Linear
from numnet.nn.module import Module
from numnet.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from numnet.nn.parameter_view import ParameterView
from numnet.nn.pooling import AvgPool2d, MaxPool2d
from numnet.nn.sequential import Sequential

__all__ = [
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Module",
    "ParameterView",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
]
