"""Find the course checkout (``notebooks/``, ``book/``, ``autograder/``) the tooling works on.

The package never looks for the course beside its own files: an installed wheel lives in
``site-packages``, far from any checkout. The course tooling works on the checkout that holds
the current directory, or on the one named with ``--course DIR``.

Examples
--------
>>> root = find_course_root()  # the tests run from the repository root
>>> (root / "book" / "_config.yml").is_file(), (root / "notebooks").is_dir()
(True, True)
>>> course_folders(root / "notebooks").executed == root / "book" / "lessons"
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: What marks a course checkout's root folder.
MARKERS = ("notebooks", "book/_config.yml")


def is_course_root(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds ``notebooks/`` and ``book/_config.yml``."""
    folder = Path(folder)
    return (folder / "notebooks").is_dir() and (folder / "book" / "_config.yml").is_file()


def find_course_root(start: str | os.PathLike | None = None) -> Path:
    """The course checkout holding ``start``: that folder or the nearest one above it with the markers.

    Parameters
    ----------
    start : path-like, optional
        Where to begin; default the current directory. A ``--course DIR`` option passes DIR.

    Returns
    -------
    Path
        The absolute folder holding ``notebooks/`` and ``book/_config.yml``.

    Raises
    ------
    FileNotFoundError
        Neither ``start`` nor any folder above it is a course checkout; the message names
        ``start`` and the markers.

    Examples
    --------
    >>> find_course_root("/")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: /: not inside a course checkout: expected a folder holding notebooks/ and ...
    """
    begin = Path.cwd() if start is None else Path(start).expanduser()
    begin = begin.resolve()
    if not begin.exists():
        raise FileNotFoundError(f"{begin}: no such folder (expected a course checkout holding notebooks/ "
                                "and book/_config.yml)")
    for folder in (begin, *begin.parents):
        if is_course_root(folder):
            return folder
    raise FileNotFoundError(f"{begin}: not inside a course checkout: expected a folder holding notebooks/ "
                            "and book/_config.yml here or above; run from the checkout or pass --course DIR")


@dataclass(frozen=True)
class CourseFolders:
    """The folders of one course checkout the runner and the book use."""

    root: Path

    @property
    def notebooks(self) -> Path:
        """The numbered lessons, ``notebooks/``."""
        return self.root / "notebooks"

    @property
    def book(self) -> Path:
        """The Jupyter Book source, ``book/``."""
        return self.root / "book"

    @property
    def executed(self) -> Path:
        """Where executed lessons go for the book, ``book/lessons/``."""
        return self.root / "book" / "lessons"

    @property
    def artifacts(self) -> Path:
        """Root of the saved models and submissions, ``artifacts/``."""
        return self.root / "artifacts"

    @property
    def autograder(self) -> Path:
        """The nbgrader course, ``autograder/``."""
        return self.root / "autograder"

    @property
    def results_file(self) -> Path:
        """The generated real-FER2013 figures the Results page and lessons read, ``results/fer2013.json``."""
        return self.root / RESULTS_NAME


#: The results file, relative to the course checkout (read and written by :mod:`fercourse.course.results`).
RESULTS_NAME = Path("results") / "fer2013.json"


def course_folders(course: str | os.PathLike | None = None) -> CourseFolders:
    """The folders of the checkout holding ``course`` (default: the current directory).

    Raises
    ------
    FileNotFoundError
        No course checkout there (see :func:`~fercourse.course.checkout.find_course_root`).
    """
    return CourseFolders(find_course_root(course))
