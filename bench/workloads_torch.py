"""PyTorch side of the workloads: ``torch.nn.Sequential`` + ``torch.optim.SGD``, 2 threads, float32.

Every builder sets up (untimed) and returns ``run()``; ``torch`` is imported lazily and its absence
raises :class:`bench.harness.Unavailable`. The CNN builders take ``channels_last``: the model and
every input batch in ``torch.channels_last`` memory format, the layout a careful PyTorch user picks
for convolutions on a CPU (the benchmark times both and compares numnet with the faster).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from bench.harness import HELD_MODELS, Runner, ShortTraining, Unavailable

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
    channels_last: bool = False,
) -> Runner:
    """Return ``run()`` doing one SGD step per index array in ``batches`` (indexing in the loop).

    With ``channels_last`` the model must already be in that format; each batch is converted in the
    loop, as a user's training loop would.
    """
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    index_tensors = [torch.from_numpy(idx) for idx in batches]
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    layout = torch.channels_last if channels_last else torch.contiguous_format

    def run() -> None:
        for idx in index_tensors:
            optimizer.zero_grad()
            loss = loss_fn(model(X_t[idx].contiguous(memory_format=layout)), y_t[idx])
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


def _cnn(torch: Any, channels_last: bool) -> Any:
    """A new CNN, in ``channels_last`` memory format when asked."""
    model = cnn(torch)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def cnn_steps(
    X: np.ndarray,
    y: np.ndarray,
    batches: list[np.ndarray],
    lr: float,
    momentum: float,
    seed: int = 0,
    channels_last: bool = False,
) -> Runner:
    """The CNN trained with SGD + momentum; ``run()`` is one step per entry of ``batches``.

    ``X`` has shape (N, 1, 28, 28), float32.
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = _cnn(torch, channels_last)
    return _train_batches(torch, model, X, y, batches, lr, momentum, channels_last)


def held_cnn(
    torch: Any,
    held: str,
    training: ShortTraining | None,
    seed: int = 0,
    channels_last: bool = False,
) -> Any:
    """The CNN as a user holds it: new, after a short training run, or trained then reloaded.

    ``"loaded"`` round-trips the trained model's ``state_dict`` through ``torch.save`` /
    ``torch.load`` (in memory) into a new model, PyTorch's counterpart of ``numnet.save`` /
    ``numnet.load``.
    """
    if held not in HELD_MODELS:
        raise ValueError(f"held must be one of {HELD_MODELS}, got {held!r}")
    torch.manual_seed(seed)
    model = _cnn(torch, channels_last)
    if held == "fresh":
        return model
    if training is None:
        raise ValueError(f"held={held!r} needs a ShortTraining")
    _train_batches(
        torch,
        model,
        training.images,
        training.labels,
        training.batches,
        training.lr,
        training.momentum,
        channels_last,
    )()
    if held == "trained":
        return model
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    loaded = _cnn(torch, channels_last)
    loaded.load_state_dict(torch.load(buffer, weights_only=True))
    return loaded


def cnn_inference(
    X: np.ndarray,
    batch_size: int,
    seed: int = 0,
    channels_last: bool = False,
    held: str = "fresh",
    training: ShortTraining | None = None,
) -> Runner:
    """The CNN in eval mode under ``torch.inference_mode()``; ``run()`` scores all of ``X``.

    ``held`` and ``training`` choose the model (see :func:`held_cnn`).
    """
    torch = _torch()
    model = held_cnn(torch, held, training, seed, channels_last).eval()
    X_t = torch.from_numpy(X)
    layout = torch.channels_last if channels_last else torch.contiguous_format

    def run() -> None:
        with torch.inference_mode():
            for start in range(0, len(X_t), batch_size):
                model(X_t[start : start + batch_size].contiguous(memory_format=layout))

    return run
