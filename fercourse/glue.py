"""Keep a value a lesson computed, by name, so the book's prose can quote it: :func:`glue`.

The book (Jupyter Book 1, myst-nb) reads a glued value from the executed notebook: a display
output whose metadata carries ``{"scrapbook": {"name": NAME, ...}}``, with its MIME types prefixed
``application/papermill.record/`` when the value is kept but not shown. That is a property of the
notebook file, so writing it needs only IPython, which every Jupyter kernel has: the lessons import
this function instead of myst-nb's, and run for a student who installed ``fercourse`` alone
(without the ``book`` extra that brings Jupyter Book).

Examples
--------
>>> bundle, metadata = glued_output("accuracy", 0.5, display=False)
>>> bundle
{'application/papermill.record/text/plain': '0.5'}
>>> metadata
{'scrapbook': {'name': 'accuracy', 'mime_prefix': 'application/papermill.record/'}}
"""

from __future__ import annotations

__all__ = ["HIDDEN_PREFIX", "glue", "glued_output"]

#: Prefix of a glued value's MIME types when it is kept but not displayed.
HIDDEN_PREFIX = "application/papermill.record/"


def glued_output(name: str, value: object, *, display: bool = True) -> tuple[dict, dict]:
    """The display data and metadata that glue ``value`` as ``name``.

    Parameters
    ----------
    name : str
        The name the book's ``{glue:text}`name``` roles use.
    value : object
        Anything IPython can display: a number, a string, a matplotlib figure, a DataFrame.
    display : bool
        Also show the value in the notebook (False keeps it for the book only).

    Returns
    -------
    (dict, dict)
        The MIME bundle and the output's metadata.
    """
    from IPython.core.formatters import format_display_data

    bundle, metadata = format_display_data(value)
    prefix = "" if display else HIDDEN_PREFIX
    metadata = {**metadata, "scrapbook": {"name": name, "mime_prefix": prefix}}
    return {prefix + mime: data for mime, data in bundle.items()}, metadata


def glue(name: str, value: object, display: bool = True) -> None:
    """Glue ``value`` into the notebook as ``name`` (shown below the cell when ``display``)."""
    from IPython.display import display as show

    bundle, metadata = glued_output(name, value, display=display)
    show(bundle, raw=True, metadata=metadata)
