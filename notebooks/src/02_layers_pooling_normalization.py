# %% [markdown]
# # 02 · Convolution layers, pooling and normalization
# Lecture note 002: filters over channels and their parameter counts, padding and stride, why nonlinearities separate convolutions, 1×1 convolutions, pooling, LeNet-5 built from layers, and batch, layer and instance normalization.
#
# Sections of lecture note 002 reached here: *Convolution Layers*, *Spatial Dimensions*,
# *Padding*, *Stride*, *Receptive Field* (see also notebook 01), *1x1 Convolution*, *Pooling
# Layers / Max Pooling*, *Batch Normalization*, *Layer Normalization and Instance
# Normalization*.

# %%
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import keras

from keras_cnn_course.exercises import lecture002 as check
from keras_cnn_course.lecture import arithmetic, correlation, normalization, sampling, structure
from keras_cnn_course.lecture.receptive_field import layer_table
from keras_cnn_course.models import get_model

# %% [markdown]
# ## Convolution layers
# A 3×32×32 image and six 5×5 filters: each filter spans all 3 input channels, so it has
# 5·5·3 weights and one bias, and it produces one 28×28 map (no padding, stride 1).
#
# ### Exercise 1: parameters of a convolution
# Write `my_conv_params(kernel_size, in_channels, filters)`: weights plus biases. `kernel_size`
# is an int $K$ (a $K \times K$ kernel) or a tuple of sizes, e.g. `(3,)` for a `Conv1D`.

# %%
def my_conv_params(kernel_size, in_channels, filters):
    # BEGIN SOLUTION
    sizes = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return int(np.prod(sizes)) * in_channels * filters + filters
    # END SOLUTION


# %%
check.conv_params(my_conv_params)

# %%
layer = keras.layers.Conv2D(6, 5)
print("output:", layer.compute_output_shape((None, 32, 32, 3)), "| Keras counts",
      keras.Sequential([keras.Input((32, 32, 3)), layer]).count_params(), "parameters")

# %% [markdown]
# ## Spatial dimensions, padding, stride
# A 7×7 input with a 3×3 filter gives 5×5; padding $P = (K - 1)/2$ keeps the size ("same");
# stride 2 roughly halves it. (Lecture note 002 prints "W K + 1" and "P = (K 1) / 2": the minus
# signs were lost.)

# %%
for padding, stride in ((0, 1), (1, 1), (0, 2), ("same", 2)):
    print(f"7×7, 3×3 kernel, padding {padding!s:>4}, stride {stride}: "
          f"{arithmetic.conv_output_size(7, 3, stride=stride, padding=padding)}")

# %% [markdown]
# ## Nonlinearities between convolutions
# Two convolutions with nothing in between are one convolution with a bigger kernel: two 3×3
# become one 5×5. Without a nonlinearity, depth adds nothing.

