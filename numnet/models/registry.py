"""``build_model(config)``: the one place a model is built from a config dict.

A model file stores ``model.get_config()`` and :func:`numnet.load` rebuilds the model from it; the
command line describes the model its flags ask for in the same form
(:func:`numnet.cli.build.model_config`) and builds it here too.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from numnet.errors import ConfigError
from numnet.models.classifier import Classifier
from numnet.models.conv_net import ConvNet
from numnet.models.cs231n_nets import ThreeLayerConvNet, TwoLayerNet
from numnet.models.fc_net import FullyConnectedNet
from numnet.models.imported import SequentialNet

MODEL_CLASSES: dict[str, type[Classifier]] = {
    "FullyConnectedNet": FullyConnectedNet,
    "ConvNet": ConvNet,
    "TwoLayerNet": TwoLayerNet,
    "ThreeLayerConvNet": ThreeLayerConvNet,
    "SequentialNet": SequentialNet,
}


def build_model(config: Mapping[str, Any]) -> Classifier:
    """Construct a freshly initialised model from a config dict.

    Parameters
    ----------
    config : mapping
        ``{"class": <a name of MODEL_CLASSES>, **constructor keyword arguments}``, e.g. the
        output of ``model.get_config()`` (possibly after a JSON round trip).

    Returns
    -------
    Classifier
        With weights drawn from the config's ``seed`` (load saved parameters into it afterwards).

    Raises
    ------
    ConfigError
        Missing or unknown ``"class"``, an unknown keyword, or an invalid value.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(f"a model config must be a dict, got {type(config).__name__}")
    kwargs = dict(config)
    name = kwargs.pop("class", None)
    if name not in MODEL_CLASSES:
        raise ConfigError(
            f"model config 'class' must be one of {sorted(MODEL_CLASSES)}, got {name!r}"
        )
    cls = MODEL_CLASSES[name]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ConfigError(f"unknown {name} settings {unknown}; accepted: {sorted(accepted)}")
    if "input_dim" in kwargs and isinstance(kwargs["input_dim"], list):
        kwargs["input_dim"] = tuple(kwargs["input_dim"])
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"invalid {name} config: {exc}") from exc
