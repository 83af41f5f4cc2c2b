"""Errors that fercourse raises for bad input.

Every error names the file and, where it applies, the row (1-based line number)
or field, and says what was expected. The CLI prints the message and exits
non-zero instead of showing a traceback.
"""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
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
