"""The figures students look at, drawn from the functions of this package.

Each `*_figure` function returns a matplotlib Figure (no pyplot state, Agg rendering);
`keras_cnn_course.plots.save` writes it. `kcc figures` (keras_cnn_course.lecture.commands) writes
them all.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from keras_cnn_course.lecture import filters, structure
from keras_cnn_course.lecture.correlation import correlate
from keras_cnn_course.lecture.receptive_field import gradient_support, layer_table, support_extent
from keras_cnn_course.lecture.sampling import max_pool


def _hide_unused(figure):
    """`figure` with the panels of its grid that show nothing hidden."""
    for ax in figure.axes:
        if not (ax.images or ax.lines):
            ax.set_visible(False)
    return figure


def _grid(rows, cols, size=2.2, title=None):
    figure = Figure(figsize=(cols * size, rows * size + (0.4 if title else 0)),
                    layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    if title:
        figure.suptitle(title)
    return figure, axes


def _show(ax, image, title, cmap="gray", symmetric=False):
    limit = np.abs(image).max() if symmetric else None
    ax.imshow(image, cmap="RdBu_r" if symmetric else cmap,
              vmin=-limit if symmetric else None, vmax=limit)
    ax.set_title(title, fontsize=8)


def sobel_figure(image):
    """The photo, its Sobel responses, and what the misprinted kernel of lecture note 001 does."""
    figure, axes = _grid(2, 3, size=2.6, title="Sobel filters (lecture note 001)")
    _show(axes[0, 0], image, "image")
    for ax, (name, response) in zip(axes.flat[1:], filters.sobel(image, "valid").items()):
        title = {"as printed": "lecture's 2nd kernel as printed\n(last row = first row)"}
        _show(ax, response, title.get(name, name), symmetric=name != "magnitude")
    return _hide_unused(figure)


def gabor_figure(image, wavelength=4.0, orientations=4):
    """Real Gabor kernels at several orientations and the magnitude of their complex responses."""
    figure, axes = _grid(2, orientations, size=2.4,
                         title=f"Gabor filters, λ = {wavelength:g} px (lecture note 001)")
    for col, theta in enumerate(np.arange(orientations) * np.pi / orientations):
        kernel = filters.gabor_kernel(wavelength, theta)
        _show(axes[0, col], kernel.real, f"θ = {np.degrees(theta):.0f}°", symmetric=True)
        response = np.hypot(correlate(image, kernel.real, "valid"),
                            correlate(image, kernel.imag, "valid"))
        _show(axes[1, col], response, "|response|", cmap="magma")
    return _hide_unused(figure)


def sliding_figure(positions=((0, 0), (0, 1), (0, 2), (3, 4))):
    """A 3×3 Sobel kernel sliding over a small image: window, dot product, output so far."""
    image = np.zeros((7, 7))
    image[1:6, 2:5] = 1.0  # a bright bar
    kernel = filters.SOBEL_X
    output = correlate(image, kernel, "valid")
    figure, axes = _grid(2, len(positions), size=2.4,
                         title="A 3×3 filter (Sobel d/dx) slides over the image: one dot product "
                               "per position")
    order = [(i, j) for i in range(output.shape[0]) for j in range(output.shape[1])]
    for col, (i, j) in enumerate(positions):
        axes[0, col].imshow(image, cmap="gray", vmin=0, vmax=1)
        axes[0, col].add_patch(Rectangle((j - 0.5, i - 0.5), 3, 3, fill=False, ec="red", lw=2))
        axes[0, col].set_title(f"window at ({i}, {j})", fontsize=8)
        done = np.full(output.shape, np.nan)
        for r, c in order[:order.index((i, j)) + 1]:
            done[r, c] = output[r, c]
        axes[1, col].imshow(done, cmap="RdBu_r", vmin=-4, vmax=4)
        axes[1, col].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2))
        axes[1, col].set_title(f"output ({i}, {j}) = {output[i, j]:g}", fontsize=8)
    return _hide_unused(figure)


RF_STACKS = {  # name: list of (kernel, stride, dilation)
    "one 3×3": [(3, 1, 1)], "two 3×3": [(3, 1, 1)] * 2, "three 3×3": [(3, 1, 1)] * 3,
    "3×3, 3×3 stride 2, 3×3": [(3, 1, 1), (3, 2, 1), (3, 1, 1)],
    "two 3×3 dilation 2": [(3, 1, 2)] * 2,
}


def rf_model(stack, size=19):
    """A linear stack of one-channel convolutions ('valid'), for receptive-field demos."""
    import keras

    layers = [keras.layers.Conv2D(1, k, strides=s, dilation_rate=d, name=f"conv{i + 1}")
              for i, (k, s, d) in enumerate(stack)]
    return keras.Sequential([keras.Input((size, size, 1)), *layers])


def receptive_field_figure(stacks=RF_STACKS):
    """The gradient support of one output unit, next to the layer table's receptive field."""
    figure, axes = _grid(1, len(stacks), size=2.4,
                         title="Receptive field of the centre output unit (gradient support)")
    for ax, (name, stack) in zip(axes[0], stacks.items()):
        model = rf_model(stack)
        mask = gradient_support(model, samples=1)
        (top, bottom), _ = support_extent(mask)
        table_rf = layer_table(model)["receptive field"].iloc[-1]
        ax.imshow(mask, cmap="Greens", vmin=0, vmax=1.3)
        ax.set_title(f"{name}\nmeasured {bottom - top + 1}, table {table_rf}", fontsize=8)
    return _hide_unused(figure)


