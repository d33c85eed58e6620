"""The `kcc` command: one sub-command per task a student or teacher runs.

Each module in COMMAND_MODULES has `register(subparsers)`, which adds its sub-commands and sets
`func` on each; nothing heavy (TensorFlow) is imported until a command runs. The `kcc` command
runs in a child process whose stderr is forwarded without TensorFlow's start-up notices
(keras_cnn_course.notices); `main(argv)` runs in-process.
"""

import argparse
import importlib
import os
import signal
import sys

from keras_cnn_course import notices
from keras_cnn_course.project import version

COMMAND_MODULES = (
    "keras_cnn_course.data_commands",
    "keras_cnn_course.models.commands",
    "keras_cnn_course.results.commands",
    "keras_cnn_course.lecture.commands",
    "keras_cnn_course.transfer.commands",
    "keras_cnn_course.launch_commands",
    "keras_cnn_course.reproduce_commands",
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kcc", description="Keras CNN course: models, data, reproductions and figures."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    parser.commands = subparsers.choices  # {name: its parser}
    return parser


def main(argv=None):
    """Run `kcc ARGV`; without `argv` (the `kcc` command), in a filtered child process."""
    if argv is None:
        return notices.run_filtered(sys.argv[1:])
    notices.quiet_environment()
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named by the sub-command, with its own usage
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exit:  # --help (0) or a bad option (2): argparse has printed why
        return exit.code
    try:
        return args.func(args) or 0
    except (ValueError, FileNotFoundError) as error:
        print(f"kcc {args.command}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `kcc compare | head` stopped reading: stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
