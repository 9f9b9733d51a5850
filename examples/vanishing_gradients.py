# %% [markdown]
# # Vanishing gradients: why tanh and sigmoid saturate
#
# Backpropagation multiplies the upstream gradient by the derivative of every activation it passes
# through. The derivatives are
#
# * sigmoid: $\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$, at most **1/4** (at x = 0);
# * tanh: $\tanh'(x) = 1 - \tanh^2(x)$, at most 1, and close to 0 once |x| > 2;
# * ReLU: 1 for x > 0, 0 for x < 0.
#
# A sigmoid network therefore shrinks the gradient by at least 4 per layer, and a saturated tanh
# unit passes almost nothing. This example plots the three derivatives, checks numnet's tanh and
# sigmoid backward passes (and two wrong derivatives of tanh a student often writes) against
# central differences, and measures the gradient norm of each layer of a deep network at
# initialisation for each activation.
#
# Run it as `python examples/vanishing_gradients.py [FIGURE_DIR]`.

# %%
import numpy as np
from _common import plt, save, small_mode

from numnet.gradcheck import eval_numerical_gradient_array, rel_error
from numnet.layers import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_loss,
    tanh_backward,
    tanh_forward,
)

ACTIVATIONS = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
}

# %% [markdown]
# ## The derivatives
#
# The backward pass with `dout = 1` is the derivative itself.

# %%
z = np.linspace(-6, 6, 601)
derivatives = {}
for name, (forward, backward) in ACTIVATIONS.items():
    out, cache = forward(z)
    derivatives[name] = backward(np.ones_like(z), cache)
assert abs(derivatives["sigmoid"].max() - 0.25) < 1e-6
assert abs(derivatives["tanh"].max() - 1.0) < 1e-6
assert derivatives["tanh"][np.abs(z) > 3].max() < 0.01  # saturated
print({name: float(d.max()) for name, d in derivatives.items()})

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for name, (forward, _) in ACTIVATIONS.items():
    axes[0].plot(z, forward(z)[0], label=name)
    axes[1].plot(z, derivatives[name], label=name)
axes[0].set_ylim(-1.2, 2)
axes[0].set_title("activation")
axes[1].set_title("derivative")
for ax in axes:
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=8)
save(fig, "activation_derivatives")

# %% [markdown]
# ## The derivative of tanh, checked
#
# The correct derivative is $1 - \tanh^2(x)$, written in terms of the *output* `out = tanh(x)`,
# which is what the cache holds: `dx = dout * (1 - out**2)`. Two wrong versions that look
# plausible: `1 - tanh(x)` (forgetting the square) and `1 - x**2` (squaring the input instead of
# the output). The gradient check accepts the first and rejects the other two.

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((4, 5)) * 1.5
dout = rng.standard_normal(x.shape)
numeric = eval_numerical_gradient_array(np.tanh, x.copy(), dout)
candidates = {
    "1 - tanh(x)**2": dout * (1 - np.tanh(x) ** 2),
    "numnet tanh_backward": tanh_backward(dout, tanh_forward(x)[1]),
    "1 - tanh(x)": dout * (1 - np.tanh(x)),
    "1 - x**2": dout * (1 - x**2),
}
tanh_errors = {name: rel_error(numeric, g) for name, g in candidates.items()}
for name, err in tanh_errors.items():
    print(f"{name:>22}: relative error {err:.1e}")
assert tanh_errors["1 - tanh(x)**2"] < 1e-8
assert tanh_errors["numnet tanh_backward"] < 1e-8
assert tanh_errors["1 - tanh(x)"] > 1e-2 and tanh_errors["1 - x**2"] > 1e-2

numeric_sigmoid = eval_numerical_gradient_array(lambda v: sigmoid_forward(v)[0], x.copy(), dout)
sigmoid_error = rel_error(numeric_sigmoid, sigmoid_backward(dout, sigmoid_forward(x)[1]))
print(f"sigmoid_backward: relative error {sigmoid_error:.1e}")
assert sigmoid_error < 1e-8

# %% [markdown]
# ## Gradient norm per layer of a deep network at initialisation
#
# A stack of affine + activation layers with a softmax loss on top, weights drawn with the
# Xavier scale `1 / sqrt(fan_in)` (the scale that keeps tanh's activations in range), and, for
# ReLU, also with He's `sqrt(2 / fan_in)`, which is made for it. For each activation we run one
# forward and backward pass on a random batch and record `||dL/dW||` of every layer, from the
# input (layer 1) to the output.

# %%
depth, width, batch = (8, 64, 32) if small_mode() else (12, 128, 64)
X = rng.standard_normal((batch, width))
y = rng.integers(0, 10, size=batch)


def layer_gradient_norms(activation, scale, seed=0):
    forward, backward = ACTIVATIONS[activation]
    init = np.random.default_rng(seed)
    dims = [width] * depth + [10]
    weights = [
        init.standard_normal((a, b)) * scale(a) for a, b in zip(dims, dims[1:], strict=False)
    ]
    caches, h = [], X
    for i, w in enumerate(weights):
        h, affine_cache = affine_forward(h, w, np.zeros(w.shape[1]))
        act_cache = None
        if i < len(weights) - 1:
            h, act_cache = forward(h)
        caches.append((affine_cache, act_cache))
    _, dh = softmax_loss(h, y)
    norms = []
    for affine_cache, act_cache in reversed(caches):
        if act_cache is not None:
            dh = backward(dh, act_cache)
        dh, dw, _ = affine_backward(dh, affine_cache)
        norms.append(np.linalg.norm(dw))
    return np.array(norms[::-1])


def xavier(fan_in):
    return 1 / np.sqrt(fan_in)


def he(fan_in):
    return np.sqrt(2 / fan_in)


norms = {
    "sigmoid (Xavier)": layer_gradient_norms("sigmoid", xavier),
    "tanh (Xavier)": layer_gradient_norms("tanh", xavier),
    "relu (Xavier)": layer_gradient_norms("relu", xavier),
    "relu (He)": layer_gradient_norms("relu", he),
}
ratios = {name: n[0] / n[-2] for name, n in norms.items()}
for name, ratio in ratios.items():
    print(f"{name:>17}: ||dW first|| / ||dW last hidden|| = {ratio:.1e}")

# %% [markdown]
# The sigmoid network's first layer gets a gradient orders of magnitude smaller than its last
# hidden layer: it would barely train, which is why sigmoid went out of use in hidden layers.
# tanh and ReLU, each with the initialisation made for it, keep the gradient's size through the
# whole depth at initialisation: tanh's derivative is 1 at 0, and Xavier keeps the pre-activations
# near 0. tanh's trouble starts when its units saturate (|x| > 2, derivative below 0.07), which
# large inputs, large weights or training can bring about; ReLU never saturates for x > 0.

# %%
assert ratios["sigmoid (Xavier)"] < 1e-3
for name in ("tanh (Xavier)", "relu (Xavier)", "relu (He)"):
    assert 0.1 < ratios[name] < 10, (name, ratios[name])
    assert ratios[name] > 100 * ratios["sigmoid (Xavier)"]

fig, ax = plt.subplots(figsize=(6, 3.2))
for name, n in norms.items():
    ax.semilogy(np.arange(1, len(n) + 1), n, "o-", ms=3, label=name)
ax.set_xlabel("layer (1 = input side)")
ax.set_ylabel("||dL/dW||")
ax.set_title(f"gradient norm per layer, depth {depth}, at initialisation")
ax.legend(fontsize=8)
save(fig, "vanishing_gradients")
