# %% [markdown]
# # Convolution as filtering
#
# A convolutional layer slides a small filter over an image and, at each position, multiplies the
# filter with the window under it and sums. This example uses numnet's `conv_forward` as an image
# filter: first the derivative filter `[1/2, 0, -1/2]` on a 1-D ramp and on an image, then a
# vertical edge filter and the Sobel filters on a real photograph (`china.jpg`, which ships with
# scikit-learn), summed over the colour channels exactly as the homework's loop does. Along the
# way it answers the questions a student hits first:
#
# * what shape the filter must have: `(F, C, HH, WW)`, even for a single 1x3 filter;
# * what to do with a `uint8` image (convert it to float: `x.astype(np.float64) / 255`);
# * why `pad=1` on a 1x3 filter pads both axes (use `pad_h` / `pad_w`);
# * why `[1/2, 0, -1/2]` on a rising ramp gives **-1**, where a student expects +1.
#
# Run it as `python examples/convolution_as_filtering.py [FIGURE_DIR]`.

# %%
import numpy as np
from _common import plt, save, small_mode

from numnet.functional.conv import conv_forward, conv_forward_naive

# %% [markdown]
# ## The derivative filter on a 1-D ramp
#
# `conv_forward` works on a batch of images `(N, C, H, W)` with filters `(F, C, HH, WW)`, so a 1-D
# signal of length L is one image of one channel, one row high: shape `(1, 1, 1, L)`, and the
# filter `[1/2, 0, -1/2]` is `(1, 1, 1, 3)`. We pad one zero on the left and right only
# (`pad_h=0, pad_w=1`), so the output has the input's length.

# %%
L = 12
ramp = np.arange(L, dtype=np.float64)  # x[i] = i: slope +1
derivative = np.array([0.5, 0.0, -0.5])
x1 = ramp.reshape(1, 1, 1, L)
w1 = derivative.reshape(1, 1, 1, 3)
b1 = np.zeros(1)
out1, _ = conv_forward(x1, w1, b1, {"stride": 1, "pad_h": 0, "pad_w": 1})
response = out1[0, 0, 0]
print("ramp    ", ramp)
print("response", response)
assert response.shape == (L,)
assert np.allclose(response[1:-1], -1.0)  # interior: -1, not +1

# %% [markdown]
# ## Why -1? Cross-correlation versus convolution
#
# `conv_forward` (like CS231n, PyTorch and every deep learning library) computes a
# **cross-correlation**: the filter is *not* flipped,
#
# $$\text{out}[i] = \sum_k w[k]\, x[i + k - 1] = \tfrac12 x[i-1] - \tfrac12 x[i+1]
#   = -\frac{x[i+1] - x[i-1]}{2},$$
#
# minus the central difference, so a slope of +1 gives -1. The convolution of signal processing
# (`np.convolve`) flips the filter first, `out[i] = sum_k w[k] x[i - k + 1]`, which gives
# `(x[i+1] - x[i-1]) / 2 = +1`. Both are right; they differ by the flip. To get the derivative with
# `conv_forward`, flip the filter yourself: `[-1/2, 0, 1/2]`. For a learned filter the flip does
# not matter: the network learns the flipped weights.
#
# At the two ends the zero padding makes the response different from the slope: the filter sees
# a zero where the ramp would continue.

# %%
true_convolution = np.convolve(ramp, derivative, mode="same")
flipped, _ = conv_forward(x1, w1[..., ::-1].copy(), b1, {"pad_h": 0, "pad_w": 1})
print("np.convolve         ", true_convolution)
print("conv_forward flipped", flipped[0, 0, 0])
assert np.allclose(true_convolution[1:-1], 1.0)
assert np.allclose(flipped[0, 0, 0], true_convolution)

# %% [markdown]
# `pad=1` pads **both** axes: the one-row image becomes three rows, and the output too (the rows
# above and below see only zeros). That is why the cell above used `pad_h=0, pad_w=1`.

# %%
out_pad1, _ = conv_forward(x1, w1, b1, {"stride": 1, "pad": 1})
print("pad=1 output shape:", out_pad1.shape)
assert out_pad1.shape == (1, 1, 3, L)
assert np.allclose(out_pad1[0, 0, 1], response) and np.allclose(out_pad1[0, 0, [0, 2]], 0)

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(ramp, "o-", label="ramp x[i] = i")
ax.plot(response, "s-", label="conv_forward with [1/2, 0, -1/2]")
ax.plot(true_convolution, "^-", label="np.convolve (flipped filter)")
ax.axhline(0, color="k", lw=0.5)
ax.set_xlabel("i")
ax.legend(fontsize=8)
ax.set_title("cross-correlation gives -slope, convolution gives +slope")
save(fig, "derivative_filter_ramp")

# %% [markdown]
# ## The derivative filter on an image
#
# The same filter as a 1x3 kernel differentiates each row. On an image that brightens from left
# to right by 1 per pixel the response is -1 everywhere inside (and again something else at the
# left and right edges, from the zero padding).

