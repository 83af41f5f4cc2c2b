"""Build the course book (Jupyter Book 1.x) from the executed lessons.

The book never executes a notebook: its chapters are the executed copies that
:func:`fercourse.course.runner.run_lessons` writes to ``book/lessons/``. :func:`build_book`
checks that they are there and error-free, writes the generated fragments the results and
instructor pages include (the checkout's ``docs/results.md`` and ``autograder/README.md`` when
they exist), then runs ``jupyter-book build`` with warnings as errors. The book folder left
unnamed is ``book/`` of the course checkout holding the current directory (or ``course=``).

Examples
--------
>>> shift_headings("# Title\\n\\n```\\n# not a heading\\n```\\n## Part")
'## Title\\n\\n```\\n# not a heading\\n```\\n### Part'
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from fercourse.course.checkout import CourseFolders, course_folders, is_course_root
from fercourse.course.runner import LESSON_PATTERN
from fercourse.errors import BookError

__all__ = ["BookError", "build_book", "check_lessons", "jupyter_book_command", "shift_headings",
           "write_fragments"]


def shift_headings(markdown: str, levels: int = 1) -> str:
    """Demote every Markdown heading by ``levels`` (code fences left alone), for inclusion in a page."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and re.match(r"^#{1,5} ", line):
            line = "#" * levels + line
        lines.append(line)
    return "\n".join(lines)


def _fragment(source: Path | None, root: Path | None, missing: str) -> str:
    if source is not None and source.is_file():
        text = shift_headings(source.read_text(encoding="utf-8"))
        # Links relative to the source file would break inside the book: point at the file instead.
        return f"*From `{source.relative_to(root).as_posix()}` in the repository.*\n\n{text}\n"
    return f"```{{note}}\n{missing}\n```\n"


def _results_tables(source: Path | None, kind: str) -> str:
    """The Results page's tables of ``kind`` entries, generated from ``results/fer2013.json``."""
    from fercourse.course.results import load_results, render_markdown

    if source is None or not source.is_file():
        return ("```{note}\nNo real-FER2013 figures are recorded in this checkout yet: "
                "`results/fer2013.json` is written by `fercourse evaluate MODEL --data ... --record KEY` "
                "and by `make book-fer2013`.\n```\n")
    return render_markdown(load_results(source), kind)


def _models_fragment(source: Path | None, folder: Path) -> str:
    """The Results page's table of every model, its figure and the experiments (``model_table``)."""
    from fercourse.course.model_table import models_fragment
    from fercourse.course.results import load_results

    entries = load_results(source)["entries"] if source is not None and source.is_file() else {}
    return models_fragment(entries, folder)


def _sources(book_dir: Path, course: str | os.PathLike | None) -> CourseFolders | None:
    """The checkout whose docs the fragments quote: ``course``, else the book's own checkout, else none."""
    if course is not None:
        return course_folders(course)
    return CourseFolders(book_dir.resolve().parent) if is_course_root(book_dir.resolve().parent) else None


def write_fragments(book_dir: str | os.PathLike | None = None, *,
                    course: str | os.PathLike | None = None) -> list[Path]:
    """Write the pieces the results, model card and instructor pages include, into ``book/lessons/``.

    Parameters
    ----------
    book_dir : path-like, optional
        The book folder; default ``book/`` of the course checkout (``course``, or the current directory's).
    course : path-like, optional
        The checkout whose ``results/fer2013.json``, ``MODEL_CARD.md`` and ``autograder/README.md``
        the pages show; default the checkout holding ``book_dir``. Without one the pages say the
        files are missing.

    Returns
    -------
    list of Path
        The fragment files written.
    """
    book_dir = Path(book_dir) if book_dir is not None else course_folders(course).book
    folders = _sources(book_dir, course)
    root = folders.root if folders else None
    guide = folders.autograder / "README.md" if folders else None
    lessons = book_dir / "lessons"
    lessons.mkdir(parents=True, exist_ok=True)
    pieces = {
        "_results.md": _results_tables(folders.results_file if folders else None, "model"),
        "_results_models.md": _models_fragment(folders.results_file if folders else None, lessons),
        "_results_lessons.md": _results_tables(folders.results_file if folders else None, "lesson"),
        "_model_card.md": _fragment(root / "MODEL_CARD.md" if root else None, root,
                                    "The model card (`MODEL_CARD.md`) is not in this checkout."),
        "_autograder.md": _fragment(guide, root,
                                    "The autograder's own guide (`autograder/README.md`) "
                                    "is not in this checkout yet."),
    }
    written = []
    for name, text in pieces.items():
        (lessons / name).write_text(text, encoding="utf-8")
        written.append(lessons / name)
    return written


