"""PyTorch side of the workloads: ``torch.nn.Sequential`` + ``torch.optim.SGD``, 2 threads, float32.

Every builder sets up (untimed) and returns ``run()``; ``torch`` is imported lazily and its absence
raises :class:`bench.harness.Unavailable`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.harness import Runner, Unavailable

THREADS = 2


def _torch() -> Any:
    """Import torch with the benchmark's thread count, or raise Unavailable."""
    try:
        import torch
    except ImportError as exc:
        raise Unavailable("torch is not installed (pip install torch==2.13.0)") from exc
    torch.set_num_threads(THREADS)
    return torch


def mlp(torch: Any, dims: tuple[int, ...]) -> Any:
    """``Linear-ReLU-...-Linear`` over ``dims`` (e.g. 784, 500, 200, 10), float32."""
    layers: list[Any] = []
    for d_in, d_out in zip(dims[:-2], dims[1:-1], strict=True):
        layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(dims[-2], dims[-1]))
    return torch.nn.Sequential(*layers)


def cnn(torch: Any) -> Any:
    """conv3x3(1->32)-ReLU-pool2, conv3x3(32->64)-ReLU-pool2, FC 3136->128, ReLU, FC 128->10."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def _train_batches(
    torch: Any,
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    batches: list[np.ndarray],
    lr: float,
    momentum: float,
) -> Runner:
    """Return ``run()`` doing one SGD step per index array in ``batches`` (indexing in the loop)."""
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    index_tensors = [torch.from_numpy(idx) for idx in batches]
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()

    def run() -> None:
        for idx in index_tensors:
            optimizer.zero_grad()
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()

    return run


def mlp_epoch(
    X: np.ndarray, y: np.ndarray, batches: list[np.ndarray], lr: float, seed: int = 0
) -> Runner:
    """MLP 784-500-200-10, plain SGD; ``run()`` is one pass over ``batches``.

    Parameters
    ----------
    X : ndarray, shape (N, 784), float32
    y : ndarray, shape (N,), int64
    batches : list of ndarray of int64
        Row indices of each batch, in order (the same for every framework).
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = mlp(torch, (X.shape[1], 500, 200, 10))
    run = _train_batches(torch, model, X, y, batches, lr, momentum=0.0)
    _train_batches(torch, model, X, y, batches[:2], lr, momentum=0.0)()  # warm the allocator
    return run


def cnn_steps(
    X: np.ndarray,
    y: np.ndarray,
    batches: list[np.ndarray],
    lr: float,
    momentum: float,
    seed: int = 0,
) -> Runner:
    """The CNN trained with SGD + momentum; ``run()`` is one step per entry of ``batches``.

    ``X`` has shape (N, 1, 28, 28), float32.
    """
    torch = _torch()
    torch.manual_seed(seed)
    return _train_batches(torch, cnn(torch), X, y, batches, lr, momentum)


def cnn_inference(X: np.ndarray, batch_size: int, seed: int = 0) -> Runner:
    """The CNN in eval mode under ``torch.inference_mode()``; ``run()`` scores all of ``X``."""
    torch = _torch()
    torch.manual_seed(seed)
    model = cnn(torch).eval()
    X_t = torch.from_numpy(X)

    def run() -> None:
        with torch.inference_mode():
            for start in range(0, len(X_t), batch_size):
                model(X_t[start : start + batch_size])

    return run
