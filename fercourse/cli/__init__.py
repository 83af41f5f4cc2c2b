"""The ``fercourse`` command.

Each subcommand lives in its own module in this package with a ``register(subparsers)``
function; :data:`COMMAND_MODULES` lists them in the order ``--help`` shows them.
Bad input (a :class:`~fercourse.errors.FercourseError`, or an ``OSError`` about a file the user
named) ends with a one-paragraph message and exit status 1 (set ``FERCOURSE_DEBUG=1`` to see the
traceback); any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from fercourse import config
from fercourse.errors import FercourseError

COMMAND_MODULES = [
    "data",
    "bench",
    "detect",
    "train",
    "evaluate",
    "export",
    "notebooks",
    "book",
    "submission",
    "grade",
    "compare",
    "experiment",
    "student",
]


def add_command_group(subparsers, name: str, *, help: str, description: str):
    """Add ``fercourse NAME`` as a group of subcommands; returns the group's own subparsers.

    Run without a subcommand, the group prints its help and exits with status 2.
    """
    parser = subparsers.add_parser(name, help=help, description=description)
    commands = parser.add_subparsers(dest=f"{name}_command", metavar=f"{name.upper()}_COMMAND")
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)
    return commands


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered subcommand."""
    from fercourse import __version__

    parser = argparse.ArgumentParser(
        prog="fercourse",
        description="Facial emotion recognition course tools: data, models, lessons, book, grading, demo.",
    )
    parser.add_argument("--version", action="version", version=f"fercourse {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"fercourse.cli.{name}").register(subparsers)
    return parser


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras with the process's stderr muted, for the commands that use them.

    TensorFlow's C++ start-up lines (oneDNN, CUDA drivers, CPU instructions) go straight to file
    descriptor 2 before its logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` does not stop them
    (tensorflow/tensorflow#100442), and they would bury a command's own output. Importing here,
    with descriptor 2 pointed at the null device, and listing the devices (the CUDA probe) keeps
    them out; anything written later is shown. ``FERCOURSE_DEBUG=1`` shows everything.
    """
    import os

    if config.debug():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        stderr = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no descriptor behind sys.stderr (embedded, captured)
        stderr = 2
    sys.stderr.flush()
    saved, null = os.dup(stderr), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, stderr)
    try:
        import keras  # noqa: F401  (imports TensorFlow, its backend)
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, stderr)
        os.close(saved)
        os.close(null)


#: The optional parts of fercourse (pyproject's extras) by a top-level module each one installs: a
#: command that needs a missing one says which extra to install instead of showing a traceback.
EXTRA_OF_MODULE = {"nbgrader": "grading", "papermill": "book", "nbformat": "book", "jupyter_book": "book",
                   "distributed": "cluster", "dask": "cluster"}


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The one-line message for a module that an extra installs, or None for any other module.

    >>> missing_extra(ModuleNotFoundError("No module named 'nbgrader'", name="nbgrader.apps"))
    'needs the grading extra (module nbgrader is not installed): pip install "fercourse[grading]"'
    >>> missing_extra(ModuleNotFoundError("No module named 'numpy'", name="numpy")) is None
    True
    """
    module = (error.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    return f'needs the {extra} extra (module {module} is not installed): pip install "fercourse[{extra}]"'


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        if getattr(args, "tensorflow", False):
            import_tensorflow_quietly()
        return int(args.handler(args) or 0)
    except (FercourseError, OSError) as error:
        if config.debug():
            raise
        print(f"fercourse {args.command}: error: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        message = missing_extra(error)
        if message is None or config.debug():
            raise
        print(f"fercourse {args.command}: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
