# %% [markdown]
# # 00 · Convolution, cross-correlation and backpropagation
# Lecture note 000: convolution vs cross-correlation and their identities, shift equivariance, the backward pass of a convolution layer and of max pooling, upsampling and the transposed convolution.
#
# Sections of lecture note 000 reached here: *The Convolution Operation*, *Convolution and
# Cross-Correlation Identities*, *Mathematical Derivation of a Convolutional Layer*, *Pooling
# Layers*, *FCNs and upsampling methods*, *Transposed Convolution*, *U-Net Architecture*.
# `docs/lecture.md` maps each to the function of `keras_cnn_course.lecture` used here.

# %%
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt

from keras_cnn_course.exercises import lecture000 as check
from keras_cnn_course.lecture import arithmetic, backprop, correlation, figures, sampling, structure

# %% [markdown]
# ## The convolution operation
#
# The lecture defines, for an image $I$ and a kernel $K$,
#
# $$(I * K)(i, j) = \sum_m \sum_n K(m, n)\, I(i - m, j - n) \qquad \text{(convolution)}$$
# $$(I \star K)(i, j) = \sum_m \sum_n K(m, n)\, I(i + m, j + n) \qquad \text{(cross-correlation)}$$
#
# Cross-correlation *slides the kernel over the image and takes dot products*: that is what every
# deep-learning "convolution" layer computes. The figure shows a 3×3 Sobel kernel sliding over a
# small image, one dot product per output position.

# %%
figures.sliding_figure()

# %% [markdown]
# ### Exercise 1: cross-correlation
# Write `my_correlate(image, kernel)`: the **valid** cross-correlation of a 2-D image with a 2-D
# kernel (output size $(H - K_h + 1) \times (W - K_w + 1)$), from the definition above. Loops over
# the output are fine.

# %%
def my_correlate(image, kernel):
    # BEGIN SOLUTION
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(kernel * image[i:i + kh, j:j + kw])
    return out
    # END SOLUTION


# %%
check.cross_correlation(my_correlate)

# %% [markdown]
# ### Exercise 2: true convolution
# The lecture states $I * K = I \star \mathrm{rot180}(K)$. Write `my_convolve(image, kernel)`, the
# valid true convolution. (You may use your `my_correlate`, or write it from the definition.)

# %%
def my_convolve(image, kernel):
    # BEGIN SOLUTION
    return my_correlate(image, kernel[::-1, ::-1])
    # END SOLUTION


# %%
check.convolution(my_convolve)

# %% [markdown]
# ### Exercise 3: which identities hold?
# On finite arrays the identities need a *mode*. For a 5×5 image $A$ and a 3×3 kernel $B$ in
# **valid** mode, which of these hold? Compute both sides with your functions (or
# `correlation.convolve`/`correlate`) before answering `True` or `False`.

# %%
A, B = np.random.default_rng(0).normal(size=(5, 5)), np.random.default_rng(1).normal(size=(3, 3))
# BEGIN SOLUTION: identities_hold = ...
identities_hold = {
    "A*B = A⋆rot180(B)": True,    # true convolution is correlation with the rotated kernel
    "A⋆B = rot180(B)*A": False,   # valid mode: the output is sized by the first argument
    "A*B = B*A": False,           # commutes only in "full" mode
    "A⋆B = B⋆A": False,           # correlation never commutes
}
# END SOLUTION

# %%
check.identities(identities_hold)

# %% [markdown]
# The package's table gives every identity in every mode: the largest |left − right| (NaN where
# the two sides do not even have the same shape). *I ∗ K = I ⋆ rot180(K)* holds in "full" and
# "valid" mode, and in "same" mode only for odd kernel sizes; *A ⋆ B = rot180(B) ∗ A* holds in
# "full" mode; convolution commutes in "full" mode, correlation does not.

# %%
correlation.identity_table(A, B).round(12)

# %%
correlation.identity_table(A, np.ones((2, 2))).round(12)  # an even kernel: "same" mode breaks

# %% [markdown]
# ## Shift equivariance
# Shifting the input shifts a convolution's output by the same amount: $f(t(x)) = t(f(x))$,
# away from the borders, where zero padding breaks it.

# %%
image = np.random.default_rng(2).normal(size=(16, 16))
edges = lambda x: correlation.correlate(x, np.array([[-1, 0, 1]] * 3, float), "same")
print("max |f(t(x)) - t(f(x))| inside the borders:",
      structure.equivariance_error(edges, image, shift=(2, 3), margin=5))

# %% [markdown]
# ## Backpropagation through a convolution layer
# For $z = x \star w + b$ (Keras' `Conv2D`, valid mode) and $\delta = \partial L / \partial z$:
# $\partial L/\partial b = \sum_{i,j} \delta_{i,j}$, and the other two gradients are a
# correlation and a convolution of $\delta$. The lecture writes its forward pass as a true
# convolution and then mixes the two conventions; `backprop` has both and its tests check them
# against `tf.GradientTape`. Here you derive the Keras one.
#
# ### Exercise 4: the backward pass
# Write `my_input_gradient(delta, w)` ($\delta^{l-1} = \partial L/\partial x$, same shape as $x$)
# and `my_kernel_gradient(x, delta)` ($\partial L/\partial w$, same shape as $w$). Hint: each
# output $z_{i,j}$ received $w_{m,n}\,x_{i+m,j+n}$; send $\delta_{i,j}$ back along the same
# products.

