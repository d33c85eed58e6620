"""argparse types for every command line (`kcc` and the reproductions).

Each refuses a bad value at parse time: argparse then exits with code 2 and a message naming the
option, the value received and the accepted range, e.g.
`error: argument --seeds: must be an integer >= 1, got '0'`.
"""

import argparse
import functools
import math


def argument_type(check):
    """An argparse type from `check(text)`, which refuses a value with a ValueError saying what is
    accepted. argparse keeps only an ArgumentTypeError's message (a ValueError becomes "invalid
    <function name> value"), so the ValueError is raised again as one."""
    @functools.wraps(check)
    def parse(text):
        try:
            return check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


@argument_type
def positive_int(text):
    """An integer >= 1: counts of seeds, replicas, workers, repeats, images."""
    return _int_in(text, 1)


@argument_type
def non_negative_int(text):
    """An integer >= 0: seeds, indices."""
    return _int_in(text, 0)


def int_between(low, high):
    """A type for an integer in [low, high]."""
    @argument_type
    def check(text):
        return _int_in(text, low, high)

    return check


@argument_type
def positive_float(text):
    """A finite number > 0: seconds, timeouts."""
    return _float_above(text, 0, inclusive=False)


@argument_type
def non_negative_float(text):
    """A finite number >= 0."""
    return _float_above(text, 0, inclusive=True)


def _int_in(text, low, high=None):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        wanted = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise ValueError(f"must be {wanted}, got {text!r}")
    return value


def _float_above(text, low, inclusive):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < low or (value == low and not inclusive):
        wanted = f"a finite number {'>=' if inclusive else '>'} {low:g}"
        raise ValueError(f"must be {wanted}, got {text!r}")
    return value