# %%
ramp_image = np.tile(np.arange(10, dtype=np.float64), (6, 1))[None, None]  # (1, 1, 6, 10)
out_img, _ = conv_forward(ramp_image, w1, b1, {"pad_h": 0, "pad_w": 1})
print(out_img[0, 0])
assert np.allclose(out_img[0, 0, :, 1:-1], -1.0)

# %% [markdown]
# ## A real photograph
#
# scikit-learn ships two sample photographs. `china.jpg` is a `uint8` array `(H, W, 3)`;
# numnet wants floating-point `(N, C, H, W)`: transpose the axes, and convert the pixels to float
# yourself (integer products would overflow). Handed a `uint8` image, `conv_forward` either refuses
# it with a message saying how to convert it, or converts it for you; either way the numbers below
# are those of the float image.

# %%
from sklearn.datasets import load_sample_image  # noqa: E402

photo = load_sample_image("china.jpg")
step = 4 if small_mode() else 2  # downsample so the loop version below stays quick
photo = photo[::step, ::step]
print(photo.dtype, photo.shape)
x_uint8 = photo.transpose(2, 0, 1)[None]
x_photo = x_uint8.astype(np.float64) / 255.0  # (1, 3, H, W), values in [0, 1]
box = (np.ones((1, 3, 3, 3)), np.zeros(1), {"pad": 1})
try:
    out_uint8, _ = conv_forward(x_uint8, *box)
    assert np.allclose(out_uint8, conv_forward(x_uint8.astype(np.float64), *box)[0])
    print("uint8 image converted to float")
except TypeError as err:
    print("TypeError:", err)

# %% [markdown]
# The homework's loop: for each output pixel, for each colour channel r, g, b, multiply the 3x3
# window by the filter and add everything up. A filter of shape `(1, 3, 3, 3)` whose three
# channel slices are the same 3x3 kernel does exactly that: one output channel, the sum over the
# three input channels. We build three such filters: a vertical edge filter, and Sobel in x and
# in y.

# %%
vertical_edge = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float64)
sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)
sobel_y = sobel_x.T.copy()
kernels = {"vertical edge": vertical_edge, "Sobel x": sobel_x, "Sobel y": sobel_y}
w_photo = np.stack([np.stack([k] * 3) for k in kernels.values()])  # (3 filters, 3 channels, 3, 3)
b_photo = np.zeros(len(kernels))
print("filters:", w_photo.shape)

# %% [markdown]
# The loop version (`conv_forward_naive`, the definition written as loops) and the vectorised
# `conv_forward` (im2col and one matrix product) give the same numbers. Here the loop runs one
# filter, to stay quick; `conv_forward` runs all three.

# %%
edges_fast, _ = conv_forward(x_photo, w_photo, b_photo, {"stride": 1, "pad": 1})
edges_loop, _ = conv_forward_naive(x_photo, w_photo[:1], b_photo[:1], {"stride": 1, "pad": 1})
diff = np.max(np.abs(edges_fast[:, :1] - edges_loop))
print(f"loop vs conv_forward: max |difference| = {diff:.1e}")
assert edges_fast.shape == (1, 3) + photo.shape[:2]
assert diff < 1e-12

# %% [markdown]
# Summing over the channels is the same as filtering the sum of the channels (the filter is
# linear), i.e. filtering a grey image `r + g + b`:

# %%
grey = x_photo.sum(axis=1, keepdims=True)
edges_grey, _ = conv_forward(grey, w_photo[:, :1], b_photo, {"stride": 1, "pad": 1})
assert np.allclose(edges_grey, edges_fast)

# %% [markdown]
# What the filters see: the vertical edge filter and Sobel x respond to vertical edges (the
# pagoda's pillars), Sobel y to horizontal ones (the roofs), and the gradient magnitude
# `sqrt(Gx^2 + Gy^2)` to both. Because of cross-correlation, a dark-to-bright step from left to
# right gives a *negative* response (dark in the pictures), a bright-to-dark step a positive one.

# %%
magnitude = np.hypot(edges_fast[0, 1], edges_fast[0, 2])
fig, axes = plt.subplots(1, 5, figsize=(15, 2.6))
axes[0].imshow(photo)
axes[0].set_title("china.jpg")
for ax, name, out in zip(axes[1:4], kernels, edges_fast[0], strict=True):
    lim = np.percentile(np.abs(out), 99)
    ax.imshow(out, cmap="gray", vmin=-lim, vmax=lim)
    ax.set_title(name)
axes[4].imshow(magnitude, cmap="gray", vmax=np.percentile(magnitude, 99))
axes[4].set_title("Sobel magnitude")
for ax in axes:
    ax.axis("off")
save(fig, "convolution_filters_photo")

# %% [markdown]
# A check on the numbers: a vertical-edge filter gives nothing on a region of constant colour, and
# on the whole photograph the strongest vertical edges are much stronger than the typical
# response.

# %%
flat = np.ones((1, 3, 8, 8))
flat_out, _ = conv_forward(flat, w_photo, b_photo, {"pad": 0})
assert np.allclose(flat_out, 0.0)
assert np.abs(edges_fast[0, 0]).max() > 5 * np.abs(edges_fast[0, 0]).mean()
