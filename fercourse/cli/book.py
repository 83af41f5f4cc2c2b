"""``fercourse book``: run the lessons and build the course book (Jupyter Book 1.x, HTML)."""

from __future__ import annotations

import sys

from fercourse.cli import add_command_group


def register(subparsers) -> None:
    commands = add_command_group(subparsers, "book",
                                 description="Build the course book (HTML) from the executed lessons.")

    build = commands.add_parser(
        "build", help="execute the lessons, then build the book with warnings as errors",
        description="Execute every lesson with papermill into book/lessons/ (as `fercourse notebooks run`), "
                    "then run `jupyter-book build -W` on book/ and print where index.html is. The folders "
                    "are those of the course checkout holding the current directory, or of --course DIR. "
                    "Any failing lesson or build warning stops it with exit status 1.",
        epilog="Examples: fercourse book build --data sample --quick;  "
               "fercourse book build --data ../shared/fer2013;  fercourse book build --no-run",
    )
    from fercourse.cli.notebooks import add_run_options

    add_run_options(build)
    build.add_argument("--no-run", action="store_true",
                       help="do not execute the lessons; build from the executed copies already in "
                            "book/lessons/")
    build.set_defaults(handler=run_build)


def run_build(args) -> int:
    from fercourse.cli.notebooks import execute
    from fercourse.course import book
    from fercourse.course.checkout import course_folders

    folders = course_folders(args.checkout)
    if not args.no_run:
        status = execute(args, folders.executed)
        if status:
            print("error: the book was not built because a lesson failed", file=sys.stderr)
            return status
    print("building the book (jupyter-book, warnings are errors) ...", file=sys.stderr, flush=True)
    try:
        index = book.build_book(folders.book, course=folders.root)
    except book.BookError as error:
        print(f"fercourse book build: error: {error}", file=sys.stderr)
        return 1
    print(f"book built: {index}")
    return 0
