"""Train the equality cases of tests/distributed and write what rank 0 ends with to an .npz file.

Run as ``python train_cases.py OUT.npz`` (one process) or ``mpiexec -n K python train_cases.py
OUT.npz`` (data-parallel over K ranks, ``numnet.distributed.world()``). Every case trains a tiny
float64 model without dropout on a digits subset with a fixed seed; the test compares the
results of 1, 2 and 3 processes.

For each case the file holds ``<case>/params/<name>``, ``<case>/buffers/<name>``,
``<case>/loss_history``, ``<case>/val_acc_history`` and ``<case>/replicas_equal`` (1 when every
rank ended with bitwise the same parameters and buffers).

Options: ``--cases a,b`` (default all); ``--epochs E`` (train up to E epochs); ``--save DIR``
(rank 0 writes ``DIR/last.npz`` every epoch with the Checkpoint callback); ``--resume PATH``
(continue from a checkpoint).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from numnet import distributed
from numnet.callbacks.checkpoint import Checkpoint
from numnet.models import ConvNet, FullyConnectedNet
from numnet.solver import Solver

ASSET = Path(__file__).resolve().parents[3] / "numnet" / "assets" / "digits.npz"

# name: model, normalization, kernels, global batch, update rule, sync batch norm, samples.
# Batch-norm cases use momentum, not Adam: the bias of a layer that feeds a batch norm has a zero
# gradient, i.e. rounding noise, which Adam would scale up to learning-rate-sized steps.
CASES: dict[str, dict[str, Any]] = {
    "mlp": dict(model="mlp", norm=None, kernels="fast", batch=20, rule="adam"),
    "mlp_rule": dict(model="mlp", norm=None, kernels="fast", batch=20, rule="sgd_momentum"),
    "mlp_bn": dict(model="mlp", norm="batchnorm", kernels="fast", batch=20),
    "mlp_bn_reference": dict(model="mlp", norm="batchnorm", kernels="reference", batch=20),
    "mlp_bn_local": dict(model="mlp", norm="batchnorm", kernels="fast", batch=20, sync=False),
    "mlp_bn_odd": dict(model="mlp", norm="batchnorm", kernels="fast", batch=7),
    # batch 2 on 3 ranks: rank 2's share is always empty
    "mlp_empty": dict(model="mlp", norm=None, kernels="fast", batch=2, samples=60),
    # 201 samples in batches of 20: the last batch holds one sample, the other shares are empty
    "mlp_bn_empty": dict(model="mlp", norm="batchnorm", kernels="fast", batch=20, samples=201),
    # 201 samples in batches of 10: the last batch holds one sample
    "mlp_last_one": dict(model="mlp", norm=None, kernels="fast", batch=10, samples=201),
    "cnn": dict(model="cnn", norm=None, kernels="fast", batch=20, rule="adam"),
    "cnn_bn": dict(model="cnn", norm="batchnorm", kernels="fast", batch=20),
    "cnn_bn_reference": dict(
        model="cnn", norm="batchnorm", kernels="reference", batch=20, rule="sgd_momentum"
    ),
    # shares of 3 and 4, or 3, 2 and 2; the last batch holds 2 (an empty share on 3 ranks)
    "cnn_bn_odd": dict(model="cnn", norm="batchnorm", kernels="fast", batch=7, samples=121),
    "cnn_bn_local": dict(model="cnn", norm="batchnorm", kernels="fast", batch=20, sync=False),
    # per-rank dropout and augmentation streams: equal to one process in distribution only
    "mlp_dropout_augment": dict(model="mlp", norm="batchnorm", kernels="fast", batch=20, keep=0.8),
}
EPOCHS = 10


def digits(samples: int) -> dict[str, np.ndarray]:
    """The first ``samples`` digits for training and the next 100 for validation, in [0, 1]."""
    with np.load(ASSET) as data:
        images = data["images"].astype(np.float64)[:, None] / 16.0
        labels = data["labels"].astype(np.int64)
    return {
        "X_train": images[:samples],
        "y_train": labels[:samples],
        "X_val": images[samples : samples + 100],
        "y_val": labels[samples : samples + 100],
    }


def build(case: dict[str, Any]) -> Any:
    if case["model"] == "mlp":
        return FullyConnectedNet(
            [24, 16],
            input_dim=64,
            normalization=case["norm"],
            reg=1e-3,
            weight_scale=0.1,
            dropout_keep_ratio=case.get("keep", 1),
            dtype=np.float64,
            seed=3,
            kernels=case["kernels"],
        )
    return ConvNet(
        input_dim=(1, 8, 8),
        conv_channels=(4,),
        hidden_dims=(16,),
        normalization=case["norm"],
        reg=1e-3,
        dtype=np.float64,
        seed=3,
        kernels=case["kernels"],
    )


def solver_for(
    case: dict[str, Any], comm: Any, epochs: int, resume: str | None, save: str | None
) -> Solver:
    rule = case.get("rule", "momentum" if case["norm"] else "adam")
    lr = 2e-3 if rule == "adam" else 5e-2
    return Solver(
        build(case),
        digits(case.get("samples", 200)),
        update_rule=rule,
        optim_config={"learning_rate": lr},
        batch_size=case["batch"],
        num_epochs=epochs,
        num_train_samples=150,
        seed=11,
        verbose=False,
        comm=comm,
        sync_batchnorm=case.get("sync", True),
        resume_from=resume,
        callbacks=[Checkpoint(save)] if save and distributed.rank(comm) == 0 else [],
        augment=jitter if "keep" in case else None,
    )


def jitter(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random augmentation: a little Gaussian noise on every pixel."""
    return X + rng.normal(0.0, 0.01, size=X.shape)


def fingerprint(solver: Solver) -> str:
    digest = hashlib.sha256()
    for mapping in (solver.model.params, solver.model.buffers):
        for name in sorted(mapping):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(mapping[name]).tobytes())
    return digest.hexdigest()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--save")
    parser.add_argument("--resume")
    args = parser.parse_args(argv)
    comm = distributed.world()
    results: dict[str, np.ndarray] = {}
    for name in args.cases.split(","):
        case = CASES[name]
        solver = solver_for(case, comm, args.epochs, args.resume, args.save)
        solver.train()
        prints = [fingerprint(solver)] if comm is None else comm.allgather(fingerprint(solver))
        for key, value in solver.model.params.items():
            results[f"{name}/params/{key}"] = np.array(value)
        for key, value in solver.model.buffers.items():
            results[f"{name}/buffers/{key}"] = np.array(value)
        results[f"{name}/loss_history"] = np.array(solver.loss_history)
        results[f"{name}/val_acc_history"] = np.array(solver.val_acc_history)
        results[f"{name}/train_acc_history"] = np.array(solver.train_acc_history)
        results[f"{name}/replicas_equal"] = np.array(int(len(set(prints)) == 1))
    if distributed.rank(comm) == 0:
        np.savez(args.out, **results)


if __name__ == "__main__":
    main(sys.argv[1:])
