# %% [markdown]
# # 03 · 1-D CNNs, dilation, downsampling and upsampling
# Lecture note 004 (after Prince and Nielsen): invariance and equivariance, a convolution as a sparse weight-tied matrix, stride, dilation, channels, receptive fields, downsampling and upsampling on a 4×4 grid, the transposed convolution as the transposed matrix, 1×1 convolutions.
#
# Sections of lecture note 004 reached here: *Invariance and equivariance*, *CNNs for 1D
# inputs* (stride, kernel size, dilation), *Convolutional Layers* as a special case of fully
# connected layers, *Channels*, *Receptive fields*, *CNNs for 2D inputs*, *Downsampling*,
# *Upsampling*, *Changing the number of channels*. Its MNIST sections are notebooks 04 (Nielsen)
# and 05 (MNIST-1D).

# %%
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import keras

from keras_cnn_course.exercises import lecture004 as check
from keras_cnn_course.lecture import arithmetic, figures, receptive_field, sampling, structure

# %% [markdown]
# ## Invariance and equivariance
# $f$ is *equivariant* to a translation $t$ when $f(t(x)) = t(f(x))$ and *invariant* when
# $f(t(x)) = f(x)$. A convolution is equivariant (away from the borders); global max pooling is
# invariant.

# %%
x = np.zeros((20, 20)); x[5:9, 6:8] = 1.0
conv = lambda image: np.asarray(keras.layers.Conv2D(1, 3, padding="same", kernel_initializer="ones")(image[None, ..., None]))[0, ..., 0]
print("convolution, max |f(t(x)) - t(f(x))|:", structure.equivariance_error(conv, x, (3, 4), margin=1))
print("global max pooling, f(x) vs f(t(x)):", x.max(), structure.translate(x, (3, 4)).max())

# %% [markdown]
# ## CNNs for 1-D inputs: the convolution as a matrix
# Lecture note 004 writes $z_i = \omega_1 x_{i-1} + \omega_2 x_i + \omega_3 x_{i+1}$ (a
# cross-correlation, as in every deep-learning library). Written as $z = \Omega x$, the matrix
# $\Omega$ is mostly zero, and its nonzero entries repeat along the diagonals: 3 weights instead
# of $D^2$.
#
# ### Exercise 1: the convolution matrix
# Write `my_conv1d_matrix(kernel, length, stride, padding)`: the matrix $\Omega$ with
# $\Omega x$ = `Conv1D` of a length-`length` input with `padding` zeros on each side. Row $i$
# holds the kernel starting at input position $i \cdot s - p$ (entries on the padding are
# dropped).

# %%
def my_conv1d_matrix(kernel, length, stride, padding):
    # BEGIN SOLUTION
    rows = (length + 2 * padding - len(kernel)) // stride + 1
    matrix = np.zeros((rows, length))
    for i in range(rows):
        for m, weight in enumerate(kernel):
            column = i * stride - padding + m
            if 0 <= column < length:
                matrix[i, column] = weight
    return matrix
    # END SOLUTION


# %%
check.conv1d_matrix(my_conv1d_matrix)

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, (title, matrix) in zip(axes, {
        "kernel 3, stride 1, padding 1": structure.conv1d_matrix([1, 2, 3], 8, 1, 1),
        "kernel 3, stride 2, padding 1": structure.conv1d_matrix([1, 2, 3], 8, 2, 1),
        "its transpose: upsampling": structure.transposed_conv1d_matrix([1, 2, 3], 8, 2, 1)}.items()):
    ax.imshow(matrix, cmap="Greens"), ax.set_title(title)
plt.show()

# %% [markdown]
# ## Dilated (atrous) convolution
# Dilation spreads the same weights over a wider span, $d(K - 1) + 1$: the receptive field grows
# without more parameters (fewer than an undilated kernel of the same span).
#
# ### Exercise 2: a dilated kernel
# Write `my_dilate(kernel, rate)`: a 2-D kernel with `rate - 1` zeros between its entries.

# %%
def my_dilate(kernel, rate):
    # BEGIN SOLUTION
    out = np.zeros((rate * (kernel.shape[0] - 1) + 1, rate * (kernel.shape[1] - 1) + 1))
    out[::rate, ::rate] = kernel
    return out
    # END SOLUTION


# %%
check.dilate(my_dilate)

