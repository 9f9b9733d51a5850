# %% [markdown]
# # Layers by hand, and the gradient check that catches their bugs
#
# A two-layer network is three layers: an affine map, a ReLU and a softmax loss. Each has a forward
# pass and a backward pass; this example writes all three out in plain NumPy, puts them together
# into a loss function `loss(W1, b1, W2, b2) -> (loss, grads)`, and checks every gradient against
# central differences with `numnet.gradcheck`.
#
# Then it reproduces the two bugs of the homework this library grew out of, and shows that the
# gradient check catches each one (a buggy net may well still train, which is why they survive):
#
# 1. the L2 regularisation added to the gradient with the wrong sign (`dW -= reg * W`) and
#    without its term `0.5 * reg * sum(W**2)` in the loss;
# 2. the loss summed over the batch instead of averaged, while the gradient is averaged.
#
# Run it as `python examples/layers_and_gradient_check.py [FIGURE_DIR]`.

# %%
import numpy as np
from _common import plt, save, small_mode

from numnet.gradcheck import eval_numerical_gradient, rel_error
from numnet.layers import affine_forward, relu_forward, softmax_loss

rng = np.random.default_rng(0)
N, D, H, C = (5, 12, 10, 4) if small_mode() else (8, 20, 16, 5)
X = rng.standard_normal((N, D))
y = rng.integers(0, C, size=N)
params = {
    "W1": 0.3 * rng.standard_normal((D, H)),
    "b1": 0.1 * rng.standard_normal(H),
    "W2": 0.3 * rng.standard_normal((H, C)),
    "b2": 0.1 * rng.standard_normal(C),
}
REG = 0.5

# %% [markdown]
# ## The three layers
#
# **Affine**: `out = x @ W + b`. With upstream gradient `dout` (N, M):
# `dx = dout @ W.T`, `dW = x.T @ dout`, `db = dout.sum(axis=0)`.
#
# **ReLU**: `out = max(0, x)`; the gradient passes where the input was positive:
# `dx = dout * (x > 0)`.
#
# **Softmax loss**: `p = exp(s - max s) / sum exp(...)`, `L = -mean(log p[i, y_i])`;
# `ds = (p - onehot(y)) / N`. The `/ N` is there because the loss is a mean.


# %%
def affine_fwd(x, w, b):
    return x @ w + b, (x, w)