def invariance_figure(image, factors=(2, 4), shifts=range(6)):
    """How many values stay put when the input moves, without and with max pooling."""
    feature = filters.sobel(image, "valid")["magnitude"]
    side = np.lcm.reduce(factors)
    feature = feature[:feature.shape[0] // side * side, :feature.shape[1] // side * side]
    figure = Figure(figsize=(11, 3.4), layout="constrained")
    axes = figure.subplots(1, 3)
    figure.suptitle("Max pooling gives partial invariance to small shifts (lecture note 004)")
    pooled = max_pool(feature, factors[0])
    moved = max_pool(structure.translate(feature, (0, 1)), factors[0])
    _show(axes[0], pooled, f"{factors[0]}×{factors[0]} max-pooled Sobel magnitude")
    _show(axes[1], moved == pooled, "unchanged after a 1-pixel shift (white)")
    for marker, factor in zip("so", factors):
        table = structure.max_pool_invariance(feature, shifts, factor)
        axes[2].plot(table["shift"], 100 * table["unchanged_pooled"], f"{marker}-",
                     label=f"after {factor}×{factor} max pooling")
    axes[2].plot(table["shift"], 100 * table["unchanged_map"], "^-", label="feature map")
    axes[2].set(xlabel="horizontal shift (pixels)", ylabel="values unchanged in place (%)")
    axes[2].legend(fontsize=8)
    for ax in axes[:2]:
        ax.set_xticks([]), ax.set_yticks([])
    return _hide_unused(figure)


def _conv_layers(model):
    import keras

    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer to visualise.")
    return convs


def feature_maps_figure(model, digit, note=""):
    """The activations of every Conv2D layer of `model` for one digit (28×28, values in [0, 1])."""
    import keras

    convs = _conv_layers(model)
    maps = keras.Model(model.inputs[0], [layer.output for layer in convs])(digit[None, ..., None])
    maps = maps if isinstance(maps, (list, tuple)) else [maps]
    cols = 10
    rows = [int(np.ceil(m.shape[-1] / cols)) for m in maps]
    figure, axes = _grid(1 + sum(rows), cols, size=1.1, title=f"Feature maps for one digit{note}")
    _show(axes[0, 0], digit, "input")
    row = 1
    for layer, fmap, n_rows in zip(convs, maps, rows):
        for k in range(fmap.shape[-1]):
            _show(axes[row + k // cols, k % cols], np.asarray(fmap[0, ..., k], np.float32),
                  f"{layer.name}:{k}", cmap="viridis")
        row += n_rows
    return _hide_unused(figure)


def first_layer_filters_figure(model, note=""):
    """The kernels of the first Conv2D layer (first input channel), one panel per filter."""
    kernel = np.asarray(_conv_layers(model)[0].kernel, np.float32)[..., 0, :]
    cols = 10
    figure, axes = _grid(int(np.ceil(kernel.shape[-1] / cols)), cols, size=1.1,
                         title=f"Learned first-layer filters{note}")
    for k in range(kernel.shape[-1]):
        _show(axes.flat[k], kernel[..., k], str(k), symmetric=True)
    return _hide_unused(figure)
