"""Argument checks shared by the model factories: fail early, name the argument, quote the value."""

import numbers

POOLING_MODES = (None, "avg", "max")


def positive_int(name, value):
    """Return `value` if it is a positive integer, else raise ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer; received {name}={value!r}.")
    return value


def positive_ints(name, values):
    """Each entry of a tuple of sizes (filters, units, ...) must be a positive integer."""
    if isinstance(values, int) or not values:
        raise ValueError(f"`{name}` must be a non-empty sequence of positive integers; "
                         f"received {name}={values!r}.")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"every entry of `{name}` must be a positive integer; "
                             f"received {name}={values!r}.")
    return tuple(values)


def rate(name, value):
    """A probability in [0, 1), e.g. a dropout rate."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a number in [0, 1); received {name}={value!r}.")
    return float(value)


def input_shape(value, *, ndim, default, input_tensor=None):
    """Check an `input_shape` (without the batch axis): `ndim` entries, positive sizes or None.

    With an `input_tensor` and no `input_shape`, the tensor's shape is the input shape."""
    if input_tensor is not None:
        tensor_shape = getattr(input_tensor, "shape", None)
        if tensor_shape is None:
            raise ValueError("`input_tensor` must be a tensor (e.g. keras.Input(...) or a layer's "
                             f"output); received input_tensor={input_tensor!r}.")
        tensor_shape = tuple(tensor_shape)[1:]
        if value is not None and tuple(value) != tensor_shape:
            raise ValueError(f"input_shape={value!r} does not match input_tensor's shape "
                             f"{tensor_shape} (without the batch axis); pass one of them.")
        value = tensor_shape
    if value is None:
        return tuple(default)
    try:
        shape = tuple(value)
    except TypeError:
        shape = None
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if shape is None or len(shape) not in allowed:
        raise ValueError(f"`input_shape` must have {' or '.join(map(str, allowed))} entries "
                         "(no batch axis), "
                         f"e.g. {tuple(default)}; received input_shape={value!r}.")
    for size in shape:
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral)
                                 or size <= 0):
            raise ValueError("`input_shape` entries must be positive integers (or None for a "
                             f"variable size); received input_shape={value!r}.")
    return tuple(None if size is None else int(size) for size in shape)


def classifier(*, include_top, pooling, classes):
    """The keras.applications head options."""
    if pooling not in POOLING_MODES:
        raise ValueError(f"`pooling` must be one of {POOLING_MODES}; received pooling={pooling!r}.")
    if include_top not in (True, False):
        raise ValueError("`include_top` must be True or False; "
                         f"received include_top={include_top!r}.")
    if include_top:
        positive_int("classes", classes)


def pretrained_top(*, weights, include_top, classes, classifier_activation, shape, default):
    """keras.applications' rules for the ImageNet classifier: 1000 classes, softmax (or None
    for logits), the input size it was trained at."""
    if weights != "imagenet" or not include_top:
        return
    if classes != 1000:
        raise ValueError("With `weights='imagenet'` and `include_top=True`, `classes` must be "
                         f"1000 (the ImageNet classes); received classes={classes!r}.")
    if classifier_activation not in (None, "softmax"):
        raise ValueError("With `weights='imagenet'`, `classifier_activation` must be 'softmax' or "
                         f"None; received classifier_activation={classifier_activation!r}.")
    if tuple(shape) != tuple(default):
        raise ValueError("With `weights='imagenet'` and `include_top=True`, `input_shape` must "
                         f"be {tuple(default)}; received input_shape={tuple(shape)!r}.")


def fits(size, needed, *, layer, why, input_shape):
    """Raise if a spatial `size` reaching `layer` is smaller than `needed`."""
    if size is not None and size < needed:
        raise ValueError(f"input_shape={tuple(input_shape)!r} is too small: layer '{layer}' "
                         f"receives size {size} but {why} (needs at least {needed}).")


def spatial_walk(input_shape, steps, quote=None):
    """Follow the spatial size of `input_shape` (channels last) through `steps`, raise if too small.

    `steps` is a list of `(layer_name, window, stride, padding)`, e.g. ("pool1", 2, 2, "valid");
    padding is "valid", "same", or an int p (p zeros each side, then 'valid').
    Returns the final spatial sizes (None stays None). Errors quote `quote` (default input_shape).
    """
    sizes = list(input_shape[:-1])
    for layer, window, stride, padding in steps:
        for axis, size in enumerate(sizes):
            if size is None:
                continue
            if isinstance(padding, int):
                size = sizes[axis] = size + 2 * padding
            if padding != "same":
                fits(size, window, layer=layer, input_shape=quote or input_shape,
                     why=f"its {window}-wide window does not fit")
                sizes[axis] = (size - window) // stride + 1
            else:
                sizes[axis] = -(-size // stride)
    return sizes
