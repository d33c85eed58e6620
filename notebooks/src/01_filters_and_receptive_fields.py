# %% [markdown]
# # 01 · Filters, output sizes and receptive fields
# Lecture notes 001 and 003: Sobel and Gabor filters on a real photo, the output-size formula, parameter sharing (AlexNet's conv1 vs a dense layer), receptive fields growing layer by layer, small filters, max-pooling invariance and the feature maps of a trained net.
#
# Sections reached here. Lecture note 001: *Sobel filters*, *Gabor filters*, *Convolution
# Kernels / Convolution Layer*, *Parameters Settings*, *Convolutional layer vs fully connected
# layer*, *Receptive Field*, *Power of Small Filters*, *Feature Visualization*, *Pooling Layer /
# Max Pooling*, *Down-sampling vs Strided Convolution* (its *Deconvolutional Layers, Unpooling*
# are in notebooks 00 and 03). Lecture note 003: *Kernels, stride, zero-padding*, *"output is
# high where the image resembles the filter"*, *AlexNet conv1*, *Pooling*.

# %%
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import keras

from keras_cnn_course import data
from keras_cnn_course.exercises import lecture001 as check, short_mode
from keras_cnn_course.lecture import arithmetic, correlation, figures, filters, receptive_field, sampling, structure
from keras_cnn_course.models import get_model
from keras_cnn_course.training import Recipe, fit

SHORT = short_mode()  # KCC_NOTEBOOK_SHORT=1: tiny data, seconds
image = filters.sample_image()  # a real photo (Grace Hopper), grey levels in [0, 1]

# %% [markdown]
# ## Sobel filters
# A 3×3 kernel that takes a derivative: $G_x$ responds to vertical edges, $G_y$ to horizontal
# ones. Lecture note 001 prints $G_y$ with its last row equal to its first (−1 −2 −1): that
# kernel sums to −8 and responds to flat regions (the last panel).
#
# ### Exercise 1: the vertical Sobel kernel
# Write the corrected $G_y$ as a 3×3 array (rows top to bottom, as `filters.SOBEL_X` is
# written: `[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`).

# %%
# BEGIN SOLUTION: sobel_y = ...
sobel_y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
# END SOLUTION

# %%
check.sobel_y(sobel_y)

# %%
figures.sobel_figure(image)

# %% [markdown]
# ## Gabor filters: "the output is high where the image resembles the filter"
# A Gabor kernel is a grating under a Gaussian envelope. Its response (lecture note 003) is large
# where the photo has stripes of the same orientation and wavelength.

# %%
figures.gabor_figure(image)

# %% [markdown]
# ## The convolution layer slides the kernel and takes dot products
# Keras' `Conv2D` computes exactly `correlation.correlate`, the cross-correlation, not the
# true convolution:

# %%
kernel = filters.SOBEL_X
layer = keras.layers.Conv2D(1, 3, use_bias=False)
layer.build((None, *image.shape, 1))
layer.set_weights([kernel[:, :, None, None]])
keras_output = np.asarray(layer(image[None, :, :, None].astype("float32")))[0, :, :, 0]
print("max |Conv2D - correlate| :", np.abs(keras_output - correlation.correlate(image, kernel)).max())
print("max |Conv2D - convolve|  :", np.abs(keras_output - correlation.convolve(image, kernel)).max())

# %% [markdown]
# ## Parameters settings: $W_2 = (W_1 - F + 2P)/S + 1$
# ### Exercise 2: the output size
# Write `my_output_size(W, F, S, P)`: the width of a convolution's output for an input of
# width $W$, kernel $F$, stride $S$ and padding $P$. When $S$ does not divide $W - F + 2P$, the
# last partial window is dropped (as Keras does).

# %%
def my_output_size(W, F, S, P):
    # BEGIN SOLUTION
    return (W - F + 2 * P) // S + 1
    # END SOLUTION


# %%
check.output_size(my_output_size)

# %% [markdown]
# ## Convolutional vs fully connected: AlexNet's conv1 (lecture note 003)
# AlexNet's first layer maps a 227×227×3 image to 55×55×96 with 96 filters of 11×11, stride 4.
#
# ### Exercise 3: count the parameters by hand
# How many parameters (weights and biases) does that convolution have? And a fully connected
# layer with the same input and output sizes?

