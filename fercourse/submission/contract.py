"""The submission contract: write a submission CSV, and check one, listing every problem.

The contract itself (what a valid ``id,emotion`` file is, and why) is the package docstring of
:mod:`fercourse.submission`; :mod:`fercourse.submission.score` scores a checked file against a key.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fercourse.errors import DataError, InputError
from fercourse.labels import ALIASES, NUM_CLASSES, to_index

HEADER = ("id", "emotion")
MAX_BYTES = 16 * 1024 * 1024
"""Largest submission read (16 MiB; a FER2013 submission is about 60 kB)."""
EXAMPLES_PER_PROBLEM = 5
_INTEGER = re.compile(r"^[+-]?\d+$")
_BOMS = {b"\xef\xbb\xbf": "UTF-8", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


@dataclass
class Checked:
    """The outcome of checking a submission: the rows that parsed and every problem found."""

    predictions: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


class _Collector:
    """Groups row-level problems by kind, keeping the count and the first few examples."""

    def __init__(self) -> None:
        self.kinds: dict[str, list] = {}

    def add(self, kind: str, example: str) -> None:
        entry = self.kinds.setdefault(kind, [0, []])
        entry[0] += 1
        if len(entry[1]) < EXAMPLES_PER_PROBLEM:
            entry[1].append(example)

    def messages(self, name: str) -> list[str]:
        out = []
        for kind, (count, examples) in self.kinds.items():
            more = f"; and {count - len(examples)} more" if count > len(examples) else ""
            rows = "row" if count == 1 else "rows"
            out.append(f"{name}: {count} {rows} {kind} ({'; '.join(examples)}{more})")
        return out


def read_bounded(path: str | Path, max_bytes: int = MAX_BYTES) -> bytes:
    """Read a file, refusing (with a ValueError naming it) one larger than ``max_bytes``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected the submission CSV)")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(path, f"the file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit: a "
                              "submission has one short line per test id (a FER2013 one is about 60 kB)")
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # the file grew while we read it
        raise DataError(path, f"the file is over the {max_bytes / 1e6:.0f} MB limit")
    return data