# %%
rng = np.random.default_rng(0)
x, a, b = rng.normal(size=(12, 12)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
two = correlation.correlate(correlation.correlate(x, a), b)
one = correlation.correlate(x, structure.compose_kernels(a, b))
print("kernel", structure.compose_kernels(a, b).shape, "| max difference:", np.abs(two - one).max())
fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
for ax, (title, kernel) in zip(axes, {"a (3×3)": a, "then b (3×3)": b,
                                      "= one 5×5 kernel": structure.compose_kernels(a, b)}.items()):
    ax.imshow(kernel, cmap="RdBu_r"), ax.set_title(title), ax.set_xticks([]), ax.set_yticks([])
plt.show()

# %% [markdown]
# ## 1×1 convolution
# A 1×1 convolution changes the number of channels: the same dense layer applied at every
# position.
#
# ### Exercise 2: a 1×1 convolution
# Write `my_pointwise(x, weights, bias)` for an $(H, W, C_\text{in})$ map, `weights` of shape
# $(C_\text{in}, C_\text{out})$ and `bias` of shape $(C_\text{out},)$.

# %%
def my_pointwise(x, weights, bias):
    # BEGIN SOLUTION
    return x @ weights + bias
    # END SOLUTION


# %%
check.pointwise(my_pointwise)

# %% [markdown]
# ## Pooling
# Max pooling keeps the largest value of each block, mean pooling the average; both halve the
# map with a 2×2 window and stride 2, and have no parameters.

# %%
print("4×4 grid:\n", sampling.EXAMPLE_4X4)
print("max pooled:\n", sampling.max_pool(sampling.EXAMPLE_4X4))
print("mean pooled:\n", sampling.mean_pool(sampling.EXAMPLE_4X4))
print("28 -> pool 2 ->", arithmetic.pool_output_size(28, 2))

# %% [markdown]
# ## Putting it together: LeNet-5
# LeNet-5 (LeCun et al. 1998) on 32×32×1 inputs: conv 6@5×5 (tanh) → average pool 2 → conv
# 16@5×5 (tanh) → average pool 2 → flatten → dense 120 (tanh) → dense 84 (tanh) → dense 10
# (softmax). The package's version:

# %%
layer_table(get_model("lenet5"))

# %% [markdown]
# ### Exercise 3: build LeNet-5 from layers
# Write `build_lenet5()` returning a `keras.Model` with the same layers, output shapes and
# parameter counts (without calling `get_model`).

# %%
def build_lenet5():
    # BEGIN SOLUTION
    return keras.Sequential([
        keras.Input((32, 32, 1)),
        keras.layers.Conv2D(6, 5, activation="tanh"),
        keras.layers.AveragePooling2D(2),
        keras.layers.Conv2D(16, 5, activation="tanh"),
        keras.layers.AveragePooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(120, activation="tanh"),
        keras.layers.Dense(84, activation="tanh"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    # END SOLUTION


# %%
check.lenet5(build_lenet5)

# %% [markdown]
# ## Batch, layer and instance normalization
# All three compute $(x - \mu)/\sqrt{\sigma^2 + \epsilon}$ (then scale by $\gamma$ and shift by
# $\beta$); they differ in the axes the statistics run over, for an $(N, H, W, C)$ tensor:

# %%
print(normalization.AXES)
x = np.random.default_rng(2).normal(size=(8, 6, 6, 3)) * [1.0, 4.0, 0.5] + [0.0, 5.0, -2.0]
fig, axes = plt.subplots(1, 4, figsize=(13, 2.8), sharey=True)
for ax, (kind, values) in zip(axes, {"input": x, **{kind: normalization.normalize(x, kind)
                                                     for kind in normalization.AXES}}.items()):
    for channel in range(3):
        ax.hist(values[..., channel].ravel(), bins=30, alpha=0.5, label=f"channel {channel}")
    ax.set_title(kind)
axes[0].legend(fontsize=8); plt.show()

# %% [markdown]
# ### Exercise 4: batch and layer normalization
# Write `my_batch_norm(x)` (statistics per channel over the batch and the positions) and
# `my_layer_norm(x)` (per example over $H, W, C$: the lecture's "across the feature dimension"
# for images), with $\epsilon = 10^{-3}$, $\gamma = 1$, $\beta = 0$.

# %%
def my_batch_norm(x):
    # BEGIN SOLUTION
    mean, var = x.mean(axis=(0, 1, 2), keepdims=True), x.var(axis=(0, 1, 2), keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-3)
    # END SOLUTION


def my_layer_norm(x):
    # BEGIN SOLUTION
    mean, var = x.mean(axis=(1, 2, 3), keepdims=True), x.var(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-3)
    # END SOLUTION


# %%
check.normalizations(my_batch_norm, my_layer_norm)

# %% [markdown]
# At test time batch normalization uses the running averages it kept during training (of the
# mean and of the variance), so a prediction does not depend on the other images of the batch.
# Keras' `BatchNormalization` does the same:

# %%
x = np.random.default_rng(1).normal(2.0, 3.0, size=(64, 4, 4, 2))
mean, var = np.zeros(2), np.ones(2)
for _ in range(200):
    mean, var = normalization.update_moving_statistics(mean, var, x)
bn = keras.layers.BatchNormalization()
bn.build(x.shape)
bn.moving_mean.assign(mean), bn.moving_variance.assign(var)
ours = normalization.batch_norm_inference(x, mean, var)
print("moving mean", mean.round(3), "| max |ours - Keras| at test time:",
      np.abs(ours - np.asarray(bn(x.astype("float32"), training=False))).max())
