"""Build the course book (Jupyter Book 1.x) from the executed lessons.

The book never executes a notebook: its chapters are the executed copies that
:func:`fercourse.course.runner.run_lessons` writes to ``book/lessons/``. :func:`build_book`
checks that they are there and error-free, writes the generated fragments the results and
instructor pages include (``docs/results.md`` and ``autograder/README.md`` when they exist),
then runs ``jupyter-book build`` with warnings as errors.

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

from fercourse.course.runner import LESSON_PATTERN, REPO_ROOT

BOOK_DIR = REPO_ROOT / "book"
RESULTS_SOURCE = REPO_ROOT / "docs" / "results.md"
AUTOGRADER_SOURCE = REPO_ROOT / "autograder" / "README.md"


class BookError(RuntimeError):
    """The book could not be built; the message says which step failed and why."""


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


def _fragment(source: Path, missing: str) -> str:
    if source.is_file():
        text = shift_headings(source.read_text(encoding="utf-8"))
        # Links relative to the source file would break inside the book: point at the file instead.
        return f"*From `{source.relative_to(REPO_ROOT)}` in the repository.*\n\n{text}\n"
    return f"```{{note}}\n{missing}\n```\n"


def write_fragments(book_dir: str | os.PathLike = BOOK_DIR) -> list[Path]:
    """Write the generated pieces the results and instructor pages include, into ``book/lessons/``."""
    lessons = Path(book_dir) / "lessons"
    lessons.mkdir(parents=True, exist_ok=True)
    pieces = {
        "_results.md": _fragment(RESULTS_SOURCE, "No measured results yet: `docs/results.md` is written by "
                                                 "`fercourse compare --data ... --out ...` runs."),
        "_autograder.md": _fragment(AUTOGRADER_SOURCE, "The autograder's own guide (`autograder/README.md`) "
                                                       "is not in this checkout yet."),
    }
    written = []
    for name, text in pieces.items():
        (lessons / name).write_text(text, encoding="utf-8")
        written.append(lessons / name)
    return written


def check_lessons(book_dir: str | os.PathLike = BOOK_DIR) -> list[Path]:
    """The executed lessons in ``book/lessons/``; raises BookError if none, or if one holds an error."""
    import nbformat

    lessons = sorted(path for path in (Path(book_dir) / "lessons").glob("*.ipynb") if LESSON_PATTERN.match(path.name))
    if not lessons:
        raise BookError(f"{Path(book_dir) / 'lessons'}: no executed lessons; run `fercourse notebooks run` first "
                        "(or `fercourse book build`, which runs them)")
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
    """The ``jupyter-book`` of the running Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "jupyter-book"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("jupyter-book")
    if not found:
        raise BookError("jupyter-book is not installed: pip install 'jupyter-book>=1.0.4,<2'")
    return [found]


def build_book(book_dir: str | os.PathLike = BOOK_DIR, *, clean: bool = True, quiet: bool = True) -> Path:
    """Build the HTML book with warnings as errors and return the path of ``index.html``.

    Parameters
    ----------
    book_dir : path-like
        The Jupyter Book source folder (``_config.yml``, ``_toc.yml``, ``lessons/``).
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
    book_dir = Path(book_dir)
    if not (book_dir / "_config.yml").is_file():
        raise BookError(f"{book_dir}: not a book folder (expected _config.yml and _toc.yml)")
    check_lessons(book_dir)
    write_fragments(book_dir)
    if clean:
        shutil.rmtree(book_dir / "_build", ignore_errors=True)
    command = jupyter_book_command() + ["build", str(book_dir), "--builder", "html", "-W", "-n", "--keep-going"]
    environment = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    completed = subprocess.run(command, capture_output=quiet, text=True, env=environment, check=False)
    index = book_dir / "_build" / "html" / "index.html"
    if completed.returncode != 0 or not index.is_file():
        tail = "\n".join(((completed.stdout or "") + (completed.stderr or "")).strip().splitlines()[-25:])
        raise BookError(f"jupyter-book build failed (exit {completed.returncode}) for {book_dir}"
                        + (f":\n{tail}" if tail else ""))
    return index
