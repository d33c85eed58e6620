# %% [markdown]
# # 05 · MNIST-1D: a CNN against fully connected nets
# The MNIST-1D study (Prince, Understanding Deep Learning, section 10.2.7; lecture note 004): 40-sample 1-D signals of ten templates; a 2,050-parameter CNN generalises far better than a 59,065-parameter fully connected net, and loses its edge when the positions are shuffled.
#
# The full study (`make reproduce-mnist1d`, about 7 minutes) trains both nets for 100,000 steps
# with 5 seeds each, plus shuffled controls and mnist1d's benchmark nets. Here: its reference
# results, then both nets built, counted and trained for a short budget yourself.

# %%
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import keras

from keras_cnn_course import data, results
from keras_cnn_course.exercises import mnist1d as check, short_mode
from keras_cnn_course.lecture.receptive_field import layer_table
from keras_cnn_course.models import get_model
from keras_cnn_course.training import Recipe, fit

SHORT = short_mode()  # KCC_NOTEBOOK_SHORT=1: tiny data, seconds

# %% [markdown]
# ## The data
# Each example is one of ten 1-D templates ("digits"), padded, scaled, sheared, shifted and
# with noise added: 4,000 training and 1,000 test signals of length 40.

# %%
mnist1d = data.load_mnist1d()
fig, axes = plt.subplots(2, 5, figsize=(12, 3.6), sharey=True)
for digit, ax in enumerate(axes.flat):
    ax.plot(mnist1d["x"][np.flatnonzero(mnist1d["y"] == digit)[:3]].T)
    ax.set_title(f"class {digit}", fontsize=9)
plt.show()

# %% [markdown]
# ## The reference results
# Test and training errors of the CNN and the fully connected net (UDL fig. 10.8: 17% vs 40%
# test error, both 0% training error), and mnist1d's benchmark with shuffled positions.
# `kcc compare mnist1d` prints the same table.

# %%
table = results.compare("mnist1d")
table[["key", "model", "metric", "documented", "mean", "std", "n", "status"]].round(2)

# %% [markdown]
# ## The CNN
# Three `Conv1D` layers of 15 channels, kernel 3, stride 2, "valid", ReLU (40 → 19 → 9 → 4
# positions), then a dense softmax over the 60 values. The input is a length-40 vector, so the
# model starts with a `Reshape` to (40, 1).

# %%
layer_table(get_model("mnist1d_cnn"))

# %% [markdown]
# ### Exercise 1: build the CNN from layers
# Write `build_cnn()` returning a `keras.Model` with the same layers with weights, output shapes
# and parameter counts (without `get_model`).

# %%
def build_cnn():
    # BEGIN SOLUTION
    return keras.Sequential([
        keras.Input((40,)),
        keras.layers.Reshape((40, 1)),
        keras.layers.Conv1D(15, 3, strides=2, activation="relu"),
        keras.layers.Conv1D(15, 3, strides=2, activation="relu"),
        keras.layers.Conv1D(15, 3, strides=2, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    # END SOLUTION


# %%
check.cnn(build_cnn)

# %% [markdown]
# ### Exercise 2: the receptive field of conv3
# How many of the 40 input positions can one unit of the third convolution see? Compute it by
# hand, layer by layer (kernel 3, stride 2 each).

# %%
# BEGIN SOLUTION: rf_conv3 = ...
rf_conv3 = 1 + 2 * 1 + 2 * 2 + 2 * 4
# END SOLUTION

# %%
check.receptive_field(rf_conv3)

# %% [markdown]
# ### Exercise 3: the fully connected net's parameters
# The fully connected net has the CNN's layer widths as dense layers: 40 → 285 → 135 → 60 → 10
# (19·15 = 285, 9·15 = 135, 4·15 = 60). How many parameters (weights and biases)?

# %%
# BEGIN SOLUTION: fc_params = ...
fc_params = (40 * 285 + 285) + (285 * 135 + 135) + (135 * 60 + 60) + (60 * 10 + 10)
# END SOLUTION

# %%
check.fc_parameters(fc_params)

# %% [markdown]
# ## Train both nets
# SGD with batch 100 and learning rate 0.1 for 6,000 steps (the study's chapter-8 recipe), one
# run of each net (seed 0; the reference has 5 seeds a row, and its CNN-vs-FC rows train for
# 100,000 steps at 0.01). The fully connected net fits the training
# data; the CNN, with 29 times fewer parameters, each shared by every position, generalises far
# better.

# %%
epochs, steps = (2, 10) if SHORT else (12, 500)
recipe = Recipe(optimizer="sgd", learning_rate=0.1, batch_size=100, epochs=epochs,
                steps_per_epoch=steps, steps_per_execution=10, deterministic=False,
                jit_compile=not SHORT)  # XLA: seconds to compile, paid back over 6,000 steps
train, test = (mnist1d["x"], mnist1d["y"]), (mnist1d["x_test"], mnist1d["y_test"])
runs = {name: fit(lambda name=name: get_model(name), recipe, train, test, verbose=0)
        for name in ("mnist1d_cnn", "mnist1d_fc")}
fig, ax = plt.subplots(figsize=(7, 3.6))
for (name, run), color in zip(runs.items(), ("C0", "C1")):
    steps_done = np.array(run.history["epoch"]) * steps
    ax.plot(steps_done, 100 * (1 - np.array(run.history["accuracy"])), "--", color=color, label=f"{name} train")
    ax.plot(steps_done, 100 * (1 - np.array(run.history["val_accuracy"])), color=color, label=f"{name} test")
    print(f"{name}: {run.model.count_params():,} parameters, test error "
          f"{100 * (1 - run.final['val_accuracy']):.1f}% after {epochs * steps:,} steps")
ax.set(xlabel="steps", ylabel="error (%)", title="MNIST-1D: CNN vs fully connected"); ax.legend()
plt.show()

# %% [markdown]
# ## The shuffled control
# Shuffle the 40 positions of every signal by one fixed permutation. A fully connected net
# cannot tell the orders apart; the CNN relied on neighbouring positions belonging together, so
# its advantage vanishes (mnist1d's benchmark: 94% → 56%, MLP 68% both ways).

# %%
shuffled = data.load_mnist1d(shuffle_seq=True)
plt.figure(figsize=(7, 2.4))
plt.plot(mnist1d["x"][0], label="a signal"); plt.plot(shuffled["x"][0], label="a signal with shuffled positions")
plt.legend(); plt.show()
control = fit(lambda: get_model("mnist1d_cnn"), recipe, (shuffled["x"], shuffled["y"]),
              (shuffled["x_test"], shuffled["y_test"]), verbose=0)
print(f"CNN on shuffled positions: test error {100 * (1 - control.final['val_accuracy']):.1f}% "
      f"(in order: {100 * (1 - runs['mnist1d_cnn'].final['val_accuracy']):.1f}%)")
