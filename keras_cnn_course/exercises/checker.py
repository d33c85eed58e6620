"""What every exercise check shares: call the student's answer, compare it with the package's own
oracle, and say in one line what is wrong without giving the answer away.

A check prints "✓ ..." when the answer is right and raises `ExerciseError` (one line: the
shape, the value at an index, the parameter count of a layer...) when it is not.
"""

import os

import numpy as np


class ExerciseError(AssertionError):
    """An answer that does not match the oracle; the message says where."""


def short_mode():
    """True when KCC_NOTEBOOK_SHORT=1: the notebooks shrink their data and epochs (tests)."""
    return os.environ.get("KCC_NOTEBOOK_SHORT", "") == "1"


def passed(exercise, detail=""):
    print(f"✓ {exercise}: correct" + (f" ({detail})." if detail else "."))


def fail(exercise, message):
    raise ExerciseError(f"{exercise}: {message}")


def callable_answer(exercise, answer, name):
    if answer is ... or answer is None:
        fail(exercise, f"`{name}` is not written yet (received {answer!r}); define the function.")
    if not callable(answer):
        fail(exercise, f"`{name}` must be a function; received {a_type(answer)}.")
    return answer


def call(exercise, function, *args, **kwargs):
    """function(*args), with what it raised turned into the exercise's one-line complaint."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        fail(exercise, f"`{function.__name__}` is not written yet (it raises "
                       f"NotImplementedError); replace the stub with your code.")
    except ExerciseError:
        raise
    except Exception as error:  # a student's bug, reported in one line with the inputs' shapes
        shapes = ", ".join(str(np.shape(a)) for a in args if isinstance(a, np.ndarray))
        where = f" on inputs of shapes {shapes}" if shapes else ""
        fail(exercise, f"`{function.__name__}` raised {type(error).__name__}: {error}{where}.")


def number_answer(exercise, answer, name):
    if answer is ... or answer is None:
        fail(exercise, f"`{name}` is not filled in yet (received {answer!r}).")
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        fail(exercise, f"`{name}` must be a number; received {a_type(answer)}.")
    return answer


def compare_number(exercise, name, got, expected, case=""):
    """A count computed by hand: says too large or too small, never the expected value."""
    got = number_answer(exercise, got, name)
    if got != expected:
        side = "too large" if got > expected else "too small"
        fail(exercise, f"`{name}`{' ' + case if case else ''} = {got:,} is {side}.")


def compare_returned(exercise, case, got, expected):
    """A count a student's function returned for `case` (its inputs, as text): says too large
    or too small, never the expected value."""
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        fail(exercise, f"for {case} your function returns {a_type(got)}; return a number.")
    if got != expected:
        fail(exercise, f"for {case} your function returns {got!r}, which is "
                       f"{'too large' if got > expected else 'too small'}.")


def a_type(value):
    """'a list', 'an int': the article and the type name of `value`."""
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def compare_array(exercise, got, expected, case="", atol=1e-6):
    """got vs expected: the type, then the shape, then the first index where the values differ."""
    prefix = f"{case}: " if case else ""
    if got is None or got is ...:
        fail(exercise, f"{prefix}your function returned {got!r}; return an array.")
    if isinstance(got, (str, dict)) or not hasattr(np.asarray(got, dtype=object), "shape"):
        fail(exercise, f"{prefix}expected an array; received {a_type(got)}.")
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        fail(exercise, f"{prefix}expected an array of numbers; received "
                       f"{type(got).__name__} that is not one.")
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        fail(exercise, f"{prefix}the result has shape {got.shape}; expected shape "
                       f"{expected.shape}.")
    wrong = ~np.isclose(got, expected, atol=atol, rtol=1e-6)
    if wrong.any():
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        fail(exercise, f"{prefix}{int(wrong.sum())} of {got.size} values differ; at index "
                       f"{index} you have {got[index]:.6g}, expected {expected[index]:.6g}.")


def random_arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).round(2) for shape in shapes]


def model_answer(exercise, build, name):
    """Call a model-building function and insist on a keras.Model."""
    import keras

    model = call(exercise, callable_answer(exercise, build, name))
    if not isinstance(model, keras.Model):
        fail(exercise, f"`{name}()` must return a keras.Model; received {a_type(model)}.")
    try:
        model.input_shape, model.output_shape
    except (AttributeError, ValueError):
        fail(exercise, f"`{name}()` returned a model without a defined input shape; start it "
                       f"with keras.Input(shape).")
    return model


def weighted_layers(model):
    """(class name, output shape, parameters) of every layer that has weights, in order."""
    return [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
            for layer in model.layers if layer.weights]


def compare_models(exercise, model, reference):
    """Same input and output shapes, then the same layers with weights, layer by layer: kind,
    output shape and parameter count."""
    if tuple(model.input_shape[1:]) != tuple(reference.input_shape[1:]):
        fail(exercise, f"the input shape is {tuple(model.input_shape[1:])}; expected "
                       f"{tuple(reference.input_shape[1:])}.")
    ours, theirs = weighted_layers(model), weighted_layers(reference)
    for number, (got, expected) in enumerate(zip(ours, theirs), start=1):
        if got != expected:
            fail(exercise, f"layer with weights no. {number} is {got[0]} with output "
                           f"{got[1]} and {got[2]:,} parameters; expected {expected[0]} with "
                           f"output {expected[1]} and {expected[2]:,} parameters.")
    if len(ours) != len(theirs):
        fail(exercise, f"your model has {len(ours)} layers with weights; expected "
                       f"{len(theirs)}.")
    if tuple(model.output_shape[1:]) != tuple(reference.output_shape[1:]):
        fail(exercise, f"the output shape is {tuple(model.output_shape[1:])}; expected "
                       f"{tuple(reference.output_shape[1:])}.")
    return model.count_params()
