"""``numnet export``: a saved model (or a run directory's model) as one ONNX file."""

from __future__ import annotations

import argparse
from pathlib import Path

from numnet.cli.inputs import model_file
from numnet.errors import ConfigError, ModelFileError


def _check_output(output: Path, force: bool) -> None:
    if output.is_dir():
        raise ConfigError(f"--output {output} is a directory; give a file name such as model.onnx")
    if output.exists() and not force:
        raise ConfigError(f"--output {output} already exists; pass --force to overwrite it")
    if not output.parent.is_dir():
        raise ModelFileError(
            f"cannot write --output {output}: directory {output.parent} does not exist"
        )


def run_export(args: argparse.Namespace) -> int:
    """Run ``numnet export``; returns 0. Nothing is written unless the graph passed its checks."""
    from numnet.onnx_io._common import require_onnx

    require_onnx()
    from numnet.onnx_io.export import export_onnx
    from numnet.serialization import load_model

    source = model_file(args.model)
    output = Path(args.output) if args.output else source.with_suffix(".onnx")
    _check_output(output, args.force)
    model, metadata = load_model(source)
    proto = export_onnx(model, output, opset=args.opset, metadata=metadata)
    size = proto.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    print(
        f"wrote {output} (opset {args.opset}, IR version {proto.ir_version}): input (N, {size}) "
        f"raw values as numnet predict reads them; outputs probabilities (N, {model.num_classes}) "
        "and label (N,)"
    )
    return 0
