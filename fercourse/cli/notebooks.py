"""``fercourse notebooks``: run the numbered lessons headless (papermill) and keep executed copies."""

from __future__ import annotations

import argparse
import sys

from fercourse.cli import add_command_group
from fercourse.cli.options import add_checkout_option
from fercourse.config import QUICK, is_sample
from fercourse.errors import InputError

DATA_HELP = ("data injected into every lesson: 'sample' (built-in synthetic faces), 'fer2013' "
             "($FERCOURSE_FER2013), or a path: a FER2013 image-folder root, a Kaggle fer2013.csv or a "
             "course train.csv (default: each lesson's own default, the sample)")

QUICK_SETTINGS = ", ".join(f"{name}={value!r}" for name, value in QUICK.lesson_parameters().items())

def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options ``notebooks run`` and ``book build`` share."""
    add_checkout_option(parser)
    parser.add_argument("--quick", action="store_true",
                        help=f"short CI run: injects {QUICK_SETTINGS} and uses small data "
                             "(all lessons in minutes)")
    parser.add_argument("--data", default=None, metavar="SOURCE", help=DATA_HELP)
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME",
                        help="run only these lessons: names, stems or numbers (05_cnn, cnn, 05)")
    parser.add_argument("--artifacts", default=None, metavar="DIR",
                        help="root for saved models and submissions (default: artifacts/ in the course; "
                             "each data source and mode gets its own folder, e.g. artifacts/sample-quick/)")
    parser.add_argument("--no-cache", action="store_true",
                        help="run every lesson even when an unchanged cached run exists (real data only: "
                             "quick and sample runs are never cached)")
    parser.add_argument("--lesson-budgets", action="store_true",
                        help="on real data, run with the lessons' own (long) budgets instead of the "
                             "publishing build's shorter ones (fercourse.course.budgets)")
    parser.add_argument("--record", action="store_true",
                        help="record the values each lesson glues, with its budget and time, in the course's "
                             "results/fer2013.json, which the book's Results page shows (real data only; "
                             "without it no results file is written)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="inject another parameter into every lesson that declares it (VALUE is read "
                             "as a Python literal when it is one, e.g. -p num_epochs 5)")


def register(subparsers) -> None:
    commands = add_command_group(subparsers, "notebooks",
                                 description="Run the numbered lessons (notebooks/NN_*.ipynb).")

    run = commands.add_parser(
        "run", help="execute the lessons and write executed copies",
        description="Execute the lessons in order with papermill, injecting parameters into each lesson's "
                    "'parameters' cell, and write the executed copies (with figures) to --out. Prints one "
                    "line per lesson with its time. On a failure it names the lesson and the failing cell "
                    "and exits with status 1.",
        epilog="Examples: fercourse notebooks run --quick;  fercourse notebooks run --data ../shared/fer2013 "
               "--only 05_cnn 06",
    )
    add_run_options(run)
    run.add_argument("--out", default=None, metavar="DIR",
                     help="folder for executed copies (default book/lessons/ in the course)")
    run.add_argument("--notebooks", default=None, metavar="DIR",
                     help="lessons folder (default notebooks/ in the course)")
    run.add_argument("--keep-going", action="store_true", help="run the remaining lessons after a failure")
    run.set_defaults(handler=run_notebooks)

    listing = commands.add_parser("list", help="list the lessons and their parameters",
                                  description="List the lessons and the parameters each declares.")
    add_checkout_option(listing)
    listing.add_argument("--notebooks", default=None, metavar="DIR",
                         help="lessons folder (default notebooks/ in the course)")
    listing.set_defaults(handler=list_notebooks)


def parse_parameters(pairs: list[list[str]]) -> dict[str, object]:
    """``[["num_epochs", "5"]] -> {"num_epochs": 5}``: literals when they parse, strings otherwise."""
    import ast

    values: dict[str, object] = {}
    for name, text in pairs:
        if not name.isidentifier():
            raise InputError(f"--parameter {name}: expected a Python name such as num_epochs")
        try:
            values[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            values[name] = text
    return values


def execute(args, out) -> int:
    """Run the lessons for ``args`` (shared with ``book build``) into ``out``; returns the exit status."""
    from fercourse.course import runner as notebooks
    from fercourse.course.results import results_path

    # Real data, not quick: the publishing build's budgets and cache. Recording only when asked.
    real = args.data is not None and not is_sample(args.data) and not args.quick
    if args.record and not real:
        raise InputError("--record: only a run on real data without --quick is recorded (the sample's and "
                         "quick mode's figures show the method, not FER2013 results)")
    record = results_path(args.checkout) if args.record else None
    # Folders not given are the course checkout's (--checkout, or the current directory's).
    results = notebooks.run_lessons(
        course=args.checkout, notebook_dir=getattr(args, "notebooks", None), out=out,
        artifacts=args.artifacts,
        quick=args.quick, data=args.data, only=args.only,
        parameters=parse_parameters(args.parameter), budgets=real and not args.lesson_budgets,
        cache=real and not args.no_cache, record=record,
        stop_on_error=not getattr(args, "keep_going", False),
        log=lambda line: print(line, file=sys.stderr, flush=True))
    total = sum(result.seconds for result in results)
    failed = [result for result in results if not result.ok]
    reused = sum(result.cached for result in results)
    print(f"{len(results) - len(failed)} of {len(results)} lessons ran in {total:.0f} s"
          + (f" ({reused} unchanged, reused from the cache)" if reused else "")
          + f"; executed copies in {out}")
    if record is not None and not failed:
        print(f"figures the lessons glued are recorded in {record}")
    for result in failed:
        print(f"error: {result.error} (executed copy with the traceback: {result.output})", file=sys.stderr)
    return 1 if failed else 0


def run_notebooks(args) -> int:
    from fercourse.course.checkout import course_folders

    return execute(args, args.out or course_folders(args.checkout).executed)


def list_notebooks(args) -> int:
    from fercourse.course import runner as notebooks
    from fercourse.course.checkout import course_folders

    for lesson in notebooks.discover_lessons(args.notebooks or course_folders(args.checkout).notebooks):
        values = notebooks.lesson_parameters(lesson)
        print(f"{lesson.stem}: " + ", ".join(f"{name}={value!r}" for name, value in values.items()))
    return 0
