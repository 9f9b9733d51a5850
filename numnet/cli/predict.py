"""``numnet predict``: Kaggle submission ``ImageId,Label`` for the images of a CSV or IDX file."""

from __future__ import annotations

import argparse
from pathlib import Path

from numnet.cli.inputs import InputPipeline, read_images
from numnet.errors import ConfigError, NumnetError


def run_predict(args: argparse.Namespace) -> int:
    """Run ``numnet predict``; returns 0. Nothing is written unless every step succeeded."""
    from numnet.data import write_submission
    from numnet.serialization import load_model

    output = Path(args.output)
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {args.batch_size}")
    if output.is_dir():
        raise ConfigError(
            f"--output {output} is a directory; give a file name such as submission.csv"
        )
    if output.exists() and not args.force:
        raise ConfigError(f"--output {output} already exists; pass --force to overwrite it")
    if not output.parent.is_dir():
        # An I/O problem (exit 1), not a usage error; a typo must not silently create directories.
        raise NumnetError(
            f"cannot write --output {output}: directory {output.parent} does not exist; "
            "create it first or choose another --output"
        )
    model, metadata = load_model(args.model)
    model.set_kernels(args.kernels)
    pipeline = InputPipeline(model.get_config(), metadata)
    X, labels = read_images(args.input)
    inputs = pipeline(X, str(args.input))
    predictions = model.predict(inputs, batch_size=args.batch_size)
    write_submission(output, predictions)
    ignored = " (its label column was ignored)" if labels is not None else ""
    print(f"wrote {len(predictions)} predictions for {args.input}{ignored} to {output}")
    return 0
