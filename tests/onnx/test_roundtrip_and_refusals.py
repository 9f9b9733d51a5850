"""Export then import gives back the same parameters bit for bit; what numnet cannot represent,
and files that are not sound, are refused with one line and nothing is written."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet.cli import main
from numnet.errors import ModelFileError, NumnetError
from numnet.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet
from tests.cli.conftest import last_error_line

from .conftest import need

onnx = need("onnx")
helper = onnx.helper
TensorProto = onnx.TensorProto


def _perturbed(model):
    """Every parameter and buffer moved away from its initial value (ones, zeros)."""
    rng = np.random.default_rng(0)
    for group in (model.params, model.buffers):
        for name in group:
            group[name][...] = rng.random(group[name].shape) + 0.5
    return model


MODELS = {
    "mlp-batchnorm": lambda: FullyConnectedNet(
        [16, 8], input_dim=64, normalization="batchnorm", dropout_keep_ratio=0.5, seed=0
    ),
    "mlp-layernorm": lambda: FullyConnectedNet([12], input_dim=64, normalization="layernorm"),
    "cnn": lambda: ConvNet(
        (1, 8, 8),
        [4, 6],
        kernel_size=[3, 2],
        stride=[1, 2],
        pad=[1, 0],
        pool_size=[2, None],
        hidden_dims=[12],
        normalization="batchnorm",
        seed=0,
    ),
    "two-layer": lambda: TwoLayerNet(input_dim=64, hidden_dim=10),
    "three-layer-conv": lambda: ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=3),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_export_then_import_gives_back_the_parameters_bit_for_bit(kind, tmp_path):
    model = _perturbed(MODELS[kind]())
    numnet.export_onnx(model, tmp_path / "m.onnx", metadata={})
    back = numnet.import_onnx(tmp_path / "m.onnx")
    for group in ("params", "buffers"):
        original, imported = getattr(model, group), getattr(back, group)
        assert sorted(original) == sorted(imported)
        for name in original:
            assert imported[name].dtype == original[name].dtype
            assert np.array_equal(imported[name], original[name]), name
    X = np.random.default_rng(1).normal(size=(5, 64)).astype(np.float32)
    np.testing.assert_allclose(back.scores(X), model.scores(X), rtol=1e-6, atol=1e-6)


def _save(graph, path, opset=17):
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = 8
    path.write_bytes(proto.SerializeToString())
    return path


def _weights(name, shape):
    return onnx.numpy_helper.from_array(np.ones(shape, dtype=np.float32), name=name)


def _lstm(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [5, 1, 2, 2])
    node = helper.make_node("LSTM", ["x", "W", "R"], ["y"], name="lstm", hidden_size=2)
    graph = helper.make_graph(
        [node], "g", [x], [y], [_weights("W", (1, 8, 3)), _weights("R", (1, 8, 2))]
    )
    return _save(graph, path)


def _residual(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 4, 4])
    nodes = [
        helper.make_node(
            "Conv", ["x", "W"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        ),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Add", ["r", "x"], ["y"], name="skip"),
    ]
    return _save(helper.make_graph(nodes, "g", [x], [y], [_weights("W", (2, 2, 3, 3))]), path)


def _conv3d(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 3, 3, 3])
    node = helper.make_node("Conv", ["x", "W"], ["y"], name="conv3d", kernel_shape=[2, 2, 2])
    return _save(helper.make_graph([node], "g", [x], [y], [_weights("W", (2, 1, 2, 2, 2))]), path)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (_lstm, ["'lstm'", "(LSTM)", "Gemm"]),
        (_residual, ["'skip'", "(Add)", "residual"]),
        (_conv3d, ["'conv3d'", "(Conv)", "3-D convolution"]),
    ],
)
def test_unsupported_graphs_are_refused_with_one_line(build, words, tmp_path, capsys):
    path = build(tmp_path / "model.onnx")
    out = tmp_path / "model.npz"
    assert main(["import", str(path), "-o", str(out)]) == 1
    line = last_error_line(capsys.readouterr().err)
    for word in words:
        assert word in line, line
    assert not out.exists()


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.onnx"
    numnet.export_onnx(_perturbed(MODELS["cnn"]()), path, metadata={})
    return path


@pytest.mark.parametrize("damage", ["truncated", "forged", "empty", "text"])
def test_truncated_or_forged_files_are_refused_with_one_line(damage, good_file, tmp_path, capsys):
    data = good_file.read_bytes()
    bad = tmp_path / "bad.onnx"
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "forged":
        bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    elif damage == "empty":
        bad.write_bytes(b"")
    else:
        bad.write_text("<html>not found</html>\n")
    out = tmp_path / "bad.npz"
    assert main(["import", str(bad), "-o", str(out)]) == 1
    last_error_line(capsys.readouterr().err)
    assert not out.exists()


def test_external_data_and_oversized_files_are_refused(good_file, tmp_path):
    proto = onnx.load(str(good_file))
    tensor = proto.graph.initializer[0]
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    tensor.ClearField("raw_data")
    external = tmp_path / "external.onnx"
    external.write_bytes(proto.SerializeToString())
    with pytest.raises(ModelFileError, match="external data"):
        numnet.import_onnx(external)
    with pytest.raises(ModelFileError, match="limit"):
        numnet.import_onnx(good_file, max_bytes=100)


def test_missing_extra_names_the_pip_command(monkeypatch, good_file, tmp_path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(NumnetError, match=r"pip install -e '\.\[onnx\]'"):
        numnet.import_onnx(good_file)
    assert main(["import", str(good_file), "-o", str(tmp_path / "m.npz")]) == 1
    assert "pip install -e '.[onnx]'" in last_error_line(capsys.readouterr().err)
