"""``import_onnx(path)``: a plain classifier from an ONNX file, as a numnet ``SequentialNet``.

Reads the graphs a classifier exported from PyTorch or Keras contains: one chain of Conv, Gemm
(or MatMul + Add), BatchNormalization, Relu / LeakyRelu / Tanh / Sigmoid, MaxPool / AveragePool,
Flatten / Reshape, with Dropout and Identity passed through and a final Softmax / LogSoftmax /
ArgMax dropped (numnet's scores are the logits). Each becomes the numnet layer of the same
function, so the imported model runs, trains and gradient-checks like any other. Anything numnet
cannot represent (another op, a branch, dilation, groups, asymmetric padding, ceil_mode=1, a 3-D
convolution) is refused with one line naming the node, its op and what is supported.

An ONNX file is untrusted input: its size is checked before it is read, external-data tensors are
refused (numnet reads self-contained files only, so nothing outside the file is ever opened),
nothing is fetched from a network, and a truncated or forged file is refused with one line.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from numnet.errors import DataError, ModelFileError, NumnetError
from numnet.onnx_io._common import (
    CLASS_NAMES_KEY,
    FEATURES_NAME,
    INPUT_RANGE_KEY,
    PREPROCESSING_KEY,
    require_onnx,
)

__all__ = ["MAX_BYTES", "SUPPORTED_OPS", "import_onnx"]

MAX_BYTES = 512 * 1024 * 1024
SUPPORTED_OPS = (
    "Conv",
    "Gemm",
    "MatMul",
    "Add",
    "BatchNormalization",
    "LayerNormalization",
    "Relu",
    "LeakyRelu",
    "Tanh",
    "Sigmoid",
    "MaxPool",
    "AveragePool",
    "Flatten",
    "Reshape",
    "Dropout",
    "Identity",
    "Softmax",
    "LogSoftmax",
    "ArgMax",
    "Constant",
)
_SUPPORTED_TEXT = ", ".join(SUPPORTED_OPS)
_PREPROCESSING_OPS = {"Mul", "Sub", "Div", "Cast", "Reshape"}


class _Refused(NumnetError):
    """A node numnet cannot represent (turned into a one-line ModelFileError)."""


def _read_proto(onnx: Any, target: Path, max_bytes: int) -> Any:
    """Parse ``target`` after checking it exists and is not too large; one line on failure."""
    if not target.exists():
        raise ModelFileError(f"ONNX file {target} does not exist; check the path")
    if not target.is_file():
        raise ModelFileError(f"{target} is not a file; give the path of an .onnx file")
    size = target.stat().st_size
    if size == 0:
        raise ModelFileError(f"{target} is empty (a truncated download?); fetch it again")
    if size > max_bytes:
        raise ModelFileError(
            f"{target} is {size} bytes, over the {max_bytes}-byte limit for ONNX files; "
            "pass a larger max_bytes if you trust it"
        )
    data = target.read_bytes()
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelFileError(
            f"{target} is not a readable ONNX file (truncated or forged: {type(exc).__name__}); "
            "export it again"
        ) from None
    if not proto.HasField("graph") or not proto.graph.node:
        raise ModelFileError(f"{target} holds no ONNX graph (truncated or not an ONNX file)")
    tensors = list(proto.graph.initializer)
    for node in proto.graph.node:
        tensors.extend(attr.t for attr in node.attribute if attr.HasField("t"))
    for tensor in tensors:
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            raise ModelFileError(
                f"{target}: tensor {tensor.name!r} is stored in an external data file; numnet "
                "reads self-contained ONNX files only (save the model with its weights inside)"
            )
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:
        message = " ".join(str(exc).split())[:200]
        raise ModelFileError(f"{target} is not a valid ONNX model ({message})") from None
    for opset in proto.opset_import:
        if opset.domain not in ("", "ai.onnx"):
            raise ModelFileError(
                f"{target} uses operators of domain {opset.domain!r}; numnet imports standard "
                "ONNX operators only"
            )
    return proto


def _attrs(onnx: Any, node: Any, allowed: set[str]) -> dict[str, Any]:
    values = {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise _Refused(
            f"attribute {unknown[0]!r} is not supported (numnet reads {sorted(allowed)} here)"
        )
    for key, value in values.items():
        if isinstance(value, bytes):
            values[key] = value.decode("utf-8", "replace")
    return values


def _same(values: list[int], what: str) -> int:
    if len(set(values)) != 1:
        raise _Refused(f"{what} {values} differ; numnet supports square, symmetric {what} only")
    return int(values[0])


class _Walker:
    """Follows the one chain of data from the graph input, building layer specs and arrays."""

    def __init__(self, onnx: Any, proto: Any, dtype: np.dtype) -> None:
        self.onnx = onnx
        self.dtype = dtype
        self.consts: dict[str, np.ndarray] = {
            t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer
        }
        for node in proto.graph.node:
            if node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name == "value":
                        self.consts[node.output[0]] = onnx.numpy_helper.to_array(attr.t)
        self.specs: list[dict[str, Any]] = []
        self.arrays: list[dict[str, np.ndarray]] = []
        self.shape: tuple[int, ...] = ()
        self.input_shape: tuple[int, ...] = ()
        self.current = ""
        self.ended = False
        self.open_matmul = ""  # output name of a MatMul still waiting for its bias Add

    def const(self, node: Any, index: int, what: str, required: bool = True) -> np.ndarray | None:
        if index >= len(node.input) or not node.input[index]:
            if required:
                raise _Refused(f"{what} is missing")
            return None
        name = node.input[index]
        if name not in self.consts:
            raise _Refused(
                f"{what} ({name!r}) is computed in the graph; numnet needs it as a constant "
                "initializer"
            )
        return np.asarray(self.consts[name])

    def add(self, spec: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> None:
        self.specs.append(spec)
        self.arrays.append({k: np.asarray(v).astype(self.dtype) for k, v in (arrays or {}).items()})

    def linear(self, weight: np.ndarray, bias: np.ndarray | None) -> None:
        if len(self.shape) != 1:
            raise _Refused(
                f"a fully connected layer needs flat (N, D) inputs, got {self.shape}; "
                "add a Flatten before it"
            )
        if weight.ndim != 2 or weight.shape[0] != self.shape[0]:
            raise _Refused(
                f"weights of shape {weight.shape} do not fit inputs of {self.shape[0]} features"
            )
        M = weight.shape[1]
        b = np.zeros(M) if bias is None else bias
        if b.size == 1 and M != 1:
            b = np.full(M, b.reshape(()))
        if b.size != M:
            raise _Refused(f"bias of shape {b.shape} does not fit {M} outputs")
        self.add(
            {"type": "linear", "in_features": int(weight.shape[0]), "out_features": int(M)},
            {"W": weight, "b": b.reshape(M)},
        )
        self.shape = (int(M),)

    def pooled(self, k: int, s: int, p: int) -> None:
        _, H, W = self.shape
        if H + 2 * p < k or W + 2 * p < k:
            raise _Refused(f"window {k} does not fit the {H}x{W} input")
        self.shape = (self.shape[0], 1 + (H + 2 * p - k) // s, 1 + (W + 2 * p - k) // s)

    def window(self, attrs: dict[str, Any], pads_ok: bool) -> tuple[int, int, int]:
        kernel = list(attrs.get("kernel_shape", []))
        if len(self.shape) != 3:
            raise _Refused(f"needs (N, C, H, W) inputs, got samples of shape {self.shape}")
        if len(kernel) != 2:
            raise _Refused(
                f"{len(kernel)}-D window; numnet supports 2-D convolution and pooling only"
            )
        k = _same(kernel, "kernel_shape")
        s = _same(list(attrs.get("strides", [1, 1])), "strides")
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        p = _same(pads, "pads")
        if p and not pads_ok:
            raise _Refused(f"pads {pads} are not supported (numnet pools without padding)")
        if any(d != 1 for d in attrs.get("dilations", [1, 1])):
            raise _Refused(f"dilations {attrs['dilations']} are not supported (only 1)")
        auto_pad = attrs.get("auto_pad", "NOTSET")
        if auto_pad not in ("NOTSET", "VALID"):
            raise _Refused(f"auto_pad={auto_pad} is not supported (give explicit pads)")
        return k, s, p

    def conv(self, node: Any) -> None:
        attrs = _attrs(
            self.onnx, node, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"}
        )
        weight = self.const(node, 1, "the filters")
        assert weight is not None
        if weight.ndim != 4:
            raise _Refused(
                f"{weight.ndim - 2}-D convolution (filters {weight.shape}); numnet supports 2-D "
                "convolution only"
            )
        attrs.setdefault("kernel_shape", list(weight.shape[2:]))
        if attrs.get("group", 1) != 1:
            raise _Refused(f"group={attrs['group']} is not supported (only 1)")
        k, s, p = self.window(attrs, pads_ok=True)
        F, C = int(weight.shape[0]), int(weight.shape[1])
        if C != self.shape[0]:
            raise _Refused(f"filters for {C} channels on an input of {self.shape[0]} channels")
        bias = self.const(node, 2, "the bias", required=False)
        self.add(
            {
                "type": "conv",
                "in_channels": C,
                "out_channels": F,
                "kernel_size": k,
                "stride": s,
                "pad": p,
            },
            {"W": weight, "b": np.zeros(F) if bias is None else bias.reshape(F)},
        )
        self.pooled(k, s, p)
        self.shape = (F, *self.shape[1:])

    def batchnorm(self, node: Any) -> None:
        attrs = _attrs(self.onnx, node, {"epsilon", "momentum", "spatial", "training_mode"})
        if attrs.get("spatial", 1) != 1:
            raise _Refused("spatial=0 is not supported")
        gamma, beta, mean, var = (
            self.const(node, i, n) for i, n in enumerate(("scale", "bias", "mean", "var"), start=1)
        )
        D = self.shape[0]
        kind = {1: "batchnorm1d", 3: "batchnorm2d"}.get(len(self.shape))
        if kind is None:
            raise _Refused(
                f"inputs of shape {self.shape}; numnet normalises (N, D) or (N, C, H, W)"
            )
        self.add(
            {
                "type": kind,
                "num_features": D,
                "eps": float(attrs.get("epsilon", 1e-5)),
                "momentum": float(attrs.get("momentum", 0.9)),
            },
            {"gamma": gamma, "beta": beta, "running_mean": mean, "running_var": var},
        )

    def reshape(self, node: Any) -> None:
        _attrs(self.onnx, node, {"allowzero"})
        target = self.const(node, 1, "the target shape")
        assert target is not None
        rest = [int(d) for d in target.reshape(-1)[1:]]
        size = math.prod(self.shape)
        if rest.count(-1) == 1:
            known = math.prod(d for d in rest if d != -1)
            rest[rest.index(-1)] = size // known if known else 0
        if math.prod(rest) != size or any(d <= 0 for d in rest) or target.size < 2:
            raise _Refused(f"reshape of {self.shape} to {target.tolist()} is not supported")
        if len(rest) == 1:
            if len(self.shape) > 1:
                self.add({"type": "flatten"})
        elif not self.specs:
            self.input_shape = tuple(rest)  # reinterprets the raw input: numnet does it itself
        else:
            raise _Refused(f"reshape of {self.shape} to {target.tolist()} between layers")
        self.shape = tuple(rest)

    def step(self, node: Any) -> None:
        op = node.op_type
        if op == "Constant":
            return
        data = node.input[0] if node.input else ""
        if self.ended:
            if op in ("ArgMax", "Identity"):
                return
            raise _Refused("only ArgMax may follow the final Softmax")
        if op == "Add" and self.open_matmul and self.open_matmul in node.input:
            other = [name for name in node.input if name != self.open_matmul]
            if len(other) == 1 and other[0] in self.consts:
                bias = np.asarray(self.consts[other[0]]).reshape(-1)
                M = self.specs[-1]["out_features"]
                if bias.size not in (1, M):
                    raise _Refused(f"bias of shape {bias.shape} does not fit {M} outputs")
                self.arrays[-1]["b"] = np.broadcast_to(bias, (M,)).astype(self.dtype)
                self.open_matmul = ""
                self.current = node.output[0]
                return
        if op not in SUPPORTED_OPS:
            raise _Refused(f"op {op} is not supported; numnet imports {_SUPPORTED_TEXT}")
        if op == "Add":
            raise _Refused(
                "Add is supported only as the bias right after MatMul (a residual Add joins "
                "two branches, which a numnet model cannot express)"
            )
        if data != self.current:
            raise _Refused(
                f"reads {data!r}, not the output of the layer before; numnet imports one chain "
                "of layers (no branches)"
            )
        self.open_matmul = ""
        if op == "Conv":
            self.conv(node)
        elif op == "Gemm":
            attrs = _attrs(self.onnx, node, {"alpha", "beta", "transA", "transB"})
            if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
                raise _Refused("alpha or beta other than 1 is not supported")
            if attrs.get("transA", 0):
                raise _Refused("transA=1 is not supported")
            weight = self.const(node, 1, "the weights")
            assert weight is not None
            self.linear(
                weight.T if attrs.get("transB", 0) else weight,
                self.const(node, 2, "the bias", required=False),
            )
        elif op == "MatMul":
            weight = self.const(node, 1, "the weights")
            assert weight is not None
            self.linear(weight, None)
            self.open_matmul = node.output[0]
        elif op == "BatchNormalization":
            self.batchnorm(node)
        elif op == "LayerNormalization":
            attrs = _attrs(self.onnx, node, {"axis", "epsilon", "stash_type"})
            if attrs.get("axis", -1) not in (-1, 1) or len(self.shape) != 1:
                raise _Refused("numnet normalises the features of (N, D) inputs only (axis -1)")
            if len(node.output) > 1 and any(node.output[1:]):
                raise _Refused("the Mean and InvStdDev outputs are not supported")
            gamma = self.const(node, 1, "the scale")
            beta = self.const(node, 2, "the bias", required=False)
            D = self.shape[0]
            self.add(
                {"type": "layernorm", "num_features": D, "eps": float(attrs.get("epsilon", 1e-5))},
                {"gamma": gamma, "beta": np.zeros(D) if beta is None else beta},
            )
        elif op in ("Relu", "Tanh", "Sigmoid"):
            _attrs(self.onnx, node, set())
            self.add({"type": op.lower()})
        elif op == "LeakyRelu":
            attrs = _attrs(self.onnx, node, {"alpha"})
            self.add({"type": "leaky_relu", "negative_slope": float(attrs.get("alpha", 0.01))})
        elif op in ("MaxPool", "AveragePool"):
            allowed = {"kernel_shape", "strides", "pads", "ceil_mode", "dilations", "auto_pad"}
            allowed |= {"storage_order"} if op == "MaxPool" else {"count_include_pad"}
            attrs = _attrs(self.onnx, node, allowed)
            if attrs.get("ceil_mode", 0):
                raise _Refused("ceil_mode=1 is not supported (numnet pools with floor)")
            if attrs.get("storage_order", 0):
                raise _Refused("storage_order=1 is not supported")
            if len(node.output) > 1 and node.output[1]:
                raise _Refused("the Indices output is not supported")
            k, s, _ = self.window(attrs, pads_ok=False)
            self.add(
                {"type": "maxpool" if op == "MaxPool" else "avgpool", "pool_size": k, "stride": s}
            )
            self.pooled(k, s, 0)
        elif op == "Flatten":
            attrs = _attrs(self.onnx, node, {"axis"})
            if attrs.get("axis", 1) != 1:
                raise _Refused(f"axis={attrs['axis']} is not supported (only 1)")
            if len(self.shape) > 1:
                self.add({"type": "flatten"})
            self.shape = (math.prod(self.shape),)
        elif op == "Reshape":
            self.reshape(node)
        elif op in ("Softmax", "LogSoftmax", "ArgMax"):
            axis = _attrs(self.onnx, node, {"axis", "keepdims", "select_last_index"}).get("axis")
            if axis not in (None, 1, -1) or len(self.shape) != 1:
                raise _Refused(f"a {op} over axis {axis} of {self.shape} is not a class softmax")
            self.ended = True
            return
        # Dropout and Identity: the identity at inference
        self.current = node.output[0]


def _input_range(text: str | None) -> dict[str, float] | None:
    """The ``input_range`` record numnet's export stored, or None when absent or unusable."""
    try:
        record = json.loads(text) if text else None
        stats = {key: float(record[key]) for key in ("min", "max", "mean")}
    except (json.JSONDecodeError, TypeError, KeyError, ValueError):
        return None  # only a warning depends on it: an unusable entry is left out
    return stats if all(math.isfinite(v) for v in stats.values()) else None