# %%
def my_input_gradient(delta, w):
    # BEGIN SOLUTION
    grad = np.zeros((delta.shape[0] + w.shape[0] - 1, delta.shape[1] + w.shape[1] - 1))
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            grad[i:i + w.shape[0], j:j + w.shape[1]] += delta[i, j] * w
    return grad
    # END SOLUTION


def my_kernel_gradient(x, delta):
    # BEGIN SOLUTION
    return my_correlate(x, delta)
    # END SOLUTION


# %%
check.conv_backward(my_input_gradient, my_kernel_gradient)

# %% [markdown]
# So with Keras' convention $\partial L/\partial w = x \star \delta$ and
# $\delta^{l-1} = \delta * w$ (a *full* convolution), with no rotation of $w$. The lecture's
# $\delta^{l-1} = \delta * \mathrm{rot180}(w)$ is right for its own forward pass (a true
# convolution), where it is the weight gradient that needs the rotation:

# %%
x, w = np.random.default_rng(3).normal(size=(6, 6)), np.random.default_rng(4).normal(size=(3, 3))
delta = np.random.default_rng(5).normal(size=(4, 4))
for convention in backprop.CONVENTIONS:
    print(f"{convention:>11}: ∂L/∂w[0, 0] = {backprop.kernel_gradient(x, delta, convention)[0, 0]:+.4f}"
          f"   δ^(l-1)[0, 0] = {backprop.input_gradient(delta, w, convention)[0, 0]:+.4f}")

# %% [markdown]
# ### Exercise 5: the gradient of max pooling
# Max pooling passes each upstream gradient only to the input that was the maximum of its block;
# the other inputs get zero. Write `my_max_pool_gradient(x, upstream)` for 2×2 pooling
# (`upstream` has half the height and width of `x`).

# %%
def my_max_pool_gradient(x, upstream):
    # BEGIN SOLUTION
    grad = np.zeros_like(x, dtype=float)
    for i in range(upstream.shape[0]):
        for j in range(upstream.shape[1]):
            block = x[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            m, n = np.unravel_index(np.argmax(block), block.shape)
            grad[2 * i + m, 2 * j + n] = upstream[i, j]
    return grad
    # END SOLUTION


# %%
check.max_pool_gradient(my_max_pool_gradient)

# %% [markdown]
# ## Upsampling: FCNs and U-Net
# A fully convolutional network goes down to a coarse map and back up. The lecture's upsampling
# methods on the 4×4 example: nearest neighbour, bed of nails, and max unpooling with the
# *switches* recorded by max pooling.

# %%
pooled, switches = sampling.max_pool_with_switches(sampling.EXAMPLE_4X4)
panels = {"input": sampling.EXAMPLE_4X4, "max pooled": pooled,
          "nearest": sampling.nearest_upsample(pooled), "bed of nails": sampling.bed_of_nails(pooled),
          "max unpooling": sampling.max_unpool(pooled, switches)}
fig, axes = plt.subplots(1, len(panels), figsize=(12, 2.6))
for ax, (name, grid) in zip(axes, panels.items()):
    ax.imshow(grid, cmap="viridis"), ax.set_title(name), ax.set_xticks([]), ax.set_yticks([])
    for (r, c), v in np.ndenumerate(grid):
        ax.text(c, r, f"{v:g}", ha="center", va="center", color="w")
plt.show()

# %% [markdown]
# ### Exercise 6: the output size of a transposed convolution
# The lecture gives $H_\text{out} = s(H_\text{in} - 1) + k - 2p$. Write
# `my_transposed_size(size, kernel_size, stride, padding)`.

# %%
def my_transposed_size(size, kernel_size, stride, padding):
    # BEGIN SOLUTION
    return stride * (size - 1) + kernel_size - 2 * padding
    # END SOLUTION


# %%
check.transposed_size(my_transposed_size)

# %% [markdown]
# The mechanism: insert $s - 1$ zeros between the inputs, then a full *true* convolution. It
# equals multiplying by the transposed matrix of the downsampling convolution:

# %%
kernel, x = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 2.0])
print("zeros inserted, then convolved:", structure.transposed_conv1d(x, kernel, stride=2))
size = arithmetic.transposed_conv_output_size(3, 3, stride=2)
print("the transposed matrix:         ", structure.transposed_conv1d_matrix(kernel, size, stride=2) @ x)

# %% [markdown]
# The U-Net of the lecture puts these pieces together: contracting convolutions and max pooling,
# then transposed convolutions back up, with skip connections. Its layers, with output shapes
# and receptive fields:

# %%
from keras_cnn_course.lecture import receptive_field
from keras_cnn_course.models import get_model

unet = get_model("unet_same", input_shape=(64, 64, 1), filters=8, depth=2)  # a small one
receptive_field.layer_table(unet).tail(8)
