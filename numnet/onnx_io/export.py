"""``export_onnx(model, path)``: a numnet classifier as one self-contained ONNX file.

The graph takes the raw inputs ``numnet predict`` reads (pixels as the CSV holds them, float32
``(N, P)``), applies the model's stored preprocessing (``X * scale - mean) / std``, the same
float32 operations in the same order as :class:`numnet.data.Standardizer`), runs the layers in
inference form (batch norm on its running statistics, dropout left out) and returns two outputs:
``probabilities`` (N, K), the softmax of the scores, and ``label`` (N,) int64, their argmax. The
batch dimension is dynamic; class names, the model config and the preprocessing record go into
the model's ``metadata_props``, so :func:`numnet.onnx_io.import_onnx` can give them back.

Known traps, each handled here: ONNX ``pads`` are ``[h_begin, w_begin, h_end, w_end]``; MaxPool
must have ``ceil_mode=0`` to match numnet's floor; BatchNormalization gets numnet's own epsilon;
numnet's affine weights are CS231n's (D, M), so ``Gemm`` runs with ``transB=0``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from numnet._version import __version__
from numnet.errors import ConfigError, ModelFileError, NumnetError
from numnet.files import write_atomic
from numnet.nn import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
)
from numnet.onnx_io._common import (
    CLASS_NAMES_KEY,
    DEFAULT_OPSET,
    FEATURES_NAME,
    INPUT_NAME,
    INPUT_RANGE_KEY,
    LABEL_NAME,
    MAX_OPSET,
    MIN_OPSET,
    PREPROCESSING_KEY,
    PROBABILITIES_NAME,
    SCORES_NAME,
    require_onnx,
)

__all__ = ["export_onnx", "build_graph"]


def _class_names(model: Any, metadata: dict[str, Any]) -> list[str]:
    names = metadata.get("class_names")
    if isinstance(names, list) and len(names) == model.num_classes:
        return [str(name) for name in names]
    return [str(k) for k in range(model.num_classes)]


def _model_input_shape(model: Any) -> tuple[int, ...]:
    """The sample shape the model's first layer takes: (D,) or (C, H, W)."""
    dims = getattr(model, "input_dim", None)
    if dims is None:
        raise NumnetError(f"{type(model).__name__} has no input_dim; export a numnet classifier")
    return (int(dims),) if isinstance(dims, int | np.integer) else tuple(int(d) for d in dims)


class _GraphBuilder:
    """Collects nodes and initializers; tracks the tensor the next layer reads and its rank."""

    def __init__(self, onnx: Any, dtype: np.dtype) -> None:
        self.onnx = onnx
        self.helper = onnx.helper
        self.dtype = dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value), name=name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        self.count += 1
        output = output or f"{op.lower()}_{self.count}"
        self.nodes.append(
            self.helper.make_node(op, inputs, [output], name=f"{op}_{self.count}", **attrs)
        )
        return output


def _preprocess(graph: _GraphBuilder, model: Any, metadata: dict[str, Any]) -> tuple[str, int]:
    """Raw ``input`` (N, P) float32 -> ``features`` (N, *model input shape); returns (name, P)."""
    from numnet.data import Standardizer

    shape = _model_input_shape(model)
    record = metadata.get("preprocessing")
    x = INPUT_NAME
    size = math.prod(shape)
    if record:
        standardizer = Standardizer.from_dict(record)
        sample_shape = tuple(standardizer.sample_shape)
        if math.prod(sample_shape) != size:
            raise ModelFileError(
                f"the stored preprocessing is for samples of shape {sample_shape} but the model "
                f"takes {shape}; the model file's metadata is damaged"
            )
        assert standardizer.mean is not None and standardizer.std is not None
        mean = np.broadcast_to(standardizer._broadcastable(standardizer.mean), sample_shape)
        std = np.broadcast_to(standardizer._broadcastable(standardizer.std), sample_shape)
        scale = graph.constant("preprocess_scale", np.array(standardizer.scale, np.float32))
        x = graph.node("Mul", [x, scale])
        x = graph.node("Sub", [x, graph.constant("preprocess_mean", mean.reshape(1, size))])
        x = graph.node("Div", [x, graph.constant("preprocess_std", std.reshape(1, size))])
    if graph.dtype != np.float32:
        x = graph.node("Cast", [x], to=graph.helper.np_dtype_to_tensor_dtype(graph.dtype))
    target = graph.constant("features_shape", np.array([-1, *shape], dtype=np.int64))
    graph.node("Reshape", [x, target], FEATURES_NAME)
    return FEATURES_NAME, size


