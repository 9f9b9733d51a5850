"""ONNX both ways: :func:`export_onnx` (numnet model -> .onnx) and :func:`import_onnx` (back).

Needs the ``onnx`` extra (``pip install -e '.[onnx]'``), imported only when these functions run;
numnet's core stays NumPy-only.
"""

from __future__ import annotations

from typing import Any

__all__ = ["export_onnx", "import_onnx"]


def export_onnx(model: Any, path: Any, opset: int | None = None, metadata: Any = None) -> Any:
    """Write ``model`` as ONNX, return the graph: :func:`numnet.onnx_io.export.export_onnx`."""
    from numnet.onnx_io._common import DEFAULT_OPSET
    from numnet.onnx_io.export import export_onnx as _export

    return _export(model, path, DEFAULT_OPSET if opset is None else opset, metadata)


def import_onnx(path: Any, **options: Any) -> Any:
    """Read a classifier from an ONNX file; see :func:`numnet.onnx_io.importer.import_onnx`."""
    from numnet.onnx_io.importer import import_onnx as _import

    return _import(path, **options)
