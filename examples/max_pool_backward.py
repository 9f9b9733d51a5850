# %% [markdown]
# # Max pooling and where its gradient goes
#
# Max pooling keeps the largest value of each window. Near a given input the max of a window is
# the identity of its largest element and does not depend on the others, so the backward pass
# **routes** each upstream gradient `dout[i, j]` to the one position that held the window's
# maximum, and sends zero everywhere else:
#
# $$\frac{\partial L}{\partial x[a, b]}
#   = \sum_{(i, j):\ \arg\max \text{ of window } (i, j) = (a, b)} \text{dout}[i, j].$$
#
# When windows overlap (stride smaller than the window) an element that is the maximum of several
# windows collects all their gradients. On ties the first maximum in row-major order gets it all,
# as in PyTorch. This example draws the routing, compares it with average pooling (which spreads
# the gradient evenly) and checks both numerically.
#
# Run it as `python examples/max_pool_backward.py [FIGURE_DIR]`.

# %%
import numpy as np
from _common import plt, save, small_mode

from numnet.functional.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_backward_naive,
    max_pool_forward,
    max_pool_forward_naive,
)
from numnet.gradcheck import eval_numerical_gradient_array, rel_error

rng = np.random.default_rng(1)
x = rng.permutation(16).reshape(1, 1, 4, 4).astype(np.float64)  # distinct values: no ties
pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
out, cache = max_pool_forward(x, pool)
dout = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
dx = max_pool_backward(dout, cache)
print("x\n", x[0, 0], "\nout\n", out[0, 0], "\ndx\n", dx[0, 0])

# %% [markdown]
# Each of the four windows sends its `dout` to its maximum: dx holds exactly the four values of
# dout, at the positions where `x` equals the pooled output, and zeros in the other twelve places.

# %%
assert np.count_nonzero(dx) == 4
assert sorted(dx[dx != 0]) == [1.0, 2.0, 3.0, 4.0]
for i in range(2):
    for j in range(2):
        window = x[0, 0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
        p, q = np.unravel_index(window.argmax(), window.shape)
        assert dx[0, 0, 2 * i + p, 2 * j + q] == dout[0, 0, i, j]

# %% [markdown]
# The loop version gives the same, and central differences agree (the values are distinct, so
# a small step never changes which element is the maximum).

# %%
out_loop, cache_loop = max_pool_forward_naive(x, pool)
assert np.array_equal(out_loop, out)
assert np.array_equal(max_pool_backward_naive(dout, cache_loop), dx)
dx_num = eval_numerical_gradient_array(lambda v: max_pool_forward(v, pool)[0], x, dout)
print(f"max |numerical - analytic| = {np.abs(dx_num - dx).max():.1e}")
assert np.abs(dx_num - dx).max() < 1e-8

# %% [markdown]
# ## Overlapping windows add up
#
# With 2x2 windows and stride 1 the nine windows of a 4x4 input overlap; an element that is the
# maximum of several of them receives the sum of their gradients. With every `dout` equal to 1,
# dx counts how many windows each element wins.

# %%
overlap = {"pool_height": 2, "pool_width": 2, "stride": 1}
out_o, cache_o = max_pool_forward(x, overlap)
dx_o = max_pool_backward(np.ones_like(out_o), cache_o)
print("windows won by each element\n", dx_o[0, 0])
assert dx_o.sum() == out_o.size
# the largest value wins every window it lies in
windows_containing = np.zeros((4, 4))
for i in range(3):
    for j in range(3):
        windows_containing[i : i + 2, j : j + 2] += 1
top = np.unravel_index(x[0, 0].argmax(), (4, 4))
assert dx_o[0, 0][top] == windows_containing[top]
assert dx_o.max() > 1  # some element collects the gradient of two windows

# %% [markdown]
# ## Average pooling spreads the gradient
#
# An average of four numbers has derivative 1/4 with respect to each, so every element of a
# window gets a quarter of the window's `dout`.

# %%
out_a, cache_a = avg_pool_forward(x, pool)
dx_a = avg_pool_backward(dout, cache_a)
assert np.allclose(dx_a[0, 0], np.kron(dout[0, 0], np.ones((2, 2))) / 4)

# %% [markdown]
# A larger random check of both backward passes (several images and channels, overlapping
# windows).

# %%
shape = (2, 2, 5, 5) if small_mode() else (3, 3, 8, 8)
xr = rng.standard_normal(shape)
for forward, backward, param in [
    (max_pool_forward, max_pool_backward, {"pool_height": 3, "pool_width": 3, "stride": 2}),
    (avg_pool_forward, avg_pool_backward, {"pool_height": 2, "pool_width": 2, "stride": 2}),
]:
    o, c = forward(xr, param)
    d = rng.standard_normal(o.shape)

    def f(v, forward=forward, param=param):
        return forward(v, param)[0]

    err = rel_error(backward(d, c), eval_numerical_gradient_array(f, xr, d))
    print(f"{forward.__name__}: relative error {err:.1e}")
    assert err < 1e-7

# %% [markdown]
# ## The picture
#
# Left: the input with its four windows and each maximum circled. Middle: the upstream gradient.
# Right: dx, with an arrow from each `dout` to the position it is routed to.

# %%
fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))


def grid(ax, a, title, cmap="Greys", fmt="{:g}"):
    ax.imshow(a, cmap=cmap, vmin=0, vmax=max(a.max(), 1) * 1.6)
    for (i, j), v in np.ndenumerate(a):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


grid(axes[0], x[0, 0], "x, 2x2 windows, stride 2")
grid(axes[1], dout[0, 0], "dout")
grid(axes[2], dx[0, 0], "dx = routed dout")
grid(axes[3], dx_o[0, 0], "stride 1: windows won")
for ax in (axes[0], axes[2]):
    for k in (1.5,):
        ax.axhline(k, color="tab:blue", lw=2)
        ax.axvline(k, color="tab:blue", lw=2)
for i in range(2):
    for j in range(2):
        window = x[0, 0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
        p, q = np.unravel_index(window.argmax(), window.shape)
        a, b = 2 * i + p, 2 * j + q
        axes[0].add_patch(plt.Circle((b, a), 0.4, fill=False, color="tab:red", lw=2))
        axes[2].add_patch(plt.Circle((b, a), 0.4, fill=False, color="tab:red", lw=2))
        con = plt.matplotlib.patches.ConnectionPatch(
            xyA=(j, i),
            coordsA=axes[1].transData,
            xyB=(b, a),
            coordsB=axes[2].transData,
            arrowstyle="->",
            color="tab:red",
            lw=1.2,
        )
        fig.add_artist(con)
save(fig, "max_pool_routing")
