"""Import: a PyTorch CNN exported by ``torch.onnx.export`` becomes a numnet model that computes,
trains and gradient-checks like the original."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import numnet
from numnet.cli import main
from numnet.gradcheck import eval_numerical_gradient, rel_error

from .conftest import need

need("onnx")
torch = need("torch")


def _torch_cnn() -> torch.nn.Module:
    """conv - batch norm - ReLU - max pool - linear, with running statistics away from 0 / 1."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, stride=1, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 4 * 4, 10),
    )
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(64, 1, 8, 8) * 2 + 1)
    return net.eval()


def _export(net: torch.nn.Module, path) -> None:
    # PRESERVE keeps BatchNormalization as its own node (EVAL folds it into the convolution).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.zeros(2, 1, 8, 8),),
            str(path),
            dynamo=False,
            training=torch.onnx.TrainingMode.PRESERVE,
            input_names=["x"],
            output_names=["logits"],
            dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
        )


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    net = _torch_cnn()
    path = tmp_path_factory.mktemp("torch") / "cnn.onnx"
    _export(net, path)
    return net, path


def _numnet_to_torch_names() -> dict[str, tuple[str, bool]]:
    """numnet name -> (torch parameter name, transposed): Linear's weight is (M, D) in torch."""
    return {
        "W1": ("0.weight", False),
        "b1": ("0.bias", False),
        "gamma1": ("1.weight", False),
        "beta1": ("1.bias", False),
        "W2": ("5.weight", True),
        "b2": ("5.bias", False),
    }


def test_imported_cnn_matches_pytorch_on_1000_inputs(exported):
    net, path = exported
    model = numnet.import_onnx(path)
    assert [spec["type"] for spec in model.layer_specs] == [
        "conv",
        "batchnorm2d",
        "relu",
        "maxpool",
        "flatten",
        "linear",
    ]
    X = np.random.default_rng(1).normal(size=(1000, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.scores(X), expected, rtol=0, atol=1e-5)


def test_sgd_steps_after_import_match_pytorch(exported):
    net, path = exported
    model = numnet.import_onnx(path)
    rng = np.random.default_rng(2)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    net.train()
    params = dict(net.named_parameters())
    for _ in range(4):
        X = rng.normal(size=(32, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 10, size=32)
        loss, grads = model.loss(X, y)
        for name, grad in grads.items():
            model.params[name] -= np.float32(0.1) * grad
        optimizer.zero_grad()
        torch_loss = torch.nn.functional.cross_entropy(
            net(torch.from_numpy(X)), torch.from_numpy(y)
        )
        torch_loss.backward()
        optimizer.step()
        assert loss == pytest.approx(torch_loss.item(), rel=1e-5)
    for name, (torch_name, transposed) in _numnet_to_torch_names().items():
        value = params[torch_name].detach().numpy()
        np.testing.assert_allclose(
            model.params[name], value.T if transposed else value, rtol=1e-5, atol=1e-6
        )
    net.eval()


def test_imported_model_passes_the_gradient_check(exported):
    _, path = exported
    model = numnet.import_onnx(path, dtype=np.float64)
    model.set_kernels("reference")
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(4, 1, 8, 8)), rng.integers(0, 10, size=4)
    _, grads = model.loss(X, y)
    for name in model.params:
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name])
        # b1 feeds a batch norm, so its true gradient is 0: compare with an absolute floor too.
        scale = max(np.abs(numeric).max(), 1e-3)
        assert np.abs(grads[name] - numeric).max() / scale < 1e-6, (
            name,
            rel_error(grads[name], numeric),
        )


def test_imported_model_trains_and_saves(exported, tmp_path):
    _, path = exported
    out = tmp_path / "cnn.npz"
    assert main(["import", str(path), "-o", str(out)]) == 0
    model = numnet.load(out)
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(60, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, size=60)
    data = {"X_train": X[:40], "y_train": y[:40], "X_val": X[40:], "y_val": y[40:]}
    before = {name: value.copy() for name, value in model.params.items()}
    solver = numnet.Solver(
        model,
        data,
        update_rule="sgd",
        optim_config={"learning_rate": 0.05},
        batch_size=10,
        num_epochs=1,
        verbose=False,
    )
    solver.train()
    assert any(not np.array_equal(before[n], model.params[n]) for n in before)
    numnet.save(tmp_path / "trained.npz", model)
    again = numnet.load(tmp_path / "trained.npz")
    np.testing.assert_array_equal(again.scores(X), model.scores(X))


def test_other_layers_and_matmul_add_import(tmp_path):
    """Average pooling, LeakyReLU, Tanh, Sigmoid, Dropout, a stride-2 unpadded conv and a final
    Softmax from PyTorch; and a Keras-style MatMul + Add graph built by hand."""
    torch.manual_seed(1)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 2, stride=2),
        torch.nn.LeakyReLU(0.2),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.5),
        torch.nn.Linear(12, 7),
        torch.nn.Tanh(),
        torch.nn.Linear(7, 5),
        torch.nn.Sigmoid(),
        torch.nn.Linear(5, 4),
        torch.nn.Softmax(dim=1),
    ).eval()
    _export(net, tmp_path / "other.onnx")
    model = numnet.import_onnx(tmp_path / "other.onnx")
    X = np.random.default_rng(6).normal(size=(200, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    scores = model.scores(X)
    probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-5)

    onnx = need("onnx")
    helper, rng = onnx.helper, np.random.default_rng(7)
    W1, b1 = rng.normal(size=(6, 5)).astype(np.float32), rng.normal(size=5).astype(np.float32)
    W2, b2 = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    arrays = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["r"]),
        helper.make_node("MatMul", ["r", "W2"], ["s"]),
        helper.make_node("Add", ["b2", "s"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "keras",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 6])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 3])],
        [onnx.numpy_helper.from_array(value, name) for name, value in arrays.items()],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    proto.ir_version = 7
    (tmp_path / "keras.onnx").write_bytes(proto.SerializeToString())
    model = numnet.import_onnx(tmp_path / "keras.onnx")
    X = rng.normal(size=(10, 6)).astype(np.float32)
    expected = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    np.testing.assert_allclose(model.scores(X), expected, rtol=1e-5, atol=1e-5)
