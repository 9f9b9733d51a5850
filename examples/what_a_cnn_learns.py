# %% [markdown]
# # What a convolutional network learns
#
# A small convolutional network trained on the 8x8 digits embedded in numnet, then looked at
# three ways:
#
# 1. its **first-layer filters** as a grid of little images, before and after training;
# 2. the **misclassified** test images, with the true and the predicted label;
# 3. the **confusion matrix** (`numnet.callbacks.confusion_matrix` and `plot_confusion_matrix`):
#    which digits it takes for which.
#
# Run it as `python examples/what_a_cnn_learns.py [FIGURE_DIR]`; `NUMNET_EXAMPLES_SMALL=1` trains
# fewer epochs.

# %%
import numpy as np
from _common import figure_dir, plt, save, small_mode

import numnet
from numnet.callbacks import confusion_matrix, plot_confusion_matrix
from numnet.data import Standardizer, load_digits, train_val_split
from numnet.models import ConvNet

SMALL = small_mode()
digits = load_digits()
X_tr, y_tr, X_val, y_val = train_val_split(digits.X_train, digits.y_train, val_fraction=0.1, seed=0)
scaler = Standardizer("channel").fit(X_tr)
data = {
    "X_train": scaler.transform(X_tr),
    "y_train": y_tr,
    "X_val": scaler.transform(X_val),
    "y_val": y_val,
}
X_test = scaler.transform(digits.X_test)
y_test = digits.y_test

# %% [markdown]
# ## The network and its training
#
# One block of 16 filters of 5x5 (padding 2, so the 8x8 image keeps its size), ReLU and 2x2 max
# pooling, then 64 hidden units and the 10 scores. 5x5 filters are big enough to look at.

# %%
model = ConvNet(
    input_dim=(1, 8, 8), conv_channels=(16,), kernel_size=5, pad=2, hidden_dims=(64,), seed=0
)
filters_at_init = model.params["W1"].copy()
solver = numnet.Solver(
    model,
    data,
    update_rule="adam",
    optim_config={"learning_rate": 2e-3},
    batch_size=32,
    num_epochs=3 if SMALL else 12,
    seed=0,
    verbose=False,
)
solver.train()
predicted = model.predict(X_test)
accuracy = float((predicted == y_test).mean())
print(f"test accuracy {accuracy:.3f} ({int((predicted != y_test).sum())} of {len(y_test)} wrong)")
assert accuracy > (0.80 if SMALL else 0.95)


# %% [markdown]
# ## The first-layer filters
#
# Each filter is shown with its own grey scale (white = large positive weight, black = large
# negative). A filter with a bright bar next to a dark one is an edge detector in that
# orientation, the same thing as the Sobel filters of `convolution_as_filtering.py`, learned from
# the data instead of written by hand. Be warned that on 1438 images of 8x8 pixels, trained for a
# few epochs, the filters move only partway from their random start (the printed relative change):
# the structure is faint next to what a network trained on large photographs shows, and the later
# layers do much of the work.


# %%
def filter_grid(ax, weights, title):
    """Tile (F, 1, HH, WW) filters into one image, each rescaled to [0, 1], 1-pixel gaps."""
    count, _, size, _ = weights.shape
    cols = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / cols))
    grid = np.ones((rows * (size + 1) - 1, cols * (size + 1) - 1))
    for k in range(count):
        w = weights[k, 0]
        w = (w - w.min()) / (w.max() - w.min() + 1e-12)
        r, c = divmod(k, cols)
        grid[r * (size + 1) : r * (size + 1) + size, c * (size + 1) : c * (size + 1) + size] = w
    ax.imshow(grid, cmap="gray", interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")


trained_filters = model.params["W1"]
change = np.linalg.norm(trained_filters - filters_at_init) / np.linalg.norm(filters_at_init)
print(f"relative change of the first-layer filters: {change:.2f}")
assert change > 0.05

fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
filter_grid(axes[0], filters_at_init, "filters at initialisation")
filter_grid(axes[1], trained_filters, "filters after training")
save(fig, "cnn_filters")

# %% [markdown]
# ## The mistakes
#
# Shown as the network saw them (standardised pixels), with `true -> predicted`. Many are digits
# a person would hesitate over too at 8x8 pixels.

# %%
wrong = np.flatnonzero(predicted != y_test)
shown = wrong[:16]
if len(shown):
    cols = 8
    rows = int(np.ceil(len(shown) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, k in zip(axes.ravel(), shown, strict=False):
        ax.imshow(digits.X_test[k, 0], cmap="gray_r")
        ax.set_title(f"{y_test[k]} -> {predicted[k]}", fontsize=9, color="tab:red")
    save(fig, "cnn_misclassified")

# %% [markdown]
# ## The confusion matrix
#
# Row i, column j counts the test images of digit i that the network called j; the diagonal holds
# the correct answers, so its sum over the total is the accuracy.

# %%
cm = confusion_matrix(y_test, predicted, num_classes=10)
print(cm)
assert cm.sum() == len(y_test)
assert np.trace(cm) == int((predicted == y_test).sum())
assert np.array_equal(cm.sum(axis=1), np.bincount(y_test, minlength=10))
plot_confusion_matrix(cm, digits.class_names, figure_dir() / "cnn_confusion_matrix.png")
print(f"saved {figure_dir() / 'cnn_confusion_matrix.png'}")
