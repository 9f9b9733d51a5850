"""``numnet predict``: Kaggle submission ``ImageId,Label`` (or class probabilities) for images."""

from __future__ import annotations

import argparse
from pathlib import Path

from numnet.cli.inputs import read_images
from numnet.errors import ConfigError, NumnetError


def run_predict(args: argparse.Namespace) -> int:
    """Run ``numnet predict``; returns 0. Nothing is written unless every step succeeded."""
    from numnet.data import write_probabilities, write_submission
    from numnet.predictor import Predictor

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
    predictor = Predictor.from_file(args.model)
    predictor.model.set_kernels(args.kernels)
    X, labels = read_images(args.input)
    inputs = predictor.inputs(X, source=str(args.input))
    if getattr(args, "proba", False):
        proba = predictor.predict_proba(inputs, batch_size=args.batch_size, preprocess=False)
        write_probabilities(output, proba, predictor.class_names)
        what = f"rows of class probabilities ({len(predictor.class_names)} classes)"
        count = len(proba)
    else:
        predictions = predictor.predict(inputs, batch_size=args.batch_size, preprocess=False)
        write_submission(output, predictions)
        what, count = "predictions", len(predictions)
    ignored = " (its label column was ignored)" if labels is not None else ""
    print(f"wrote {count} {what} for {args.input}{ignored} to {output}")
    return 0
