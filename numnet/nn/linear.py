"""``Linear``: a fully connected layer holding ``W`` (D, M) and ``b`` (M,)."""

from __future__ import annotations

import numpy as np

from numnet.functional._backend import get_array_module
from numnet.functional.affine import affine_backward, affine_forward
from numnet.init import init_weight
from numnet.nn.module import Module


def _plain_2d(x: object, w: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``x @ w + b`` needs no checks: NumPy float (N, D) rows, (D, M) weights, (M,) bias.

    All three must share one floating dtype; anything else takes the checked path.
    """
    return (
        type(x) is np.ndarray
        and type(w) is np.ndarray
        and type(b) is np.ndarray
        and x.ndim == 2
        and w.ndim == 2
        and x.shape[1] == w.shape[0]
        and b.shape == (w.shape[1],)
        and x.dtype == w.dtype == b.dtype
        and w.dtype.kind == "f"
    )


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
        if self.workspace is not None and _plain_2d(x, w, b):
            # Speed mode, the common case (float rows, matching weights): the checks that
            # affine_forward makes hold by the condition above, so call the product directly.
            out = self.workspace.get("out", (x.shape[0], w.shape[1]), x.dtype)
            np.matmul(x, w, out=out)
            out += b
            self._cache = (x, w, x.shape) if train else None
            return out
        out = None
        if self.workspace is not None and getattr(x, "ndim", 0) >= 1:
            dtype = np.result_type(x, w)
            out = self.workspace.get("out", (x.shape[0], w.shape[1]), dtype, get_array_module(x))
        out, cache = affine_forward(x, w, b, out=out)
        self._cache = cache if train else None
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads['W']`` (D, M) and ``grads['b']`` (M,); return dx in x's shape (or None).

        With ``input_grad=False`` only ``X^T dout`` and the column sums are computed (the
        ``dout @ W^T`` product, as large as the forward's, is skipped).
        """
        cache = self._take_cache()
        buffers: tuple = (None, None, None)
        if self.workspace is not None:
            x2d, w, _ = cache
            dtype = np.result_type(dout, w)
            dx_out = None
            if input_grad:
                dx_out = self.workspace.get("dx", x2d.shape, dtype, get_array_module(dout))
            buffers = (
                dx_out,
                self._take_grad_out("W", w.shape, dtype),
                self._take_grad_out("b", (w.shape[1],), dtype),
            )
        self.grad_out = None
        dx, dw, db = affine_backward(dout, cache, need_dx=input_grad, out=buffers)
        self.grads["W"] = dw
        self.grads["b"] = db
        return dx

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}"
