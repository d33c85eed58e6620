"""`kcc reproduce STUDY [OPTIONS]`: run a reproduction study of the clone (`python -m
reproductions.STUDY`); an installed package says in one line how to get a clone."""

import argparse
import subprocess
import sys

from keras_cnn_course.project import clone_hint, clone_root


def register(subparsers):
    parser = subparsers.add_parser(
        "reproduce", help="run a reproduction study (needs a clone of the project)",
        description="Run `python -m reproductions.STUDY OPTIONS` in the clone the package runs "
                    "from (`kcc reproduce nielsen_mnist --help` lists a study's options). The "
                    "studies, their data and their results live in the clone.")
    parser.add_argument("study", metavar="STUDY", help="a folder of reproductions/ such as "
                        "nielsen_mnist, mnist1d, transfer, bench")
    parser.add_argument("options", nargs=argparse.REMAINDER, metavar="OPTIONS",
                        help="the study's own options, passed on")
    parser.set_defaults(func=run)


def studies(clone):
    """The studies of a clone: the folders of reproductions/ that run as a module."""
    return sorted(path.parent.name for path in (clone / "reproductions").glob("*/__main__.py"))


def run(args):
    clone = clone_root()
    if clone is None:
        raise FileNotFoundError(f"the studies run from a clone of the project: {clone_hint()}, "
                                f"then .venv/bin/kcc reproduce {args.study}")
    known = studies(clone)
    if args.study not in known:
        raise ValueError(f"STUDY {args.study!r} is not a study of {clone / 'reproductions'}; "
                         f"one of {known}")
    command = [sys.executable, "-m", f"reproductions.{args.study}", *args.options]
    return subprocess.run(command, cwd=clone, check=False).returncode
