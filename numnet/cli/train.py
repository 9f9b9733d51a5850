"""``numnet train``: resolve settings, prepare the run directory, train, save and summarise.

Files written into the run directory: ``config.json`` (resolved settings, before training),
``last.npz`` (every epoch, and before the first), ``best.npz`` (best validation accuracy so far),
``metrics.csv`` (one row per epoch), ``model.npz`` (the best-validation model with its
preprocessing, class names and settings), ``confusion_matrix.csv`` and, with matplotlib,
``loss.png``, ``accuracy.png``, ``confusion_matrix.png`` and ``misclassified.png`` (the pictures
are titled with the run, model and data, and name the split they show: the test split, else the
validation split, else the training data).

Recovery after a crash (kill -9, power loss): ``numnet train --resume DIR`` continues from the last
completed epoch, finishes a run killed after training but before its final files, restarts a run
killed before its first checkpoint (re-running the original command works there too), and does
nothing (exit 0) for a run that had already finished.

The run directory gets numnet's marker ``.numnet-run`` first (:mod:`numnet.cli.rundir`); the
checkpoints, ``config.json`` and ``model.npz`` store the identity of the training data (absolute
paths, sizes, SHA-256 of the files, :mod:`numnet.cli.data_identity`): ``--resume`` refuses data
that differ and ``evaluate`` recognises them. ``--data``/``--data-dir`` paths are stored absolute.
Warnings (:mod:`numnet.cli.advice`): ``--dropout`` below 0.5, a first epoch that diverged.
A run written before identities were stored resumes unchecked, with a note on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from numnet.cli import EXIT_INTERRUPTED, parallel
from numnet.cli.advice import FirstEpochDivergence, dropout_warning, warn
from numnet.cli.build import (
    TrainingData,
    blank_image,
    build_optimizer,
    model_for_data,
    prepare_data,
)
from numnet.cli.callbacks import EpochLog, RunCheckpoint
from numnet.cli.config import NOT_STORED
from numnet.cli.data_identity import compare_identity, data_identity
from numnet.cli.info import describe
from numnet.cli.report import have_matplotlib, history_labels, picture_title, write_results
from numnet.cli.resolve import (
    LAST_CHECKPOINT,
    fresh_config,
    is_finished_run,
    resumed_config,
    stored_data_identity,
)
from numnet.cli.rundir import (
    next_run_dir,
    prepare_run_dir,
    remove_if_empty,
    remove_lone_marker,
    write_run_marker,
    write_text_atomic,
)
from numnet.words import count

TRAIN_ACC_SAMPLES = 1000  # training samples scored after each epoch for the train accuracy


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, flush=True)


def run_train(args: argparse.Namespace, extra_callbacks: Sequence[Any] = ()) -> int:
    """Run ``numnet train``; returns the exit code (0, or 130 when interrupted).

    ``extra_callbacks`` join the run's own (``numnet sweep`` reports each epoch to Optuna and may
    set ``solver.stop_training`` to prune; the run then writes its files as usual).
    """
    if not parallel.is_root():  # another MPI rank: rank 0 decides the run (numnet.cli.parallel)
        return _train(*parallel.receive_setup())
    if args.resume:
        config, run_dir, epochs_done = resumed_config(args)
        if epochs_done >= config["epochs"] and is_finished_run(run_dir):
            print(
                f"{run_dir} has already finished its {count(epochs_done, 'epoch')} and written "
                "its files; "
                f"nothing to do (pass --epochs above {epochs_done} to train further)",
                flush=True,
            )
            return 0
        identity = data_identity(config["data"], config["data_dir"])
        if epochs_done:
            _check_data(run_dir, identity)
        prepare_run_dir(run_dir, allow_existing=True)
        write_run_marker(run_dir)  # a run directory written before the marker gets one
        created = False
    else:
        config = fresh_config(args)
        identity = data_identity(config["data"], config["data_dir"])
        advice = dropout_warning(config["dropout"])
        if advice is not None:
            warn(advice)
        run_dir = Path(config["out_dir"]) if config["out_dir"] else next_run_dir()
        created = prepare_run_dir(run_dir)
        config["out_dir"] = str(run_dir)
        epochs_done = 0
    try:
        return _train(config, run_dir, epochs_done, identity, extra_callbacks)
    except BaseException:
        if created:
            remove_if_empty(run_dir)
        elif not args.resume:  # an empty --out-dir the user made is left empty again
            remove_lone_marker(run_dir)
        raise


def _check_data(run_dir: Path, identity: dict[str, Any]) -> None:
    """Refuse to resume on data other than the run's; a run without a stored identity is noted."""
    stored = stored_data_identity(run_dir)
    if stored is None:
        print(
            f"note: {run_dir} was written before numnet stored the identity of its data, so "
            "--resume cannot check that the data are the same",
            file=sys.stderr,
            flush=True,
        )
        return
    compare_identity(stored, identity, run_dir)