def _layer_norm(graph: _GraphBuilder, x: str, layer: LayerNorm, suffix: str, opset: int) -> str:
    gamma, beta = f"gamma{suffix}", f"beta{suffix}"
    if opset >= 17:
        return graph.node("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=float(layer.eps))
    mean = graph.node("ReduceMean", [x], axes=[-1], keepdims=1)
    centred = graph.node("Sub", [x, mean])
    var = graph.node("ReduceMean", [graph.node("Mul", [centred, centred])], axes=[-1], keepdims=1)
    eps = graph.constant(f"eps{suffix}", np.array(layer.eps, dtype=graph.dtype))
    std = graph.node("Sqrt", [graph.node("Add", [var, eps])])
    normed = graph.node("Div", [centred, std])
    return graph.node("Add", [graph.node("Mul", [normed, gamma]), beta])


def _layers(graph: _GraphBuilder, model: Any, x: str, opset: int) -> str:
    """Append every layer of ``model.net`` in inference form; returns the scores' tensor name."""
    net = model.net
    params, buffers = net.params, net.buffers
    for name in params:
        graph.constant(name, np.asarray(params[name]))
    for name in buffers:
        graph.constant(name, np.asarray(buffers[name]))
    rank = 1 + len(_model_input_shape(model))
    for layer, suffix in zip(net.layers, net.names, strict=True):
        if isinstance(layer, Linear):
            if rank != 2:
                x, rank = graph.node("Flatten", [x], axis=1), 2
            x = graph.node("Gemm", [x, f"W{suffix}", f"b{suffix}"], transB=0)
        elif isinstance(layer, Conv2d):
            k = layer.kernel_size
            s, p = layer.conv_param["stride"], layer.conv_param["pad"]
            x = graph.node(
                "Conv",
                [x, f"W{suffix}", f"b{suffix}"],
                kernel_shape=[k, k],
                strides=[s, s],
                pads=[p, p, p, p],  # [h_begin, w_begin, h_end, w_end]
                dilations=[1, 1],
                group=1,
            )
        elif isinstance(layer, BatchNorm1d | BatchNorm2d):
            x = graph.node(
                "BatchNormalization",
                [
                    x,
                    f"gamma{suffix}",
                    f"beta{suffix}",
                    f"running_mean{suffix}",
                    f"running_var{suffix}",
                ],
                epsilon=float(layer.eps),
                momentum=float(layer.bn_param["momentum"]),
            )
        elif isinstance(layer, LayerNorm):
            x = _layer_norm(graph, x, layer, suffix, opset)
        elif isinstance(layer, MaxPool2d | AvgPool2d):
            pool = layer.pool_param
            window = [pool["pool_height"], pool["pool_width"]]
            op = "MaxPool" if isinstance(layer, MaxPool2d) else "AveragePool"
            x = graph.node(
                op,
                [x],
                kernel_shape=window,
                strides=[pool["stride"]] * 2,
                pads=[0, 0, 0, 0],
                ceil_mode=0,
            )
        elif isinstance(layer, ReLU):
            x = graph.node("Relu", [x])
        elif isinstance(layer, LeakyReLU):
            x = graph.node("LeakyRelu", [x], alpha=float(layer.negative_slope))
        elif isinstance(layer, Tanh):
            x = graph.node("Tanh", [x])
        elif isinstance(layer, Sigmoid):
            x = graph.node("Sigmoid", [x])
        elif isinstance(layer, Flatten):
            if rank != 2:
                x, rank = graph.node("Flatten", [x], axis=1), 2
        elif isinstance(layer, Dropout):
            continue  # the identity at inference
        else:
            raise NumnetError(
                f"cannot export layer {suffix} ({type(layer).__name__}) to ONNX; supported: "
                "Linear, Conv2d, BatchNorm1d/2d, LayerNorm, MaxPool2d, AvgPool2d, ReLU, "
                "LeakyReLU, Tanh, Sigmoid, Flatten, Dropout"
            )
    return graph.node("Identity", [x], SCORES_NAME)


def build_graph(
    model: Any, metadata: dict[str, Any] | None = None, opset: int = DEFAULT_OPSET
) -> Any:
    """The checked ``onnx.ModelProto`` of ``model`` (see the module docstring)."""
    onnx = require_onnx()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ConfigError(
            f"--opset must be an integer from {MIN_OPSET} to {MAX_OPSET}, got {opset}"
        )
    if metadata is None:
        metadata = dict(getattr(model, "metadata", None) or {})
    inner = getattr(model, "model", None)  # numnet.load's Predictor: the classifier it holds
    if inner is not None and hasattr(inner, "net"):
        model = inner
    if not hasattr(model, "net") or not hasattr(model, "num_classes"):
        raise NumnetError(f"{type(model).__name__} is not a numnet classifier; nothing to export")
    helper = onnx.helper
    dtype = np.dtype(model.dtype)
    graph = _GraphBuilder(onnx, dtype)
    x, size = _preprocess(graph, model, metadata)
    scores = _layers(graph, model, x, opset)
    graph.node("Softmax", [scores], PROBABILITIES_NAME, axis=1)
    graph.node("ArgMax", [scores], LABEL_NAME, axis=1, keepdims=0)
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    K = model.num_classes
    inputs = [helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT, ["N", size])]
    outputs = [
        helper.make_tensor_value_info(PROBABILITIES_NAME, elem, ["N", K]),
        helper.make_tensor_value_info(LABEL_NAME, onnx.TensorProto.INT64, ["N"]),
    ]
    body = helper.make_graph(
        graph.nodes, f"numnet_{type(model).__name__}", inputs, outputs, graph.initializers
    )
    opset_id = helper.make_opsetid("", opset)
    proto = helper.make_model(
        body, opset_imports=[opset_id], producer_name="numnet", producer_version=__version__
    )
    proto.ir_version = helper.find_min_ir_version_for([opset_id])
    proto.doc_string = (
        f"numnet {type(model).__name__}: input = raw pixels as the CSV holds them (N, {size}); "
        "outputs = class probabilities and labels"
    )
    props = {
        CLASS_NAMES_KEY: json.dumps(_class_names(model, metadata)),
        "numnet.model_config": json.dumps(model.get_config(), sort_keys=True),
        "numnet.version": __version__,
    }
    if metadata.get("preprocessing"):
        props[PREPROCESSING_KEY] = json.dumps(metadata["preprocessing"], sort_keys=True)
    if isinstance(metadata.get("input_range"), dict):
        props[INPUT_RANGE_KEY] = json.dumps(metadata["input_range"], sort_keys=True)
    helper.set_model_props(proto, props)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(
    model: Any,
    path: str | os.PathLike[str],
    opset: int = DEFAULT_OPSET,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """Write ``model`` to ``path`` as ONNX (atomically: a partial file never has the final name).

    Parameters
    ----------
    model : Classifier or Predictor
        Any numnet classifier (FullyConnectedNet, ConvNet, the CS231n-named models, SequentialNet),
        or what :func:`numnet.load` returns (its classifier and metadata are exported).
    path : str or PathLike
        The ``.onnx`` file to write.
    opset : int
        ONNX opset, from :data:`MIN_OPSET` to :data:`MAX_OPSET`; the IR version is the lowest one
        that goes with it.
    metadata : dict, optional
        The model file's metadata (preprocessing, class names); by default ``model.metadata``
        (set by :func:`numnet.load`).

    Returns
    -------
    onnx.ModelProto
        The graph written.
    """
    proto = build_graph(model, metadata, opset)
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise NumnetError(f"cannot write {target}: directory {directory} does not exist")
    write_atomic(directory / target.name, lambda handle: handle.write(proto.SerializeToString()))
    return proto
