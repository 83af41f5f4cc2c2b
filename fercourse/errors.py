"""The errors fercourse raises for bad input, under one base class.

Every error names the file and, where it applies, the row (1-based line number) or field, and
says what was expected. The ``fercourse`` command prints a :class:`FercourseError` (and an
``OSError`` about a file the user named) as a one-line message and exits non-zero; any other
exception is a bug and shows its traceback.

Each class also derives from the built-in exception a caller would expect (``ValueError``,
``TypeError``, ``RuntimeError``), so ``except ValueError`` keeps working.

========================  ==========================================================
class                     raised for
========================  ==========================================================
:class:`FercourseError`   the base of everything below
:class:`InputError`       an argument or option with a bad value (a ``ValueError``)
:class:`InputTypeError`   an argument of the wrong kind (a ``TypeError``)
:class:`DataError`        a data file or folder that cannot be read as FER data
:class:`SubmissionError`  a submission CSV that cannot be read or scored
:class:`BookError`        a lesson or book build that failed
========================  ==========================================================

Examples
--------
>>> issubclass(DataError, FercourseError) and issubclass(DataError, ValueError)
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


class FercourseError(Exception):
    """Base class of the errors fercourse raises for bad input or a failed course build."""


class InputError(FercourseError, ValueError):
    """An argument or option with a value fercourse cannot use; the message says what was expected."""


class InputTypeError(FercourseError, TypeError):
    """An argument of a type fercourse cannot use; the message says what was expected."""


class DataError(FercourseError, ValueError):
    """A data file or folder that cannot be read as FER data.

    Parameters
    ----------
    path : str or Path
        The file or folder at fault.
    message : str
        What is wrong and what was expected.
    line : int, optional
        The 1-based line number in a CSV file (the header is line 1).

    Examples
    --------
    >>> str(DataError("train.csv", "expected 2304 pixels, found 2303", line=7))
    'train.csv, line 7: expected 2304 pixels, found 2303'
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")


class SubmissionError(FercourseError, ValueError):
    """A submission that cannot be scored; ``problems`` lists every reason.

    Examples
    --------
    >>> print(SubmissionError(["line 3: 'NaN' is not an emotion"]))
    the submission is not valid:
    - line 3: 'NaN' is not an emotion
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("the submission is not valid:\n" + "\n".join(f"- {p}" for p in self.problems))


class BookError(FercourseError, RuntimeError):
    """A lesson or the book build failed; the message names the lesson or the log to read."""
