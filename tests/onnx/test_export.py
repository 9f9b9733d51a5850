"""Export: onnxruntime on the exported file agrees with ``numnet predict`` on raw CSV rows."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import numnet
from numnet.cli import main
from numnet.cli.inputs import InputPipeline
from numnet.data import read_kaggle_csv
from numnet.serialization import load_model

from .conftest import need, softmax

onnx = need("onnx")
ort = need("onnxruntime")

MODELS = {
    "mlp": ["--hidden-dims", "32", "16"],
    "cnn": ["--model", "cnn", "--conv-channels", "4", "6", "--hidden-dims", "16"],
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def trained(request, digits_csvs, tmp_path_factory):
    """A run trained by ``numnet train`` with batch norm on the Kaggle-format CSV."""
    train_csv, _ = digits_csvs
    run = tmp_path_factory.mktemp(request.param) / "run"
    argv = ["train", "--data", str(train_csv), "--epochs", "3", "--normalization", "batchnorm"]
    assert main([*argv, *MODELS[request.param], "--quiet", "--out-dir", str(run)]) == 0
    return run


def _submission_labels(path) -> np.ndarray:
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return np.array([int(label) for _, label in rows])


@pytest.mark.parametrize("opset", [13, 17])
def test_onnxruntime_matches_numnet_predict(trained, digits_csvs, tmp_path, opset):
    _, test_csv = digits_csvs
    exported = tmp_path / "model.onnx"
    assert main(["export", str(trained), "-o", str(exported), "--opset", str(opset)]) == 0
    submission = tmp_path / "submission.csv"
    assert (
        main(
            [
                "predict",
                str(trained / "model.npz"),
                "--input",
                str(test_csv),
                "--output",
                str(submission),
            ]
        )
        == 0
    )
    labels = _submission_labels(submission)

    model, metadata = load_model(trained / "model.npz")
    raw, _ = read_kaggle_csv(test_csv)
    expected = softmax(model.scores(InputPipeline(model.get_config(), metadata)(raw, "test")))

    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    probabilities, onnx_labels = session.run(None, {"input": raw.astype(np.float32)})
    assert probabilities.shape == (len(raw), model.num_classes)
    np.testing.assert_array_equal(onnx_labels, labels)
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-5)


def test_exported_file_is_checked_dynamic_and_named(trained, tmp_path):
    exported = tmp_path / "model.onnx"
    assert main(["export", str(trained / "model.npz"), "-o", str(exported)]) == 0
    proto = onnx.load(str(exported))
    onnx.checker.check_model(proto, full_check=True)
    opset = proto.opset_import[0]
    assert opset.version == 17
    assert proto.ir_version == onnx.helper.find_min_ir_version_for([opset])
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    props = {p.key: p.value for p in proto.metadata_props}
    _, metadata = load_model(trained / "model.npz")
    assert json.loads(props["class_names"]) == [str(k) for k in range(10)]
    assert json.loads(props["numnet.preprocessing"]) == json.loads(
        json.dumps(metadata["preprocessing"], sort_keys=True)
    )
    ops = {node.op_type for node in proto.graph.node}
    assert "Dropout" not in ops and "BatchNormalization" in ops


def test_export_refuses_overwrite_and_bad_opset(trained, tmp_path, capsys):
    from tests.cli.conftest import last_error_line

    exported = tmp_path / "model.onnx"
    exported.write_text("keep me")
    assert main(["export", str(trained), "-o", str(exported)]) == 2
    assert "--force" in last_error_line(capsys.readouterr().err)
    assert exported.read_text() == "keep me"
    assert main(["export", str(trained), "-o", str(tmp_path / "b.onnx"), "--opset", "7"]) == 2
    assert "opset" in last_error_line(capsys.readouterr().err)
    assert not (tmp_path / "b.onnx").exists()


@pytest.mark.parametrize("mode", ["feature", "channel", "global"])
@pytest.mark.parametrize(
    "kind", ["mlp-batchnorm", "mlp-layernorm", "cnn", "two-layer", "three-layer-conv"]
)
def test_every_model_and_preprocessing_runs_in_onnxruntime(kind, mode, tmp_path):
    """Every option (layer norm, dropout, strides, padding, no pooling, float64) and every
    Standardizer mode: onnxruntime on raw pixels gives numnet's probabilities and labels."""
    from numnet.data import Standardizer

    from .test_roundtrip_and_refusals import MODELS, _perturbed

    model = _perturbed(MODELS[kind]())
    rng = np.random.default_rng(5)
    raw = rng.integers(0, 256, size=(40, 64)).astype(np.float32)
    standardizer = Standardizer(mode, image_shape=(1, 8, 8)).fit(raw)
    metadata = {"preprocessing": standardizer.to_dict()}
    numnet_export = tmp_path / "m.onnx"
    numnet.export_onnx(model, numnet_export, metadata=metadata)
    session = ort.InferenceSession(str(numnet_export), providers=["CPUExecutionProvider"])
    probabilities, labels = session.run(None, {"input": raw})
    scores = model.scores(standardizer.transform(raw))
    np.testing.assert_array_equal(labels, scores.argmax(axis=1))
    np.testing.assert_allclose(probabilities, softmax(scores), rtol=0, atol=1e-5)
