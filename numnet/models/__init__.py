"""Models: CS231n's ``FullyConnectedNet``, ``TwoLayerNet``, ``ThreeLayerConvNet``; a ``ConvNet``.

``build_model(config)`` builds any of them from its config dict.
"""

from numnet.models.classifier import Classifier
from numnet.models.conv_net import ConvNet
from numnet.models.cs231n_nets import ThreeLayerConvNet, TwoLayerNet
from numnet.models.fc_net import FullyConnectedNet
from numnet.models.imported import SequentialNet
from numnet.models.registry import MODEL_CLASSES, build_model

__all__ = [
    "MODEL_CLASSES",
    "Classifier",
    "ConvNet",
    "FullyConnectedNet",
    "SequentialNet",
    "ThreeLayerConvNet",
    "TwoLayerNet",
    "build_model",
]
