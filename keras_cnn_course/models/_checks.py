"""Argument checks shared by the model factories: fail early, name the argument, quote the value."""

import difflib
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


def input_shape(value, *, ndim, default):
    """Check an `input_shape` (without the batch axis): `ndim` entries, positive sizes or None."""
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


def classifier(*, include_top, pooling, num_classes):
    """The keras.applications head options."""
    if pooling not in POOLING_MODES:
        raise ValueError(f"`pooling` must be one of {POOLING_MODES}; received pooling={pooling!r}.")
    if include_top:
        positive_int("num_classes", num_classes)


def fits(size, needed, *, layer, why, input_shape):
    """Raise if a spatial `size` reaching `layer` is smaller than `needed`."""
    if size is not None and size < needed:
        raise ValueError(f"input_shape={tuple(input_shape)!r} is too small: layer '{layer}' "
                         f"receives size {size} but {why} (needs at least {needed}).")


def close_matches(name, names):
    """`name` is unknown: a sentence suggesting the nearest of `names`."""
    matches = difflib.get_close_matches(str(name), list(names), n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(matches)}?" if matches else ""
    return f"unknown model {name!r}.{hint} Known models: {', '.join(sorted(names))}."


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
