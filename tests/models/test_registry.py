"""build_model: dispatch on "class" and clear errors for bad configs."""

import numpy as np
import pytest

from numnet.errors import ConfigError
from numnet.models import ConvNet, FullyConnectedNet, build_model


def test_builds_each_class_with_its_settings():
    fc = build_model({"class": "FullyConnectedNet", "hidden_dims": [4], "input_dim": 3, "seed": 1})
    assert isinstance(fc, FullyConnectedNet)
    assert fc.params["W1"].shape == (3, 4)
    conv = build_model({"class": "ConvNet", "input_dim": [1, 5, 5], "conv_channels": [2]})
    assert isinstance(conv, ConvNet)
    assert conv.input_dim == (1, 5, 5)
    assert build_model({**fc.get_config(), "dtype": "float64"}).dtype == np.float64


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"hidden_dims": [4]}, "'class'"),
        ({"class": "ResNet"}, "'class'"),
        ({"class": "FullyConnectedNet", "hidden_dims": [4], "depth": 3}, r"unknown.*depth"),
        ({"class": "FullyConnectedNet"}, "hidden_dims"),
        ({"class": "FullyConnectedNet", "hidden_dims": [4], "dtype": "float16"}, "dtype"),
        ([("class", "ConvNet")], "dict"),
    ],
)
def test_bad_configs_raise_config_error(config, match):
    with pytest.raises(ConfigError, match=match):
        build_model(config)
