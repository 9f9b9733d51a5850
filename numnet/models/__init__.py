"""Models: CS231n's ``FullyConnectedNet``, a ``ConvNet``, and ``build_model(config)``."""

from numnet.models.classifier import Classifier
from numnet.models.conv_net import ConvNet
from numnet.models.fc_net import FullyConnectedNet
from numnet.models.registry import MODEL_CLASSES, build_model

__all__ = ["MODEL_CLASSES", "Classifier", "ConvNet", "FullyConnectedNet", "build_model"]