def _callbacks(
    config: dict[str, Any], run_dir: Path, metadata: dict[str, Any], plots: bool
) -> list[Any]:
    from numnet.callbacks import EarlyStopping, MetricsCSV, Plots, ProgressBar

    quiet = config["quiet"]
    callbacks: list[Any] = [
        MetricsCSV(run_dir / "metrics.csv"),
        RunCheckpoint(run_dir, metadata=metadata),
    ]
    if config["early_stopping"] > 0:
        callbacks.append(EarlyStopping(config["early_stopping"]))
    if plots:
        callbacks.append(
            Plots(run_dir, **history_labels(config, run_dir, metadata, TRAIN_ACC_SAMPLES))
        )
    callbacks.append(FirstEpochDivergence(config["lr"]))
    callbacks.append(ProgressBar(quiet=quiet))
    if not quiet and not sys.stdout.isatty():
        callbacks.append(EpochLog())
    return callbacks


def _solver_data(data: TrainingData) -> dict[str, np.ndarray]:
    return {
        "X_train": data.X_train,
        "y_train": data.y_train,
        "X_val": data.X_val,
        "y_val": data.y_val,
    }


def _train(
    config: dict[str, Any],
    run_dir: Path,
    epochs_done: int,
    identity: dict[str, Any],
    extra_callbacks: Sequence[Any] = (),
) -> int:
    from numnet.data import Augmenter
    from numnet.serialization import save_model
    from numnet.solver import Solver

    quiet = config["quiet"]
    plots = config["plots"] and have_matplotlib()  # --no-plots: CSV files only
    started = time.perf_counter()
    parallel.send_setup(config, run_dir.resolve(), epochs_done, identity)  # MPI: to other ranks
    data = parallel.agree(prepare_data, config)  # MPI: a rank that cannot read it stops all
    model = model_for_data(config, data)
    steps_per_epoch = math.ceil(len(data.y_train) / config["batch_size"])
    optimizer = build_optimizer(config, steps_per_epoch)
    settings = {**config, "data_identity": identity}
    text = json.dumps(settings, indent=2, sort_keys=True) + "\n"
    if parallel.is_root():
        write_text_atomic(run_dir / "config.json", text)
    stored = {key: value for key, value in config.items() if key not in NOT_STORED}
    rows = {"train": len(data.y_train), "validation": 0 if data.val_is_train else len(data.y_val)}
    metadata = {
        **data.metadata,
        "train_config": stored,
        "data_identity": identity,
        "data_rows": rows,  # rows of the training data used to train and to validate
    }
    augment = None
    if config["augment"]:
        shift = max(1, data.image_shape[-1] // 14)
        augment = Augmenter(
            shift=shift,
            hflip=data.metadata["dataset"] == "fashion-mnist",
            image_shape=data.image_shape,
            fill=blank_image(data),
        )
    resume_from = run_dir / LAST_CHECKPOINT if epochs_done else None
    solver = Solver(
        model,
        _solver_data(data),
        optimizer=optimizer,
        batch_size=config["batch_size"],
        num_epochs=config["epochs"],
        num_train_samples=TRAIN_ACC_SAMPLES,
        verbose=False,
        seed=config["seed"],
        callbacks=[*_callbacks(config, run_dir, metadata, plots), *extra_callbacks]
        if parallel.is_root()
        else [],  # MPI: only rank 0 prints and writes files
        augment=augment,
        resume_from=resume_from,
        comm=parallel.solver_comm(),
        sync_batchnorm=config["sync_batchnorm"],
    )
    if solver.epoch >= config["epochs"]:
        action = (
            f"finishing {run_dir} (all {count(solver.epoch, 'epoch')} trained; "
            "writing its final files)"
        )
    elif epochs_done:
        action = f"resuming {run_dir} at epoch {solver.epoch}"
    else:
        action = f"run {run_dir}"
    _say(
        f"{action}: {config['model']} on {data.metadata['dataset']} "
        f"({len(data.y_train)} train / {0 if data.val_is_train else len(data.y_val)} val), "
        f"{count(config['epochs'], 'epoch')}, {config['optimizer']} lr {config['lr']:g}",
        quiet,
    )
    _say(describe(model, metadata), quiet)
    if data.val_is_train:
        _say(
            "note: --val-fraction 0, so validation accuracy is measured on the training data", quiet
        )
    if config["plots"] and not plots:
        _say(
            "note: matplotlib is not installed; skipping the .png plots "
            "(pip install -e '.[plot]' in the checkout)",
            quiet,
        )
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            solver.train()  # a NaN/Inf loss raises TrainingDiverged with advice instead
    except KeyboardInterrupt:
        return _interrupted(solver, run_dir)
    if not parallel.is_root():  # MPI: rank 0 writes the final files
        return 0
    try:
        final_meta = {  # the training data's identity stays: evaluate recognises that data by it
            **metadata,
            "best_val_acc": solver.best_val_acc,
            "epochs_trained": solver.epoch,
        }
        save_model(run_dir / "model.npz", model, final_meta)
        test_acc = None
        if data.X_test is not None and data.y_test is not None:
            shown_X, truth, split = data.X_test, data.y_test, "test"
        else:
            shown_X, truth, split = data.X_val, data.y_val, "validation"
        scores = model.scores(shown_X)
        if split == "test":
            test_acc = float(np.mean(scores.argmax(axis=1) == truth))
        written = write_results(
            run_dir,
            shown_X,
            truth,
            scores,
            data.class_names,
            metadata,
            standardized=True,
            title=picture_title(run_dir, config, data.metadata["dataset"]),
            split="training" if data.val_is_train and split == "validation" else split,
            pictures=plots,
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted while writing the final files; training is complete and saved in "
            f"{run_dir / LAST_CHECKPOINT}; write them with: numnet train --resume {run_dir}",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_INTERRUPTED
    elapsed = time.perf_counter() - started
    best = f"best validation accuracy {solver.best_val_acc:.4f}"
    if data.val_is_train:
        best = f"best training accuracy {solver.best_val_acc:.4f} (no validation split)"
    lines = [f"done in {elapsed:.1f}s ({count(solver.epoch, 'epoch')}): {best}"]
    if test_acc is not None:
        lines.append(f"test accuracy {test_acc:.4f} on {count(len(truth), f'{split} image')}")
    if split == "validation" and data.val_is_train:
        shown = f"the training data ({count(len(truth), 'image')}; no validation or test split)"
    elif split == "validation":
        shown = f"the validation split ({count(len(truth), 'image')}; no labelled test split)"
    else:
        shown = f"the test split ({count(len(truth), 'image')})"
    lines.append(f"confusion matrix of {shown}: {', '.join(written)}")
    files = ["model.npz", "last.npz", "best.npz", "config.json", "metrics.csv", *written]
    if plots:
        files += ["loss.png", "accuracy.png"]
    lines.append(f"files in {run_dir}: {', '.join(files)}")
    print("\n".join(lines), flush=True)
    return 0


def _interrupted(solver: Any, run_dir: Path) -> int:
    """Ctrl-C: close the open files, say which epoch ``last.npz`` holds and how to resume."""
    from numnet.callbacks import MetricsCSV, ProgressBar
    from numnet.errors import ModelFileError
    from numnet.serialization import read_header

    for callback in solver.callbacks:
        if isinstance(callback, MetricsCSV | ProgressBar):
            callback.on_train_end(solver)
    last = run_dir / LAST_CHECKPOINT
    try:
        saved = read_header(last).get("epoch", 0)
        where = f"{last} holds epoch {saved} (the last completed)"
    except ModelFileError:  # interrupted before the first checkpoint was written
        where = f"no epoch was completed; {run_dir} keeps the run's settings"
    print(
        f"\ninterrupted: {where}; continue with: numnet train --resume {run_dir}",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_INTERRUPTED
