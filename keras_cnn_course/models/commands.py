"""`kcc models [PATTERN]` lists the networks from the registry (nothing is built, TensorFlow is not
imported); `kcc summary NAME` builds one and shows its layers."""

import argparse
import os

from keras_cnn_course.arguments import positive_int


def register(subparsers):
    parser = subparsers.add_parser(
        "models", help="list the networks: reference, input shape, parameters, weights")
    parser.add_argument("pattern", nargs="?", default=None, metavar="PATTERN",
                        help="shell-style pattern such as 'vgg*' (a plain word matches anywhere "
                             "in the name)")
    parser.add_argument("--weights", choices=("imagenet",), default=None,
                        help="only the networks with these published weights")
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
    from keras_cnn_course.models import registry

    names = registry.list_models(args.pattern, weights=args.weights)
    if not names:
        raise ValueError(f"no network matches PATTERN={args.pattern!r}"
                         f"{f' with weights={args.weights!r}' if args.weights else ''}; "
                         f"known: {', '.join(registry.ENTRIES)}.")
    rows = [(name, "x".join(map(str, registry.ENTRIES[name].input_shape)),
             f"{registry.ENTRIES[name].params:,}", ", ".join(registry.ENTRIES[name].weights) or "-",
             registry.reference(name)) for name in names]
    header = ("model", "input", "parameters", "weights", "reference")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  "
              f"{row[3]:<{widths[3]}}  {row[4]}")
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