# %%
# BEGIN SOLUTION: conv1_params, dense_params = ..., ...
conv1_params = 11 * 11 * 3 * 96 + 96
dense_params = (227 * 227 * 3) * (55 * 55 * 96) + 55 * 55 * 96
# END SOLUTION

# %%
check.alexnet_conv1(conv1_params, dense_params)

# %% [markdown]
# Locality and parameter sharing: as a matrix, a convolution is a fully connected layer whose
# matrix is mostly zero, with the same few weights repeated along the diagonals.

# %%
plt.imshow(structure.conv1d_matrix([1.0, 2.0, 3.0], length=12), cmap="Greens")
plt.title("a 1-D convolution (kernel 1 2 3) as a 10×12 matrix"); plt.show()

# %% [markdown]
# ## Receptive field
# Units of deeper layers "can be indirectly connected to all or most of the input image". Each
# layer of kernel $k$ adds $(k - 1)$ times the *jump* (the product of the strides below it) to
# the receptive field: two 3×3 layers see 5×5, three see 7×7.
#
# ### Exercise 4: receptive field by hand
# Write `my_receptive_field(layers)` for a list of `(kernel_size, stride)` layers, e.g.
# `[(3, 1), (3, 2), (3, 1)]`.

# %%
def my_receptive_field(layers):
    # BEGIN SOLUTION
    field, jump = 1, 1
    for kernel_size, stride in layers:
        field += (kernel_size - 1) * jump
        jump *= stride
    return field
    # END SOLUTION


# %%
check.receptive_field(my_receptive_field)

# %% [markdown]
# The package measures the receptive field by differentiation too: the input pixels where the
# centre output unit's gradient is nonzero. Watch it grow layer by layer, faster after a stride,
# and with dilation:

# %%
figures.receptive_field_figure()

# %% [markdown]
# ## The power of small filters
# Three stacked 3×3 convolutions see 7×7 like one 7×7 convolution, with nonlinearities between
# them and fewer weights: $27C^2$ against $49C^2$.

# %%
arithmetic.small_filter_weights(channels=64)

# %% [markdown]
# ## Pooling: partial invariance; down-sampling vs strided convolution
# After max pooling many values stay in place when the input moves by a pixel; the feature map
# itself changes everywhere. And a stride-2 convolution is the stride-1 convolution with every
# second value kept:

# %%
figures.invariance_figure(image)

# %%
stride_one = correlation.correlate(image, kernel)
stride_one = stride_one[:stride_one.shape[0] // 2 * 2, :stride_one.shape[1] // 2 * 2]
strided_layer = keras.layers.Conv2D(1, 3, strides=2, use_bias=False)
strided_layer.build((None, *image.shape, 1))
strided_layer.set_weights([kernel[:, :, None, None]])
strided = np.asarray(strided_layer(image[None, :, :, None].astype("float32")))[0, :, :, 0]
rows, cols = stride_one.shape[0] // 2, stride_one.shape[1] // 2
print("max |Conv2D(strides=2) - subsample(stride-1 output)|:",
      np.abs(strided[:rows, :cols] - sampling.subsample(stride_one)).max())

# %% [markdown]
# ## Feature visualization
# What does a trained network compute? Nielsen's one conv-pool network (ReLU), trained briefly
# on MNIST with the package's training engine; then its 20 learned 5×5 filters and the 20
# feature maps of one digit. Many filters have become edge and stroke detectors, like Sobel's.

# %%
splits = data.load_mnist()
(x_train, y_train), (x_test, y_test) = splits.train, splits.test
n_train = 500 if SHORT else 10_000
result = fit(lambda: get_model("nielsen_basic_conv", activation="relu"),
             Recipe(optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=1),
             (x_train[:n_train, ..., None] / 255.0, y_train[:n_train]),
             test=(x_test[:1000, ..., None] / 255.0, y_test[:1000]), verbose=0)
print(f"trained on {n_train:,} images: test accuracy {result.final['test_accuracy']:.2%}")

# %%
figures.first_layer_filters_figure(result.model)

# %%
figures.feature_maps_figure(result.model, x_test[0] / 255.0)
