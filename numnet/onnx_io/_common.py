"""What export and import share: the lazy ``onnx`` import, names, opset limits."""

from __future__ import annotations

from typing import Any

from numnet.errors import NumnetError

INSTALL_HINT = "pip install -e '.[onnx]'"
DEFAULT_OPSET = 17  # IR version 8: loads in every onnxruntime release since 1.14
MIN_OPSET = 13
MAX_OPSET = 21
INPUT_NAME = "input"
FEATURES_NAME = "features"  # the standardised input, where the numnet layers start
SCORES_NAME = "scores"
PROBABILITIES_NAME = "probabilities"
LABEL_NAME = "label"
PREPROCESSING_KEY = "numnet.preprocessing"
INPUT_RANGE_KEY = "numnet.input_range"  # min/max/mean of the raw training inputs (range warning)
CLASS_NAMES_KEY = "class_names"


def require_onnx() -> Any:
    """Return the ``onnx`` module, or raise one line saying how to install the extra."""
    try:
        import onnx
    except ImportError:
        raise NumnetError(f"ONNX support needs the onnx package: {INSTALL_HINT}") from None
    return onnx
