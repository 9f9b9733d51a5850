"""im2col against Winograd F(2x2, 3x3) for single 3x3 convolution layers of several widths.

Usage: ``python -m bench.conv_algorithms [--repeats 9] [--quick]``. Times one forward plus backward
(with the input gradient) of each kernel on channel-last float32 batches of 64, interleaved, and
prints the medians and the ratio Winograd / im2col. The width from which
``Conv2d(algorithm='auto')`` picks Winograd (``numnet.kernels.catalog.WINOGRAD_MIN_CHANNELS``)
comes from this table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

if not __package__:  # run as `python bench/conv_algorithms.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from numnet.kernels.conv_im2col import conv_nhwc_backward, conv_nhwc_forward
from numnet.kernels.conv_winograd import winograd_backward, winograd_forward
from numnet.kernels.workspace import Workspace

# (batch, height = width, input channels, filters)
LAYERS = [(64, 28, 8, 16), (64, 28, 16, 32), (64, 28, 32, 32), (64, 14, 32, 64), (64, 14, 64, 128),
          (64, 7, 128, 128)]  # fmt: skip
QUICK_LAYERS = [(4, 6, 8, 4)]


def time_layer(shape: tuple[int, int, int, int], repeats: int, seed: int = 0) -> dict[str, float]:
    """Median seconds of forward + backward for im2col and Winograd on one layer shape."""
    batch, size, channels, filters = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, size, size, channels)).astype(np.float32)
    w = (0.1 * rng.standard_normal((filters, channels, 3, 3))).astype(np.float32)
    b = rng.standard_normal(filters).astype(np.float32)
    dout = rng.standard_normal((batch, size, size, filters)).astype(np.float32)
    spaces = {"im2col": Workspace(), "winograd": Workspace()}

    def im2col() -> None:
        _, cache = conv_nhwc_forward(x, w, b, (1, 1, 1, 1), spaces["im2col"])
        conv_nhwc_backward(dout, cache)

    def winograd() -> None:
        _, cache = winograd_forward(x, w, b, 1, spaces["winograd"])
        winograd_backward(dout, cache)

    runs = {"im2col": im2col, "winograd": winograd}
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # buffers allocated, untimed
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in seconds.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.conv_algorithms", description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="one tiny layer, one repeat")
    args = parser.parse_args(argv)
    layers, repeats = (QUICK_LAYERS, 1) if args.quick else (LAYERS, args.repeats)
    print("layer (N, H=W, C, F)     im2col ms  winograd ms  winograd/im2col")
    for shape in layers:
        medians = time_layer(shape, repeats)
        ratio = medians["winograd"] / medians["im2col"]
        print(
            f"{str(shape):24s} {1e3 * medians['im2col']:9.2f}  {1e3 * medians['winograd']:11.2f}"
            f"  {ratio:15.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
