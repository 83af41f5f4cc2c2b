"""The ``fercourse`` command.

Each command lives in the module of this package with its name, which has a ``register(subparsers)``
function; :data:`COMMANDS` lists them in the order ``--help`` shows them, with the line it shows for
each. Only the module of the command being run is imported to build its parser, so ``fercourse
--help`` and every command's own ``--help`` load nothing a command does not use (no TensorFlow, no
nbgrader). A command whose handler needs TensorFlow sets ``tensorflow=True`` among its defaults; it
is imported quietly (:func:`fercourse.quiet.import_tensorflow_quietly`) before the handler runs.
Bad input (a :class:`~fercourse.errors.FercourseError`, or an ``OSError`` about a file the user
named) ends with a one-paragraph message and exit status 1 (set ``FERCOURSE_DEBUG=1`` to see the
traceback); a missing optional extra ends with the ``pip install`` line that adds it; any other
exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from fercourse import config
from fercourse.errors import FercourseError

#: Every command, in the order ``fercourse --help`` lists them, with its one-line help.
COMMANDS = {
    "data": "inspect, convert, prepare and generate datasets",
    "detect": "find faces in photos and classify each face's emotion",
    "train": "train a named recipe (seed_cnn, reference) with checkpoints, a budget and resume",
    "evaluate": "score a saved model: accuracy, macro-F1, per-class recall, confusion matrix",
    "calibrate": "fit a saved model's temperature and 'uncertain' threshold on validation",
    "export": "save a trained model for inference (float32, no optimizer) with its scores",
    "compare": "train every model (baselines, MLP, LSTM, GRU, CNNs) and compare them on test",
    "experiment": "run the recorded experiments behind the lessons' comparisons",
    "notebooks": "run the lessons headless with papermill",
    "book": "run the lessons and build the course book",
    "student": "write the student copies of the lessons",
    "labels": "lesson 9's class mode: a class's agreement from the students' labels CSVs",
    "submission": "validate or score a submission CSV (id,emotion)",
    "grade": "autograder tools: course setup, new assignments, tiers, parallel autograde, leaderboard",
    "bench": "benchmarks (ratios against a baseline in the same run)",
}


def add_command(subparsers, name: str, **options) -> argparse.ArgumentParser:
    """Add ``fercourse NAME`` (its help line from :data:`COMMANDS`); returns its parser."""
    return subparsers.add_parser(name, help=COMMANDS[name], **options)


def add_command_group(subparsers, name: str, *, description: str):
    """Add ``fercourse NAME`` as a group of subcommands; returns the group's own subparsers.

    Run without a subcommand, the group prints its help and exits with status 2.
    """
    parser = add_command(subparsers, name, description=description)
    commands = parser.add_subparsers(dest=f"{name}_command", metavar=f"{name.upper()}_COMMAND")
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)
    return commands


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: the command named in ``argv`` in full, every other one as its help line."""
    from fercourse import __version__

    parser = argparse.ArgumentParser(
        prog="fercourse",
        description="Facial emotion recognition course tools: data, models, lessons, book, grading, demo.",
    )
    parser.add_argument("--version", action="version", version=f"fercourse {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((argument for argument in argv or [] if not argument.startswith("-")), None)
    for name in COMMANDS:
        if name == chosen:
            importlib.import_module(f"fercourse.cli.{name}").register(subparsers)
        else:
            add_command(subparsers, name)
    return parser


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
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        if getattr(args, "tensorflow", False):
            from fercourse.quiet import import_tensorflow_quietly

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
