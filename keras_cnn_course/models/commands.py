"""`kcc models` lists every network with its parameter count; `kcc summary NAME` its layers."""

import argparse
import os

from keras_cnn_course.arguments import positive_int


def register(subparsers):
    parser = subparsers.add_parser(
        "models", help="list every model factory with its parameter count and reference")
    parser.add_argument("--no-params", action="store_true",
                        help="skip building the models (parameter counts take ~20 s)")
    parser.set_defaults(func=run_models)

    parser = subparsers.add_parser(
        "summary", help="layer-by-layer output shapes, parameters and receptive fields")
    parser.add_argument("name", help="model name, as `kcc models` lists it")
    parser.add_argument("--input-shape", type=_shape, default=None, metavar="H,W,C",
                        help="input shape without the batch axis, e.g. 32,32,1")
    parser.set_defaults(func=run_summary)


def _shape(text):
    """H,W,C (or any number of sizes): positive integers separated by commas."""
    try:
        return tuple(positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be positive integers separated by commas, e.g. "
                                         f"28,28,1; got {text!r}") from None


def _quiet():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_models(args):
    _quiet()
    from keras_cnn_course.models import SOURCES, get_model, reference

    width = max(map(len, SOURCES))
    print(f"{'model':<{width}}  {'' if args.no_params else 'parameters':>11}  reference")
    for name in SOURCES:
        count = ""
        if not args.no_params:
            import keras

            count = f"{get_model(name).count_params():,}"
            keras.backend.clear_session()  # free the weights before the next model
        print(f"{name:<{width}}  {count:>11}  {reference(name)}", flush=True)
    return 0


def run_summary(args):
    _quiet()
    import pandas as pd

    from keras_cnn_course.models import get_model
    from keras_cnn_course.models.summary import layer_table

    options = {} if args.input_shape is None else {"input_shape": args.input_shape}
    model = get_model(args.name, **options)
    table = layer_table(model)
    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(f"{model.name}: {model.count_params():,} parameters, input {model.input_shape}")
        print(table.to_string(index=False))
    return 0
