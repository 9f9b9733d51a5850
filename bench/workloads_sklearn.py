"""scikit-learn side: ``MLPClassifier`` (sgd solver, one epoch) on the MLP workload."""

from __future__ import annotations

import warnings

import numpy as np

from bench.harness import Runner, Unavailable


def mlp_epoch(
    X: np.ndarray, y: np.ndarray, order: np.ndarray, batch_size: int, lr: float, seed: int = 0
) -> Runner:
    """``MLPClassifier((500, 200), solver="sgd", max_iter=1)``; ``run()`` fits one epoch.

    The rows are put in the benchmark's batch order up front and ``shuffle=False`` keeps it, so the
    batches are those of the other frameworks. Plain SGD (no momentum), no L2, float32 kept.
    ConvergenceWarning (expected after one epoch) is suppressed.

    Parameters
    ----------
    X : ndarray, shape (N, 784), float32
    y : ndarray, shape (N,), int64
    order : ndarray, shape (N,)
        Permutation of the rows giving the batch order.
    """
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError as exc:
        raise Unavailable("scikit-learn is not installed (pip install -e '.[bench]')") from exc
    X_ordered, y_ordered = X[order], y[order]

    def run() -> None:
        model = MLPClassifier(
            hidden_layer_sizes=(500, 200),
            solver="sgd",
            batch_size=batch_size,
            learning_rate_init=lr,
            momentum=0.0,
            alpha=0.0,
            max_iter=1,
            shuffle=False,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_ordered, y_ordered)

    return run
