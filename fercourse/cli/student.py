"""``fercourse student``: the lessons as students open them in JupyterLab (student copies)."""

from __future__ import annotations

from pathlib import Path

from fercourse.cli import add_command_group
from fercourse.cli.options import add_checkout_option


def register(subparsers) -> None:
    commands = add_command_group(
        subparsers, "student",
        description="The lessons as a student opens them in JupyterLab or Notebook 7: plain Markdown "
                    "(no MyST roles or fences), solutions folded away and never run by Run All.")
    export = commands.add_parser(
        "export", help="write the student copy of every lesson",
        description="Write the student copy of every lesson (fercourse.course.student_copy). From the "
                    "executed lessons (book/lessons/, after `fercourse notebooks run`) the prose quotes the "
                    "values of that run, marked as such; from the committed lessons (notebooks/) it names "
                    "each value instead.",
        epilog="Example: fercourse student export && jupyter lab student/")
    add_checkout_option(export)
    export.add_argument("--lessons", default=None, metavar="DIR",
                        help="lessons to copy (default: book/lessons/ when it holds executed lessons, "
                             "else notebooks/)")
    export.add_argument("--out", default=None, metavar="DIR",
                        help="where the copies go (default: student/ in the course, beside notebooks/, so "
                             "the lessons' ../artifacts paths work)")
    export.set_defaults(handler=export_copies)


def export_copies(args) -> int:
    from fercourse.course.checkout import course_folders
    from fercourse.course.runner import LESSON_PATTERN
    from fercourse.course.student_copy import write_student_copies

    folders = course_folders(args.checkout)
    lessons = Path(args.lessons) if args.lessons else None
    if lessons is None:
        executed = folders.executed
        has_executed = executed.is_dir() and any(LESSON_PATTERN.match(path.name)
                                                 for path in executed.iterdir())
        lessons = executed if has_executed else folders.notebooks
    out = Path(args.out) if args.out else folders.root / "student"
    written = write_student_copies(lessons, out, bib=folders.book / "references.bib")
    print(f"{len(written)} student copies of {lessons} in {out}; open them with: jupyter lab {out}")
    return 0