def import_onnx(path: str | os.PathLike[str], dtype: Any = None, max_bytes: int = MAX_BYTES) -> Any:
    """Read a plain classifier from an ONNX file as a :class:`numnet.models.SequentialNet`.

    Parameters
    ----------
    path : str or PathLike
        The ``.onnx`` file (self-contained: external-data tensors are refused).
    dtype : {None, np.float32, np.float64}
        dtype of the imported model; None: float64 when the file's weights are float64, else
        float32.
    max_bytes : int
        Files larger than this are refused before being read.

    Returns
    -------
    SequentialNet
        With the file's weights; ``model.metadata`` holds ``class_names`` when the file has them
        and, for a file written by :func:`numnet.onnx_io.export_onnx`, the ``preprocessing`` it
        applied (the graph's preprocessing nodes are not layers).

    Raises
    ------
    ModelFileError
        One line: a missing, oversized, truncated or forged file, external data, or a node numnet
        cannot represent (naming the node, its op and what is supported).
    """
    from numnet.models import SequentialNet
    from numnet.models.classifier import resolve_dtype

    onnx = require_onnx()
    target = Path(path)
    proto = _read_proto(onnx, target, max_bytes)
    if dtype is None:
        kinds = {init.data_type for init in proto.graph.initializer}
        dtype = np.float64 if onnx.TensorProto.DOUBLE in kinds else np.float32
    walker = _Walker(onnx, proto, np.dtype(resolve_dtype(dtype)))
    graph = proto.graph
    inputs = [value for value in graph.input if value.name not in walker.consts]
    if len(inputs) != 1:
        raise ModelFileError(
            f"{target} has {len(inputs)} data inputs; numnet imports classifiers with one input"
        )
    dims = inputs[0].type.tensor_type.shape.dim
    sample = [d.dim_value for d in list(dims)[1:]]
    if len(dims) < 2 or any(d <= 0 for d in sample):
        raise ModelFileError(
            f"{target}: input {inputs[0].name!r} needs a known shape (N, ...) per sample; "
            "export it with fixed sizes except the batch"
        )
    props = {prop.key: prop.value for prop in proto.metadata_props}
    metadata: dict[str, Any] = {}
    nodes = list(graph.node)
    walker.current, walker.shape = inputs[0].name, tuple(sample)
    producers = [i for i, node in enumerate(nodes) if FEATURES_NAME in node.output]
    if producers and (PREPROCESSING_KEY in props or proto.producer_name == "numnet"):
        # A file numnet exported: the nodes up to ``features`` are its stored preprocessing.
        skipped = nodes[: producers[0] + 1]
        if any(node.op_type not in _PREPROCESSING_OPS | {"Constant"} for node in skipped):
            raise ModelFileError(f"{target}: unexpected nodes before {FEATURES_NAME!r}")
        shape_name = skipped[-1].input[1] if len(skipped[-1].input) > 1 else ""
        if skipped[-1].op_type != "Reshape" or shape_name not in walker.consts:
            raise ModelFileError(f"{target}: {FEATURES_NAME!r} is not a constant Reshape")
        walker.shape = tuple(int(d) for d in walker.consts[shape_name][1:])
        walker.current, nodes = FEATURES_NAME, nodes[producers[0] + 1 :]
        if PREPROCESSING_KEY in props:
            from numnet.data import Standardizer

            try:
                record = json.loads(props[PREPROCESSING_KEY])
                Standardizer.from_dict(record)
            except (json.JSONDecodeError, DataError) as exc:
                raise ModelFileError(
                    f"{target}: damaged {PREPROCESSING_KEY} entry ({exc})"
                ) from None
            metadata["preprocessing"] = record
    walker.input_shape = walker.shape
    for node in nodes:
        try:
            walker.step(node)
        except _Refused as exc:
            raise ModelFileError(
                f"{target}: node {node.name or node.output[0]!r} ({node.op_type}): {exc}"
            ) from None
    if not walker.specs or len(walker.shape) != 1:
        raise ModelFileError(
            f"{target}: the graph does not end in (N, K) class scores; numnet imports classifiers"
        )
    num_classes = walker.shape[0]
    input_dim: Any = walker.input_shape
    model = SequentialNet(
        walker.specs,
        input_dim=list(input_dim) if len(input_dim) > 1 else int(input_dim[0]),
        num_classes=num_classes,
        dtype=walker.dtype,
        seed=0,
    )
    for layer, suffix, arrays in zip(model.net.layers, model.net.names, walker.arrays, strict=True):
        for local, value in arrays.items():
            group = model.params if local in layer.params else model.buffers
            target_array = group[f"{local}{suffix}"]
            if tuple(target_array.shape) != value.shape:
                raise ModelFileError(
                    f"{target}: {local}{suffix} has shape {value.shape}, the layer needs "
                    f"{tuple(target_array.shape)}"
                )
            if not np.all(np.isfinite(value)):
                raise ModelFileError(f"{target}: {local}{suffix} holds NaN or Inf values")
            np.copyto(target_array, value)
    try:
        names = json.loads(props.get(CLASS_NAMES_KEY, "null"))
    except json.JSONDecodeError:
        names = None
    if isinstance(names, list) and len(names) == num_classes:
        metadata["class_names"] = [str(name) for name in names]
    stats = _input_range(props.get(INPUT_RANGE_KEY))
    if stats is not None:
        metadata["input_range"] = stats
    model.metadata = metadata
    return model
