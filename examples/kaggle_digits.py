# %% [markdown]
# # The Kaggle digit recognizer, end to end
#
# Kaggle's "Digit Recognizer" gives a `train.csv` (a `label` column, then one column per pixel)
# and a `test.csv` (pixels only), and wants back a `submission.csv` with `ImageId,Label`. This
# example runs the homework's solution on files of exactly that format, then improves it, then
# writes the submission.
#
# To run without a download (and in CI) the CSVs are made from the 8x8 digits embedded in numnet
# (`numnet/assets/digits.npz`, 1797 images): 64 pixel columns instead of Kaggle's 784, values
# 0-255. With Kaggle's real files, point `TRAIN_CSV` and `TEST_CSV` at them and set
# `input_dim=784`; nothing else changes.
#
# Run it as `python examples/kaggle_digits.py [FIGURE_DIR]`; the CSVs and the submission go to
# `$NUMNET_EXAMPLES_OUTPUT` (default `examples/output/`). `NUMNET_EXAMPLES_SMALL=1` trains fewer
# epochs.

# %%
import os
from pathlib import Path

import numpy as np
from _common import EXAMPLES_DIR, plt, save, small_mode

import numnet
from numnet.data import Standardizer, load_digits, train_val_split
from numnet.data.kaggle_csv import read_kaggle_csv, write_submission
from numnet.models import ConvNet, FullyConnectedNet

SMALL = small_mode()
work = Path(os.environ.get("NUMNET_EXAMPLES_OUTPUT", EXAMPLES_DIR / "output")) / "kaggle_digits"
work.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Kaggle-format files from the embedded digits
#
# The test labels are kept aside (Kaggle keeps them too) to score the submission at the end.

# %%
digits = load_digits()
TRAIN_CSV, TEST_CSV = work / "train.csv", work / "test.csv"
pixels = [f"pixel{i}" for i in range(64)]
train_rows = np.column_stack([digits.y_train, digits.X_train.reshape(len(digits.y_train), -1)])
np.savetxt(
    TRAIN_CSV, train_rows, fmt="%d", delimiter=",", header=",".join(["label", *pixels]), comments=""
)
np.savetxt(
    TEST_CSV,
    digits.X_test.reshape(len(digits.y_test), -1),
    fmt="%d",
    delimiter=",",
    header=",".join(pixels),
    comments="",
)
hidden_test_labels = digits.y_test
print(TRAIN_CSV.read_text().splitlines()[0][:60], "...")

# %% [markdown]
# ## Reading the files
#
# `read_kaggle_csv` tells train from test by the header and checks every cell; pixels come back
# as `uint8`, labels as `int64`.

# %%
X_all, y_all = read_kaggle_csv(TRAIN_CSV, require_labels=True, num_classes=10)
X_test, no_labels = read_kaggle_csv(TEST_CSV)
assert no_labels is None and X_all.dtype == np.uint8
print("train", X_all.shape, "test", X_test.shape)
X_tr, y_tr, X_val, y_val = train_val_split(X_all, y_all, val_fraction=0.1, seed=0)

# %% [markdown]
# ## The homework's configuration
#
# Pixels divided by 255, a fully connected net with hidden layers of 500 and 200 units, SGD with
# batches of 32 at learning rate 0.05, multiplied by 0.9 after every epoch, 10 epochs. The weights
# start with He's scale `sqrt(2 / fan_in)`: with the CS231n default `weight_scale=1e-2` this
# three-layer net's signal is so small that SGD barely moves it in 10 epochs (loss stays at
# log 10 = 2.30).

# %%
epochs = 3 if SMALL else 10
homework_data = {
    "X_train": X_tr / 255.0,
    "y_train": y_tr,
    "X_val": X_val / 255.0,
    "y_val": y_val,
}
homework_model = FullyConnectedNet([500, 200], input_dim=64, num_classes=10, init="he", seed=0)
homework = numnet.Solver(
    homework_model,
    homework_data,
    update_rule="sgd",
    optim_config={"learning_rate": 5e-2},
    lr_decay=0.9,
    batch_size=32,
    num_epochs=epochs,
    seed=0,
    verbose=False,
)
homework.train()
homework_test_acc = float((homework_model.predict(X_test / 255.0) == hidden_test_labels).mean())
print(f"homework: val {homework.best_val_acc:.3f}, test {homework_test_acc:.3f}")
assert homework_test_acc > (0.80 if SMALL else 0.90)

