# %% [markdown]
# # The gradient of a convolution
#
# For a convolution layer (a cross-correlation, as in `conv_forward`) with one input channel, one
# filter, stride 1 and no padding,
#
# $$\text{out}[i, j] = \sum_{p, q} x[i + p,\ j + q]\, w[p, q] + b,$$
#
# and an upstream gradient `dout` = dL/dout, the chain rule gives two results worth remembering:
#
# * **dL/dw is the correlation of the input with dout**:
#   $\frac{\partial L}{\partial w[p, q]} = \sum_{i, j} \text{dout}[i, j]\, x[i + p,\ j + q]$,
#   the same sliding-window sum as the forward pass, with `dout` in the role of the filter.
# * **dL/dx is the full convolution of dout with the filter**: every `x[a, b]` met the filter
#   weight `w[a - i, b - j]` in output `(i, j)`, so
#   $\frac{\partial L}{\partial x[a, b]} = \sum_{i, j} \text{dout}[i, j]\, w[a - i,\ b - j]$:
#   pad `dout` with HH-1 zeros on each side and slide the **flipped** filter over it.
#
# Both are computed below with `conv_forward` itself, compared with `conv_backward`, and checked
# numerically. Run it as `python examples/conv_gradient.py [FIGURE_DIR]`.

# %%
import numpy as np
from _common import plt, save, small_mode

from numnet.functional.conv import conv_backward, conv_forward
from numnet.gradcheck import eval_numerical_gradient_array, rel_error

rng = np.random.default_rng(0)
H = W = 5
K = 3
x = rng.integers(-3, 4, size=(1, 1, H, W)).astype(np.float64)
w = rng.integers(-2, 3, size=(1, 1, K, K)).astype(np.float64)
b = np.zeros(1)
param = {"stride": 1, "pad": 0}
out, cache = conv_forward(x, w, b, param)
dout = rng.integers(-2, 3, size=out.shape).astype(np.float64)
dx_ref, dw_ref, db_ref = conv_backward(dout, cache)
print("x\n", x[0, 0], "\nw\n", w[0, 0], "\ndout\n", dout[0, 0])

# %% [markdown]
# ## dL/dw: correlate the input with dout
#
# Treat `x` as the image and `dout` (3x3 here) as the filter: `conv_forward(x, dout)` slides dout
# over x and gives a 3x3 result, one number per filter weight.

# %%
dw_by_correlation, _ = conv_forward(x, dout, np.zeros(1), {"stride": 1, "pad": 0})
print("dw by correlation\n", dw_by_correlation[0, 0])
assert np.array_equal(dw_by_correlation, dw_ref)

# %% [markdown]
# ## dL/dx: full convolution of dout with the flipped filter
#
# Pad `dout` with K-1 = 2 zeros all round (the "full" size, 7x7 here) and correlate it with the
# filter rotated by 180 degrees. Correlating with a flipped filter is a convolution, hence the name.

# %%
w_flipped = w[:, :, ::-1, ::-1].copy()
dx_by_full_convolution, _ = conv_forward(dout, w_flipped, np.zeros(1), {"stride": 1, "pad": K - 1})
print("dx by full convolution\n", dx_by_full_convolution[0, 0])
assert np.array_equal(dx_by_full_convolution, dx_ref)

# %% [markdown]
# Without the flip the result is wrong (unless the filter happens to be symmetric): this is the
# usual bug when writing the backward pass by hand.

# %%
dx_unflipped, _ = conv_forward(dout, w, np.zeros(1), {"stride": 1, "pad": K - 1})
print(f"without the flip: relative error {rel_error(dx_unflipped, dx_ref):.2f}")
assert not np.allclose(dx_unflipped, dx_ref)

# %% [markdown]
# ## Checked numerically
#
# `eval_numerical_gradient_array(f, x, dout)` is the central-difference gradient of
# `sum(f(x) * dout)`, the loss whose upstream gradient is `dout`. Then the same check on a
# general case: several images, channels and filters, padding 1 and stride 2.

# %%
dx_num = eval_numerical_gradient_array(lambda v: conv_forward(v, w, b, param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda v: conv_forward(x, v, b, param)[0], w, dout)
# In this integer example some gradients are exactly 0, where a relative error only measures
# round-off, so the check is on the absolute difference.
dx_gap, dw_gap = np.abs(dx_num - dx_ref).max(), np.abs(dw_num - dw_ref).max()
print(f"max |numerical - analytic|: dx {dx_gap:.1e}, dw {dw_gap:.1e}")
assert dx_gap < 1e-6 and dw_gap < 1e-6

n, c, f, size = (2, 2, 3, 5) if small_mode() else (2, 3, 4, 7)
xg = rng.standard_normal((n, c, size, size))
wg = rng.standard_normal((f, c, 3, 3))
bg = rng.standard_normal(f)
pg = {"stride": 2, "pad": 1}
outg, cacheg = conv_forward(xg, wg, bg, pg)
doutg = rng.standard_normal(outg.shape)
dxg, dwg, dbg = conv_backward(doutg, cacheg)
errors = {
    "dx": rel_error(
        dxg, eval_numerical_gradient_array(lambda v: conv_forward(v, wg, bg, pg)[0], xg, doutg)
    ),
    "dw": rel_error(
        dwg, eval_numerical_gradient_array(lambda v: conv_forward(xg, v, bg, pg)[0], wg, doutg)
    ),
    "db": rel_error(
        dbg, eval_numerical_gradient_array(lambda v: conv_forward(xg, wg, v, pg)[0], bg, doutg)
    ),
}
print(", ".join(f"{k} {v:.1e}" for k, v in errors.items()))
assert max(errors.values()) < 1e-7

# %% [markdown]
# `db` is simply `dout` summed over images and positions: every output of filter f adds `b[f]`.

# %%
assert np.allclose(dbg, doutg.sum(axis=(0, 2, 3)))


# %%
def show(ax, a, title):
    ax.imshow(a, cmap="coolwarm", vmin=-np.abs(a).max() - 1e-9, vmax=np.abs(a).max() + 1e-9)
    for (i, j), v in np.ndenumerate(a):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


fig, axes = plt.subplots(1, 6, figsize=(14, 2.8))
show(axes[0], x[0, 0], "x")
show(axes[1], w[0, 0], "w")
show(axes[2], dout[0, 0], "dout")
show(axes[3], dw_by_correlation[0, 0], "dw = corr(x, dout)")
show(axes[4], np.pad(dout[0, 0], K - 1), "dout padded (full)")
show(axes[5], dx_by_full_convolution[0, 0], "dx = corr(pad(dout), flip(w))")
save(fig, "conv_gradient")
