"""The `kcc` command: one sub-command per task a student or teacher runs.

Each module in COMMAND_MODULES has `register(subparsers)`, which adds its sub-commands and sets
`func` on each; nothing heavy (TensorFlow) is imported until a command runs.
"""

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "keras_cnn_course.data_commands",
    "keras_cnn_course.models.commands",
    "keras_cnn_course.results.commands",
    "keras_cnn_course.lecture.commands",
    "keras_cnn_course.transfer.commands",
    "keras_cnn_course.launch_commands",
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kcc", description="Keras CNN course: models, data, reproductions and figures."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit:  # --help (0) or a bad option (2): argparse has printed why
        return exit.code
    try:
        return args.func(args) or 0
    except (ValueError, FileNotFoundError) as error:
        print(f"kcc {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