# %% [markdown]
# ## What improves it
#
# On this data three changes help, and a fourth, often suggested, does not:
#
# * **Standardise** the pixels with the training set's mean and spread (`Standardizer`), so the
#   inputs are centred with unit scale instead of lying in [0, 1].
# * **Adam** adapts a step size per weight and needs no hand-tuned decay.
# * **A small convolutional network** (`ConvNet`: two 3x3 convolution blocks with 2x2 max pooling,
#   then 128 hidden units) shares its weights across positions, so it needs far fewer examples to
#   learn strokes than a fully connected net does: on 1438 training images that matters most.
# * Dropout and shifted copies of the training images did not help here (tried; the 8x8 images
#   are too small for a one-pixel shift to leave the digit unchanged).

# %%
scaler = Standardizer("channel").fit(X_tr.reshape(-1, 1, 8, 8))


def as_images(X):
    return scaler.transform(X.reshape(-1, 1, 8, 8))


better_data = {
    "X_train": as_images(X_tr),
    "y_train": y_tr,
    "X_val": as_images(X_val),
    "y_val": y_val,
}
better_model = ConvNet(input_dim=(1, 8, 8), conv_channels=(16, 32), hidden_dims=(128,), seed=0)
better = numnet.Solver(
    better_model,
    better_data,
    update_rule="adam",
    optim_config={"learning_rate": 1e-3},
    batch_size=32,
    num_epochs=2 if SMALL else 10,
    seed=0,
    verbose=False,
)
better.train()
better_test_acc = float((better_model.predict(as_images(X_test)) == hidden_test_labels).mean())
print(f"improved: val {better.best_val_acc:.3f}, test {better_test_acc:.3f}")
assert better_test_acc > (0.70 if SMALL else 0.94)

# %% [markdown]
# A word of caution before believing an improvement: the test set has 359 images, so one image is
# 0.3 %, and the validation set that picks the best epoch has 144. Trained with other seeds (or
# with another number of BLAS threads, which changes the rounding), the convolutional network
# lands between about 95.5 % and 98.5 % on this test set, the homework's net at about 95.5 %. The
# network is better on average, not on every run; compare several seeds before trusting a gain of
# one or two percent.

# %% [markdown]
# ## The submission file
#
# One row per test image, in `test.csv`'s order, `ImageId` counted from 1. Reading it back checks
# its format; scoring it against the labels we kept aside gives what Kaggle would report.

# %%
predictions = better_model.predict(as_images(X_test))
submission = work / "submission.csv"
write_submission(submission, predictions)
lines = submission.read_text().splitlines()
print("\n".join(lines[:4]), "\n...")
assert lines[0] == "ImageId,Label" and len(lines) == len(X_test) + 1
read_back = np.array([int(line.split(",")[1]) for line in lines[1:]])
kaggle_score = float((read_back == hidden_test_labels).mean())
print(f"submission written to {submission}; its score: {kaggle_score:.3f}")
assert kaggle_score == better_test_acc

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
runs = (
    ("homework (SGD, /255)", homework, homework_test_acc),
    ("improved (ConvNet, Adam)", better, better_test_acc),
)
for name, solver, test_acc in runs:
    axes[0].plot(solver.val_acc_history, "o-", ms=3, label=f"{name}: test {test_acc:.3f}")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("validation accuracy")
axes[0].legend(fontsize=8)
axes[0].set_title("the homework and the improved run")
axes[1].axis("off")
inner = axes[1].inset_axes([0, 0, 1, 1])
inner.axis("off")
shown = 16
for k in range(shown):
    ax = axes[1].inset_axes([(k % 8) / 8, 0.5 - 0.5 * (k // 8), 1 / 8 - 0.01, 0.42])
    ax.imshow(X_test[k].reshape(8, 8), cmap="gray_r")
    ok = predictions[k] == hidden_test_labels[k]
    ax.set_title(str(predictions[k]), fontsize=9, color="black" if ok else "red")
    ax.axis("off")
axes[1].set_title("test images and the submitted label", pad=18)
save(fig, "kaggle_digits")