def affine_bwd(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_fwd(x):
    return np.maximum(0, x), x


def relu_bwd(dout, x):
    return dout * (x > 0)


def softmax_loss_by_hand(scores, y, average=True):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = scores.shape[0]
    loss = -log_p[np.arange(n), y].sum()
    if average:
        loss /= n
    dscores = np.exp(log_p)
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n  # the gradient is always the one of the mean


# %% [markdown]
# First a check that the hand-written layers agree with numnet's reference functions
# (`numnet.functional`), which hold the same formulas with input checks around them.

# %%
h_mine, _ = affine_fwd(X, params["W1"], params["b1"])
h_ref, _ = affine_forward(X, params["W1"], params["b1"])
r_mine, _ = relu_fwd(h_mine)
r_ref, _ = relu_forward(h_ref)
s, _ = affine_fwd(r_mine, params["W2"], params["b2"])
loss_mine, ds_mine = softmax_loss_by_hand(s, y)
loss_ref, ds_ref = softmax_loss(s, y)
print(
    f"affine {rel_error(h_mine, h_ref):.1e}, relu {rel_error(r_mine, r_ref):.1e}, "
    f"softmax loss {abs(loss_mine - loss_ref):.1e}, dscores {rel_error(ds_mine, ds_ref):.1e}"
)
assert rel_error(h_mine, h_ref) < 1e-12 and rel_error(r_mine, r_ref) < 1e-12
assert abs(loss_mine - loss_ref) < 1e-12 and rel_error(ds_mine, ds_ref) < 1e-10

# %% [markdown]
# A sanity check from the homework: with small random weights every class gets probability
# about 1/C, so the initial loss is about log C.

# %%
tiny = {k: 1e-3 * v for k, v in params.items()}
tiny_scores = affine_fwd(
    relu_fwd(affine_fwd(X, tiny["W1"], tiny["b1"])[0])[0], tiny["W2"], tiny["b2"]
)[0]
initial_loss = softmax_loss_by_hand(tiny_scores, y)[0]
print(f"initial loss {initial_loss:.4f}, log C = {np.log(C):.4f}")
assert abs(initial_loss - np.log(C)) < 1e-2


# %% [markdown]
# ## The network's loss and gradients, with a switch for each bug


# %%
def two_layer_loss(p, bug=None):
    """Loss and gradients of affine - relu - affine - softmax with L2 on W1 and W2.

    bug=None: correct. bug="l2": the homework's L2 bug. bug="sum": loss summed, gradient averaged.
    """
    h, cache1 = affine_fwd(X, p["W1"], p["b1"])
    r, relu_cache = relu_fwd(h)
    scores, cache2 = affine_fwd(r, p["W2"], p["b2"])
    loss, dscores = softmax_loss_by_hand(scores, y, average=(bug != "sum"))
    dr, dW2, db2 = affine_bwd(dscores, cache2)
    dX, dW1, db1 = affine_bwd(relu_bwd(dr, relu_cache), cache1)
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    for name in ("W1", "W2"):
        if bug == "l2":
            grads[name] -= REG * p[name]  # wrong sign, and no term in the loss
        else:
            loss += 0.5 * REG * np.sum(p[name] ** 2)
            grads[name] += REG * p[name]
    return loss, grads


def gradient_check(bug=None):
    """Relative error of each analytic gradient against central differences."""
    _, grads = two_layer_loss(params, bug)
    errors = {}
    for name in params:
        numeric = eval_numerical_gradient(lambda _: two_layer_loss(params, bug)[0], params[name])
        errors[name] = rel_error(numeric, grads[name])
    return errors


# %% [markdown]
# ## The correct version passes
#
# Relative errors around 1e-8 or below mean the backward pass is right; above about 1e-3 it is
# wrong (ReLU's kink can give an odd 1e-6 when an input sits within `h` of zero).

# %%
results = {bug: gradient_check(bug) for bug in (None, "l2", "sum")}
for bug, errors in results.items():
    print(f"{str(bug):>5}: " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()))
assert max(results[None].values()) < 1e-6

# %% [markdown]
# ## Both bugs are caught
#
# * The L2 bug changes only `W1` and `W2`: their errors jump, the biases still pass. That is the
#   signature of a regularisation bug.
# * The summed data loss is N times the averaged one, so the numerical gradient of the data term
#   is N times the analytic one: on the biases, which carry no L2 term, the relative error is
#   exactly `(N - 1) / (N + 1)`; on the weights the L2 term (right in both) blurs the ratio, but the
#   error is still far above the threshold.

# %%
for name in ("W1", "W2"):
    assert results["l2"][name] > 1e-2, results["l2"]
for name in ("b1", "b2"):
    assert results["l2"][name] < 1e-6, results["l2"]
expected = (N - 1) / (N + 1)
for name, err in results["sum"].items():
    assert err > 1e-2, (name, err)
for name in ("b1", "b2"):
    assert abs(results["sum"][name] - expected) < 1e-4, (name, results["sum"][name], expected)
print(f"summed loss: the biases' relative error is (N-1)/(N+1) = {expected:.4f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
names = list(params)
width = 0.27
for i, (bug, label) in enumerate([(None, "correct"), ("l2", "L2 bug"), ("sum", "summed loss")]):
    ax.bar(
        np.arange(len(names)) + (i - 1) * width,
        [results[bug][n] for n in names],
        width,
        label=label,
    )
ax.set_yscale("log")
ax.axhline(1e-6, color="k", lw=0.8, ls="--")
ax.set_xticks(np.arange(len(names)), names)
ax.set_ylabel("relative error")
ax.set_title("gradient check: analytic vs numerical")
ax.legend(fontsize=8)
save(fig, "gradient_check_bugs")
