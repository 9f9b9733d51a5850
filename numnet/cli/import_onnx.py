"""``numnet import``: a classifier from an ONNX file as a numnet model file (.npz)."""

from __future__ import annotations

import argparse
from pathlib import Path

from numnet.cli.export import _check_output


def run_import(args: argparse.Namespace) -> int:
    """Run ``numnet import``; returns 0. Nothing is written unless every node was understood."""
    from numnet.onnx_io._common import require_onnx

    require_onnx()
    from numnet.onnx_io.importer import import_onnx
    from numnet.serialization import save_model

    source = Path(args.model)
    output = Path(args.output) if args.output else source.with_suffix(".npz")
    _check_output(output, args.force)
    model = import_onnx(source, dtype=args.dtype)
    save_model(output, model, model.metadata)
    layers = ", ".join(spec["type"] for spec in model.layer_specs)
    print(
        f"wrote {output}: SequentialNet with input {model.input_dim} and {model.num_classes} "
        f"classes ({layers})"
    )
    return 0
