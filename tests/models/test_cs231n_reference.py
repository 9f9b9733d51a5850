"""Published reference values of the CS231n assignment, reproduced through numnet's API.

The two-layer network check of the assignment (weights set with ``np.linspace``) must give the
notebook's scores and losses when the network is a ``FullyConnectedNet`` with one hidden layer; this
also proves that assigning ``model.params[...]`` replaces the arrays used by the layers and that
``model.reg`` is read at loss time, as in CS231n.
"""

import numpy as np
import pytest

from numnet.models import FullyConnectedNet

N, D, H, C = 3, 5, 50, 7
CORRECT_SCORES = np.asarray(
    [
        [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
        [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
        [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319],
    ]
)


@pytest.fixture
def two_layer_net():
    model = FullyConnectedNet([H], input_dim=D, num_classes=C, weight_scale=1e-3, dtype=np.float64)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    return model


X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
Y = np.asarray([0, 5, 1])


def test_test_time_scores(two_layer_net):
    np.testing.assert_allclose(two_layer_net.loss(X), CORRECT_SCORES, atol=1e-6)


def test_training_loss_without_and_with_regularisation(two_layer_net):
    loss, _ = two_layer_net.loss(X, Y)
    assert abs(loss - 3.4702243556) < 1e-10
    two_layer_net.reg = 1.0
    loss, _ = two_layer_net.loss(X, Y)
    assert abs(loss - 26.5948426952) < 1e-10