def check_lessons(book_dir: str | os.PathLike | None = None) -> list[Path]:
    """The executed lessons in ``book/lessons/``; raises BookError if none, or if one holds an error.

    ``book_dir`` defaults to ``book/`` of the course checkout holding the current directory.
    """
    import nbformat

    book_dir = Path(book_dir) if book_dir is not None else course_folders().book
    lessons = sorted(path for path in (book_dir / "lessons").glob("*.ipynb")
                     if LESSON_PATTERN.match(path.name))
    if not lessons:
        raise BookError(f"{book_dir / 'lessons'}: no executed lessons; run `fercourse notebooks run` "
                        "first (or `fercourse book build`, which runs them)")
    for path in lessons:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    raise BookError(f"{path.name}: cell {index} holds an error ({output.get('ename')}: "
                                    f"{output.get('evalue')}); fix the lesson and run it again")
            if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None:
                raise BookError(f"{path.name}: cell {index} was never executed; run the lessons again")
    return lessons


def jupyter_book_command() -> list[str]:
    """The ``jupyter-book`` of the running Python (its script, else its module), else the one on PATH.

    The module covers a Python whose packages come from elsewhere (a venv reusing another's
    site-packages), where no script sits beside the interpreter.
    """
    import importlib.util

    beside = Path(sys.executable).parent / "jupyter-book"
    if beside.exists():
        return [str(beside)]
    if importlib.util.find_spec("jupyter_book") is not None:
        return [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; "
                                      "sys.exit(main(prog_name='jupyter-book'))"]
    found = shutil.which("jupyter-book")
    if not found:
        raise BookError("jupyter-book is not installed: pip install 'jupyter-book>=1.0.4,<2'")
    return [found]


def build_book(book_dir: str | os.PathLike | None = None, *, course: str | os.PathLike | None = None,
               clean: bool = True, quiet: bool = True) -> Path:
    """Build the HTML book with warnings as errors and return the path of ``index.html``.

    Parameters
    ----------
    book_dir : path-like, optional
        The Jupyter Book source folder (``_config.yml``, ``_toc.yml``, ``lessons/``); default
        ``book/`` of the course checkout (``course``, or the one holding the current directory).
    course : path-like, optional
        The checkout whose results file, model card and ``autograder/README.md`` the book shows
        (see :func:`write_fragments`).
    clean : bool
        Remove ``_build/`` first, so no stale page hides a broken one.
    quiet : bool
        Show jupyter-book's output only when the build fails.

    Raises
    ------
    BookError
        No executed lessons, a lesson with an error, or a failed build (with jupyter-book's
        last lines of output).
    """
    book_dir = Path(book_dir) if book_dir is not None else course_folders(course).book
    if not (book_dir / "_config.yml").is_file():
        raise BookError(f"{book_dir}: not a book folder (expected _config.yml and _toc.yml)")
    check_lessons(book_dir)
    write_fragments(book_dir, course=course)
    if clean:
        shutil.rmtree(book_dir / "_build", ignore_errors=True)
    command = [*jupyter_book_command(), "build", str(book_dir), "--builder", "html",
               "-W", "-n", "--keep-going"]
    environment = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    completed = subprocess.run(command, capture_output=quiet, text=True, env=environment, check=False)
    index = book_dir / "_build" / "html" / "index.html"
    if completed.returncode != 0 or not index.is_file():
        tail = "\n".join(((completed.stdout or "") + (completed.stderr or "")).strip().splitlines()[-25:])
        raise BookError(f"jupyter-book build failed (exit {completed.returncode}) for {book_dir}"
                        + (f":\n{tail}" if tail else ""))
    return index