# %% [markdown]
# ## Channels and receptive fields
# A layer with $C_i$ input and $C_o$ output channels and kernel $K$ has $C_i C_o K$ weights
# (1-D) or $C_i C_o K^2$ (2-D), and $C_o$ biases. Stacking kernel-3 layers, a unit sees 3, 5,
# 7... inputs, and eventually the whole input; strides and dilation make it grow faster:

# %%
print("1-D, 3 -> 10 channels, kernel 3:", arithmetic.conv_params((3,), 3, 10), "| 2-D:", arithmetic.conv_params(3, 3, 10))
stack = keras.Sequential([keras.Input((40, 1))] + [keras.layers.Conv1D(1, 3, name=f"conv{i}") for i in range(1, 5)])
receptive_field.layer_table(stack)

# %%
figures.receptive_field_figure()

# %% [markdown]
# ## Downsampling
# Three ways to halve a 4×4 grid: subsampling (keep every second value), max pooling and mean
# pooling.
#
# ### Exercise 3: downsampling by 2
# Write `my_subsample(x)`, `my_max_pool(x)` and `my_mean_pool(x)` for an $(H, W)$ grid with even
# $H$ and $W$.

# %%
def my_subsample(x):
    # BEGIN SOLUTION
    return x[::2, ::2]
    # END SOLUTION


def my_max_pool(x):
    # BEGIN SOLUTION
    return x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2).max(axis=(1, 3))
    # END SOLUTION


def my_mean_pool(x):
    # BEGIN SOLUTION
    return x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2).mean(axis=(1, 3))
    # END SOLUTION


# %%
check.downsampling(my_subsample, my_max_pool, my_mean_pool)

# %% [markdown]
# "If the input is shifted by one pixel, many of these maximum values remain the same":

# %%
from keras_cnn_course.lecture import filters

figures.invariance_figure(filters.sample_image())

# %% [markdown]
# ## Upsampling
# Duplicating each value (nearest), max unpooling (each value goes back where its maximum came
# from, zeros elsewhere) and bilinear interpolation.
#
# ### Exercise 4: max unpooling
# Write `my_max_unpool(pooled, switches)`: `switches` is the boolean mask (the input's shape)
# that is True where each 2×2 block's maximum was.

# %%
def my_max_unpool(pooled, switches):
    # BEGIN SOLUTION
    return np.repeat(np.repeat(pooled, 2, axis=0), 2, axis=1) * switches
    # END SOLUTION


# %%
check.max_unpool(my_max_unpool)

# %%
pooled, switches = sampling.max_pool_with_switches(sampling.EXAMPLE_4X4)
panels = {"pooled": pooled, "nearest": sampling.nearest_upsample(pooled),
          "max unpooling": sampling.max_unpool(pooled, switches),
          "bilinear": sampling.bilinear_upsample(pooled)}
fig, axes = plt.subplots(1, 4, figsize=(11, 2.8))
for ax, (name, grid) in zip(axes, panels.items()):
    ax.imshow(grid, cmap="viridis"), ax.set_title(name), ax.set_xticks([]), ax.set_yticks([])
plt.show()

# %% [markdown]
# ## The transposed convolution is the transposed matrix
# Upsampling by a learned kernel: multiply by $\Omega^T$. Keras' `Conv1DTranspose` computes
# exactly that:

# %%
kernel, x = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 2.0, 0.5])
layer = keras.layers.Conv1DTranspose(1, 3, strides=2, use_bias=False)
layer.build((None, 4, 1)); layer.set_weights([kernel[:, None, None]])
keras_out = np.asarray(layer(x[None, :, None]))[0, :, 0]
matrix = structure.transposed_conv1d_matrix(kernel, len(keras_out), stride=2)
print("Conv1DTranspose:", keras_out, "\nΩᵀ x:          ", matrix @ x)

# %% [markdown]
# ## Changing the number of channels: 1×1 convolution
# A 1×1 convolution is one dense layer applied at every position:

# %%
maps = np.random.default_rng(0).normal(size=(5, 5, 8))
weights = np.random.default_rng(1).normal(size=(8, 3))
one_by_one = keras.layers.Conv2D(3, 1, use_bias=False)
one_by_one.build((None, 5, 5, 8)); one_by_one.set_weights([weights[None, None]])
print("max |Conv2D 1×1 - dense at every position|:",
      np.abs(np.asarray(one_by_one(maps[None].astype("float32")))[0] - structure.pointwise_dense(maps, weights)).max())
