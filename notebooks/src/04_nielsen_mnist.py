# %% [markdown]
# # 04 · Nielsen's MNIST progression
# The study of Nielsen's chapter 6 (lecture note 004's MNIST section): the package's reference results for every network, then Nielsen's second network built by you and trained a few epochs, the expanded training data, its misclassified digits and its feature maps.
#
# The full study (`make reproduce-mnist`, about 30 minutes on 2 cores) trains every row of the
# progression, from a 784-100-10 sigmoid net (97.8%) to two conv-pool layers, ReLU, expanded
# data, two dropout-regularised dense layers and a vote of five nets (99.6-99.67%). Here you see
# its reference results and train one short row yourself.

# %%
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt

from keras_cnn_course import data, results
from keras_cnn_course.exercises import nielsen as check, short_mode
from keras_cnn_course.lecture import figures
from keras_cnn_course.lecture.receptive_field import layer_table
from keras_cnn_course.models import get_model
from keras_cnn_course.training import Recipe, fit

SHORT = short_mode()  # KCC_NOTEBOOK_SHORT=1: tiny data, seconds

# %% [markdown]
# ## The reference results
# Every row compares the documented accuracy (book or lecture) with the package's runs: mean ±
# std over seeds, under the `fast` protocol (Adam, a few epochs) and the `book` protocol
# (network3.py's SGD recipe, 60 epochs). `kcc compare nielsen_mnist` prints the same table.

# %%
table = results.compare("nielsen_mnist")
table[["key", "model", "protocol", "documented", "mean", "std", "n", "status"]].round(3)

# %%
fast = table[table.protocol == "fast"]
fig, ax = plt.subplots(figsize=(9, 3.6))
ax.errorbar(range(len(fast)), fast["mean"], yerr=fast["std"].fillna(0), fmt="o", label="the package's runs (mean ± std)")
ax.plot(range(len(fast)), fast["documented"], "x", color="k", label="documented")
ax.set_xticks(range(len(fast)), fast["key"], rotation=60, ha="right", fontsize=7)
ax.set(ylabel="accuracy (%)", title="Nielsen's progression, fast protocol"); ax.legend()
plt.show()

# %% [markdown]
# ## The second network
# Nielsen's second convolutional network adds a second conv-pool layer: 20 filters 5×5 → max
# pool 2 → 40 filters 5×5 → max pool 2 → 100 sigmoid units → 10-way softmax, on 28×28×1
# images (sigmoid activations throughout, "valid" convolutions). The package's version:

# %%
layer_table(get_model("nielsen_dbl_conv"))

# %% [markdown]
# ### Exercise 1: build it from layers
# Write `build_second_network()` returning a `keras.Model` with the same layers with weights,
# output shapes and parameter counts (without `get_model`).

# %%
import keras


def build_second_network():
    # BEGIN SOLUTION
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(20, 5, activation="sigmoid"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(40, 5, activation="sigmoid"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(100, activation="sigmoid"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    # END SOLUTION


# %%
check.second_network(build_second_network)

# %% [markdown]
# ## Train it a few epochs
# Nielsen's split (50,000 training, 10,000 validation, 10,000 test images) from the package's
# verified copy, and the package's training engine: `fit` builds the model, trains it by a
# `Recipe` (Adam here, not the book's SGD, and far fewer epochs) and reports the test accuracy at
# the epoch with the best validation accuracy, as the book does.

# %%
splits = data.load_mnist()
(x_train, y_train), (x_valid, y_valid), (x_test, y_test) = splits.train, splits.validation, splits.test
scale = lambda x: x[..., None].astype("float32") / 255.0
n_train, n_eval, epochs = (1000, 500, 1) if SHORT else (50_000, 10_000, 3)
result = fit(build_second_network,
             Recipe(optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=epochs),
             (scale(x_train[:n_train]), y_train[:n_train]),
             (scale(x_valid[:n_eval]), y_valid[:n_eval]),
             (scale(x_test[:n_eval]), y_test[:n_eval]), verbose=2)
reference = table[(table.key == "mnist_row2_dbl_conv") & (table.protocol == "fast")].iloc[0]
print(f"ours, one run (seed 0), {epochs} epoch(s) on {n_train:,} images: test accuracy "
      f"{result.selected['test_accuracy']:.2%} (epoch {result.selected_epoch}); the reference's "
      f"12-epoch runs: {reference['mean']:.2f}% (mean of {reference['n']:.0f} seeds), "
      f"documented {reference['documented']}%")

# %% [markdown]
# ## What the network learned
# The first layer's 20 filters, and the feature maps of both conv layers for one test digit:
# the first layer responds to strokes and edges at different orientations, the second to
# combinations of them, at a quarter of the resolution.

# %%
figures.first_layer_filters_figure(result.model)

# %%
figures.feature_maps_figure(result.model, x_test[0] / 255.0)

# %% [markdown]
# ## The misclassified digits
# ### Exercise 2: which digits does it get wrong?
# Write `my_misclassified(probabilities, labels)`: the indices (in increasing order) of the
# examples whose most probable class is not the label.

# %%
def my_misclassified(probabilities, labels):
    # BEGIN SOLUTION
    return np.flatnonzero(np.argmax(probabilities, axis=1) != labels)
    # END SOLUTION


# %%
check.misclassified(my_misclassified)

# %%
probabilities = result.model.predict(scale(x_test[:n_eval]), verbose=0)
wrong = my_misclassified(probabilities, y_test[:n_eval])
print(f"{len(wrong)} of {n_eval:,} test digits misclassified")
fig, axes = plt.subplots(2, 8, figsize=(12, 3.6))
for ax, index in zip(axes.flat, wrong):
    ax.imshow(x_test[index], cmap="gray_r")
    ax.set_title(f"{y_test[index]} as {probabilities[index].argmax()}", fontsize=9)
for ax in axes.flat:
    ax.set_xticks([]), ax.set_yticks([])
plt.show()

# %% [markdown]
# Many are digits a person would hesitate over too; the later rows of the progression get most
# of the rest right with more data.
#
# ## Expanding the training data
# Nielsen's next step: add four copies of every training image, moved by one pixel down, up,
# right and left (the row or column moved in is zero), 250,000 images. The network's prediction
# should not change when the digit moves a little: the data teaches it.
#
# ### Exercise 3: shift the images
# Write `my_shift(images, rows, cols)` for a batch of $(N, 28, 28)$ images: move them by `rows`
# (+1 down, −1 up) and `cols` (+1 right, −1 left), with zeros where nothing moves in.

# %%
def my_shift(images, rows, cols):
    # BEGIN SOLUTION
    shifted = np.zeros_like(images)
    height, width = images.shape[1:]
    shifted[:, max(rows, 0):height + min(rows, 0), max(cols, 0):width + min(cols, 0)] = \
        images[:, max(-rows, 0):height - max(rows, 0), max(-cols, 0):width - max(cols, 0)]
    return shifted
    # END SOLUTION


# %%
check.shift(my_shift)

# %%
digit = x_train[:1]
fig, axes = plt.subplots(1, 5, figsize=(9, 2))
for ax, (name, (rows, cols)) in zip(axes, {"original": (0, 0), "down": (1, 0), "up": (-1, 0),
                                           "right": (0, 1), "left": (0, -1)}.items()):
    ax.imshow(my_shift(digit, rows, cols)[0], cmap="gray_r"), ax.set_title(name)
    ax.set_xticks([]), ax.set_yticks([])
plt.show()
expanded_x, _ = data.expand_mnist(x_train[:100], y_train[:100])
print("100 images expanded to", len(expanded_x))
