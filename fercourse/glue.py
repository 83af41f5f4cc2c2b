"""``glue`` for the lessons: myst-nb's where it is installed (the book build), a quiet stand-in elsewhere.

A lesson glues the values its prose quotes (``glue("test_accuracy", 0.61, display=False)``); the
book, built with myst-nb, writes them into the page. A student's own environment
(``pip install fercourse``) has no myst-nb, and the lesson must run there too: this stand-in then
shows a value only when asked to (``display=True``), as myst-nb does, and stores nothing. The student
copy of a lesson (:mod:`fercourse.course.student_copy`) writes the course run's values into its prose.

Examples
--------
>>> glue("answer", 42, display=False)
"""

from __future__ import annotations

__all__ = ["glue"]


def glue(name: str, variable, display: bool = True) -> None:
    """Record ``variable`` under ``name`` for the book's ``{glue:text}`name``` roles.

    With myst-nb installed this is :func:`myst_nb.glue`; without it, ``display=True`` shows
    ``variable`` (IPython's display when running in a kernel, else nothing) and nothing is stored.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            try:
                from IPython.display import display as show
            except ImportError:
                return None
            show(variable)
        return None
    return myst_glue(name, variable, display)
