"""``Linear``: a fully connected layer holding ``W`` (D, M) and ``b`` (M,)."""

from __future__ import annotations

import numpy as np

from numnet.functional.affine import affine_backward, affine_forward
from numnet.init import init_weight
from numnet.kernels import dense_layer
from numnet.nn.module import Module


class Linear(Module):
    """Affine layer ``out = x.reshape(N, D) @ W + b`` (CS231n layout: ``W`` is (D, M)).

    Parameters
    ----------
    in_features : int
        ``D``, the flattened size of one input sample.
    out_features : int
        ``M``, the number of outputs.
    rng : numpy.random.Generator, optional
        Generator for the initial weights (a fresh unseeded one if omitted).
    init : {'he', 'xavier', 'xavier_uniform', None}
        Weight initialisation; None means Gaussian with standard deviation ``weight_scale``.
    weight_scale : float, optional
        Standard deviation for ``init=None``.
    dtype : dtype
        dtype of the parameters (float32 by default).

    Notes
    -----
    ``params``: ``W`` (D, M) and ``b`` (M,), biases start at zero. Input (N, d_1, ..., d_k) with
    ``d_1 * ... * d_k = D``; output (N, M).
    """

    starts_block = True
    decayed = ("W",)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator | None = None,
        init: str | None = "he",
        weight_scale: float | None = None,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.in_features = in_features
        self.out_features = out_features
        shape = (in_features, out_features)
        self.params["W"] = init_weight(
            rng, shape, in_features, out_features, init, weight_scale, dtype
        )
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Return ``x.reshape(N, D) @ W + b`` of shape (N, M)."""
        w, b = self.params["W"], self.params["b"]
        if self.plan.is_reference:
            out, cache = affine_forward(x, w, b)
        else:
            out, cache = dense_layer.linear_forward(self.plan, x, w, b)
        self._remember(cache, train)
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads['W']`` (D, M) and ``grads['b']`` (M,); return dx in x's shape (or None).

        With ``input_grad=False`` a kernel skips the ``dout @ W^T`` product (as large as the
        forward's): nobody needs the gradient of a network's input.
        """
        plan, cache = self._recall()
        if plan.is_reference:
            dx, dw, db = affine_backward(dout, cache)
        else:
            dx, dw, db = dense_layer.linear_backward(plan, dout, cache, input_grad, self.grad_out)
        self.grad_out = None
        self.grads["W"] = dw
        self.grads["b"] = db
        return dx if input_grad else None

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}"
