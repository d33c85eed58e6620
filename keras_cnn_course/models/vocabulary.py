"""keras.applications' arguments, spoken by every factory with their meanings.

    include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name

`@factory` gives a factory keras.applications' keyword handling: `num_classes` (this package's
former name) still works for `classes`, with a DeprecationWarning; an unknown keyword is a
TypeError naming the valid ones, closest first; `weights` is checked before anything is built or
downloaded. `model_input` and `load_weights` are the shared first and last steps of a build.
"""

import difflib
import functools
import inspect
import os
import warnings

from keras_cnn_course.models import registry


def factory(function):
    """Wrap the model factory `function`, registered under its own name (see the module)."""
    signature = inspect.signature(function)
    valid = list(signature.parameters)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if "num_classes" in kwargs and "classes" in valid:
            if "classes" in kwargs:
                raise TypeError(f"{function.__name__}() got both `classes` and its deprecated "
                                "name `num_classes`; pass only `classes`.")
            warnings.warn("`num_classes` is deprecated: pass `classes` (keras.applications' "
                          "name).", DeprecationWarning, stacklevel=2)
            kwargs["classes"] = kwargs.pop("num_classes")
        for keyword in kwargs:
            if keyword not in valid:
                raise TypeError(unknown_keyword(function.__name__, keyword, valid))
        bound = signature.bind(*args, **kwargs)
        if "weights" in valid:
            check_weights(function.__name__, bound.arguments.get("weights"))
        return function(*args, **kwargs)

    return wrapper


def unknown_keyword(name, keyword, valid):
    """One line: the unknown `keyword` of factory `name`, the closest valid ones, all of them."""
    matches = difflib.get_close_matches(keyword, valid, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, matches))}?" if matches else ""
    return (f"{name}() got an unexpected keyword argument {keyword!r}.{hint} "
            f"Valid arguments: {', '.join(valid)}.")


def check_weights(network, weights):
    """`weights` must be None, "imagenet" where `network` has published weights, or a file."""
    available = registry.ENTRIES[network].weights if network in registry.ENTRIES else ()
    if weights is None or weights in available:
        return
    if weights == "imagenet":
        published = ", ".join(registry.list_models(weights="imagenet"))
        raise ValueError(f"weights='imagenet': {network} has no published ImageNet weights "
                         f"(these networks have: {published}); use weights=None or the path of "
                         f"a weights file saved from {network}.")
    accepted = f"None, {', '.join(map(repr, available))}, " if available else "None or "
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(f"`weights` must be {accepted}the path of a `.weights.h5` file saved "
                         f"from {network}; received weights={weights!r}.")
    if not os.path.isfile(weights):
        raise ValueError(f"weights={str(weights)!r}: no such file; `weights` must be {accepted}"
                         f"the path of a `.weights.h5` file saved from {network}.")


def model_input(input_tensor, input_shape):
    """(the model's inputs, the first tensor of the body), as keras.applications makes them:
    a new `input_layer` of `input_shape`, or `input_tensor` (a Keras tensor, e.g. another
    model's output, or a backend tensor, wrapped in an Input)."""
    import keras

    if input_tensor is None:
        inputs = keras.Input(shape=input_shape, name="input_layer")
        return inputs, inputs
    if not keras.backend.is_keras_tensor(input_tensor):
        inputs = keras.Input(tensor=input_tensor, shape=input_shape, name="input_layer")
        return inputs, inputs
    return keras.utils.get_source_inputs(input_tensor), input_tensor


def load_weights(model, weights, network, fix=None):
    """Load the weights file `weights` (a path) into `model`, built by the factory `network`;
    a file that does not fit is one ValueError naming it and what is accepted."""
    if weights is None:
        return model
    try:
        model.load_weights(weights)
    except Exception as error:  # h5py's and Keras' many kinds; one line, not a traceback
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        fix = fix or (f"it must be a whole `.weights.h5` file saved from {network} built with "
                      "the same include_top, classes and input shape.")
        raise ValueError(f"weights={str(weights)!r}: cannot be loaded into {network} "
                         f"({reason}); {fix}") from None
    return model