def _decode(data: bytes, name: str, problems: list[str]) -> str:
    for bom, encoding in _BOMS.items():
        if data.startswith(bom):
            if encoding != "UTF-8":
                problems.append(f"{name}: the file is {encoding} text: expected UTF-8 or plain ASCII "
                                "(in pandas: to_csv(path, index=False))")
                return ""
            problems.append(f"{name}: the file starts with a byte-order mark (BOM): expected plain UTF-8 "
                            "without one (in pandas drop encoding='utf-8-sig'; in Excel save as 'CSV', "
                            "not 'CSV UTF-8')")
            data = data[len(bom):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(f"{name}: byte {error.start} is not valid UTF-8: expected plain text with ASCII "
                        "ids and digits")
        return data.decode("utf-8", errors="replace")


def _label_problem(text: str) -> tuple[str, str] | int:
    """Parse one label; returns the integer or (problem kind, example)."""
    if _INTEGER.match(text):
        value = int(text)
        if 0 <= value < NUM_CLASSES:
            return value
        return "with a label outside 0-6", repr(text)
    if text.lower() in ALIASES:
        return ("with a class name instead of its integer label (class names are not accepted)",
                f"{text!r}: write {to_index(text)}")
    return f"with a label that is not an integer 0-{NUM_CLASSES - 1}", repr(text) if text else "empty"


def _header_problem(row: list[str], name: str) -> tuple[str | None, tuple[int, int] | None]:
    """Check the header row; returns (problem or None, (id column, emotion column) or None)."""
    if row == list(HEADER):
        return None, (0, 1)
    shown = ",".join(row)
    if len(row) == 1:
        for delimiter, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if delimiter in row[0]:
                return (f"{name}, line 1: values are separated by {word}: expected commas "
                        "(header 'id,emotion'; in pandas to_csv(path, index=False))"), None
    lowered = [value.lower() for value in row]
    if "id" in lowered and "emotion" in lowered:
        columns = (lowered.index("id"), lowered.index("emotion"))
        if len(row) == 3 and (row[0] == "" or row[0].startswith("Unnamed")):
            return (f"{name}, line 1: header {shown!r} has an extra index column: expected exactly "
                    "'id,emotion' (in pandas write with index=False)"), columns
        return f"{name}, line 1: header is {shown!r}: expected exactly 'id,emotion'", columns
    if len(row) == 2 and _INTEGER.match(row[1]):
        return f"{name}, line 1: no header: expected the first line to be 'id,emotion'", None
    return f"{name}, line 1: header is {shown!r}: expected exactly 'id,emotion'", None


def check_submission_bytes(data: bytes, expected_ids: Iterable[str] | None = None,
                           name: str = "submission.csv") -> Checked:
    # Over 60 lines: every rule of the contract checked in order, each problem collected, not raised.
    """Check the bytes of a submission against the contract and, if given, the test ids.

    Parameters
    ----------
    data : bytes
        The file's content.
    expected_ids : iterable of str, optional
        The test ids; without them missing and unknown ids are not checked.
    name : str
        How the file is named in the messages.

    Returns
    -------
    Checked
        ``predictions`` (id -> label) for the rows that parsed, and ``problems`` (empty when valid).

    Examples
    --------
    >>> check_submission_bytes(b"id,emotion\\na,3\\nb,6\\n", ["a", "b"]).predictions
    {'a': 3, 'b': 6}
    >>> for problem in check_submission_bytes(b"id,emotion\\na,happy\\n", ["a", "b"]).problems:
    ...     print(problem[:60])
    submission.csv: 1 row with a class name instead of its integ
    submission.csv: 1 test id is missing (b)
    """
    checked = Checked()
    problems = checked.problems
    text = _decode(data, name, problems)
    if not text.strip():
        if not problems:
            problems.append(f"{name}: the file is empty: expected the header 'id,emotion' and one row per "
                            "test id")
        return checked
    rows = _Collector()
    columns: tuple[int, int] | None = None
    header_seen = False
    seen_lines: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        for raw in reader:
            line = reader.line_num
            row = [value.strip() for value in raw]
            if not any(row):
                continue  # blank lines are tolerated
            if not header_seen:
                header_seen = True
                problem, columns = _header_problem(row, name)
                if problem:
                    problems.append(problem)
                if columns is not None:
                    width = len(row)
                    continue
                if "no header" not in (problem or ""):
                    break  # without known columns the rows cannot be interpreted
                columns, width = (0, 1), 2  # no header: the first line is a row
            if len(row) != width:
                rows.add(f"with {len(row)} values instead of {width}", f"line {line}")
                continue
            row_id, label_text = row[columns[0]], row[columns[1]]
            if not row_id:
                rows.add("with an empty id", f"line {line}")
                continue
            if row_id in seen_lines:
                rows.add("repeating an id", f"line {line}: {row_id!r} first on line {seen_lines[row_id]}")
                continue
            seen_lines[row_id] = line  # an id with a bad label is present, not missing
            label = _label_problem(label_text)
            if isinstance(label, tuple):
                rows.add(label[0], f"line {line}: {label[1]}")
                continue
            checked.predictions[row_id] = label
    except csv.Error as error:
        problems.append(f"{name}, line {reader.line_num}: cannot be read as CSV ({error})")
    problems.extend(rows.messages(name))
    if header_seen and columns is not None and not seen_lines and not rows.kinds:
        problems.append(f"{name}: the file has a header but no rows: expected one row per test id")
    if expected_ids is not None and header_seen and columns is not None:
        expected = list(dict.fromkeys(expected_ids))
        expected_set = set(expected)
        missing = [i for i in expected if i not in seen_lines]
        unknown = [i for i in seen_lines if i not in expected_set]
        for ids, what in ((missing, "missing"), (unknown, "not in the test set")):
            if ids:
                shown = ", ".join(ids[:EXAMPLES_PER_PROBLEM]) + (
                    f" and {len(ids) - EXAMPLES_PER_PROBLEM} more" if len(ids) > EXAMPLES_PER_PROBLEM else "")
                noun = "test id is" if len(ids) == 1 and what == "missing" else \
                    "test ids are" if what == "missing" else ("id is" if len(ids) == 1 else "ids are")
                problems.append(f"{name}: {len(ids)} {noun} {what} ({shown})")
    return checked


def read_ids(path: str | Path) -> list[str]:
    """The ``id`` column of a test CSV (``id,pixels``) or an answer key (``id,emotion``), in file order."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file "
                                "(expected test.csv or an answer key with an id column)")
    ids = []
    with path.open(newline="", encoding="utf-8") as handle:
        header = handle.readline().lstrip("\ufeff").strip().split(",")
        if not header or header[0].strip() != "id":
            raise DataError(path, f"header starts with {header[0]!r}: expected a first column named 'id'",
                            line=1)
        for number, line in enumerate(handle, start=2):
            value = line.split(",", 1)[0].strip()
            if value:
                ids.append(value)
            elif line.strip():
                raise DataError(path, "empty id: expected an id in the first column", line=number)
    if len(set(ids)) != len(ids):
        raise DataError(path, "repeated ids: expected every id once")
    return ids


def write_submission(path: str | Path, ids: Sequence[str], labels: Sequence[int | str]) -> Path:
    """Write ``submission.csv`` (``id,emotion``; labels as integers 0-6).

    Parameters
    ----------
    path : path-like
        Where to write (usually ``"submission.csv"`` next to the notebook).
    ids : sequence of str
        The test ids, e.g. ``data.test.ids``.
    labels : sequence of int or str
        One prediction per id: integers 0-6 or class names (written as their integers).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> out = write_submission(Path(tempfile.mkdtemp()) / "submission.csv", ["a", "b"], [3, "neutral"])
    >>> out.read_text()
    'id,emotion\\na,3\\nb,6\\n'
    """
    ids = [str(i) for i in (ids.tolist() if isinstance(ids, np.ndarray) else ids)]
    labels = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
    if len(ids) != len(labels):
        raise InputError(f"got {len(ids)} ids and {len(labels)} labels: expected one label per test id")
    if len(set(ids)) != len(ids):
        raise InputError("ids repeat: expected each test id once")
    for position, row_id in enumerate(ids):
        if not row_id or any(c in row_id for c in ',"\r\n') or row_id != row_id.strip():
            raise InputError(f"id at position {position} ({row_id!r}) cannot be written: expected a plain id")
    values = [to_index(label) for label in labels]
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write("id,emotion\n")
        handle.writelines(f"{row_id},{value}\n" for row_id, value in zip(ids, values))
    return path


def validate_submission(path: str | Path, test_csv: str | Path | None = None, *,
                        max_bytes: int = MAX_BYTES) -> list[str]:
    """Every problem with a submission file; an empty list means it is valid.

    Parameters
    ----------
    path : path-like
        The submission CSV.
    test_csv : path-like, optional
        ``test.csv`` (or an answer key): its ids are the ones the submission must cover.
    max_bytes : int
        Files larger than this are not read (one problem says so).

    Returns
    -------
    list of str
        One message per kind of problem, naming the file, lines and ids at fault.
    """
    path = Path(path)
    expected = read_ids(test_csv) if test_csv is not None else None
    try:
        data = read_bounded(path, max_bytes)
    except FileNotFoundError:
        return [f"{path}: no such file: expected the submission CSV (id,emotion) written by your notebook"]
    except DataError as error:
        return [str(error)]
    return check_submission_bytes(data, expected, str(path)).problems


__all__ = ["HEADER", "MAX_BYTES", "Checked", "check_submission_bytes", "read_bounded", "read_ids",
           "validate_submission", "write_submission"]
