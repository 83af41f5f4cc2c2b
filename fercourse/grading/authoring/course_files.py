"""Write the course's instructor data files: ``assignments.json`` and ``thresholds.json``.

``grade new`` adds an assignment to ``assignments.json`` (the files its students submit, and the
Keras model file; ``nbgrader_config.py`` reads the file, so no code is edited) and a placeholder
to ``thresholds.json``; ``grade calibrate`` writes tiers and what they were measured from into
``thresholds.json``. Both files are rewritten in their own layout (thresholds: one assignment per
block, tier lists on one line, numbers as written), atomically.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from fercourse.errors import InputError
from fercourse.files import atomic_write_text
from fercourse.grading.instructor_files import read_assignments


def add_assignment(path: str | Path, name: str, submitted_files: tuple[str, ...] | list[str],
                   model_file: str | None = None) -> None:
    """Add ``name`` to the course's ``assignments.json`` (which ``nbgrader_config.py`` reads).

    Parameters
    ----------
    path : path-like
        The course's ``assignments.json``.
    name : str
        The new assignment.
    submitted_files : sequence of str
        The files its students submit next to the notebook (never replaced by the instructor's
        copy in ``source/``).
    model_file : str, optional
        The Keras model file whose predictions must be the submitted CSV.

    Raises
    ------
    InputError
        ``path`` is not a valid assignments file, or already has ``name``.
    """
    path = Path(path)
    table = read_assignments(path)
    if name in table:
        raise InputError(f"{path}: already has an entry {name!r}")
    entry: dict = {"submitted_files": list(submitted_files)}
    if model_file is not None:
        entry["model_file"] = model_file
    table[name] = entry
    atomic_write_text(path, format_assignments(table))


def format_assignments(table: dict) -> str:
    """The assignments file's text: one assignment a line, in the order given.

    Examples
    --------
    >>> print(format_assignments({"a1": {"submitted_files": ["submission.csv"]}}), end="")
    {
      "a1": {"submitted_files": ["submission.csv"]}
    }
    """
    lines = [f"  {json.dumps(name)}: {json.dumps(entry)}" for name, entry in table.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def read_thresholds_table(path: str | Path) -> dict:
    """The thresholds file as nested dicts, numbers kept as written (``Decimal``), for rewriting."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no thresholds file (expected the course's instructor-only "
                                "thresholds.json)")
    try:
        table = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(table, dict):
        raise InputError(f"{path}: expected a JSON object "
                         "{\"assignment\": {\"sample\": [t1, t2, t3], ...}}")
    return table


def format_thresholds(table: dict) -> str:
    """The thresholds file's text: objects one key a line, indented by 2; lists on one line.

    Examples
    --------
    >>> print(format_thresholds({"a1": {"sample": [Decimal("0.30"), 0.4], "note": None}}), end="")
    {
      "a1": {
        "sample": [0.30, 0.4],
        "note": null
      }
    }
    """
    def dump(value, depth: int) -> str:
        if isinstance(value, dict):
            if not value:
                return "{}"
            pad = "  " * (depth + 1)
            items = [f"{pad}{json.dumps(str(k))}: {dump(v, depth + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
        if isinstance(value, list):
            return "[" + ", ".join(dump(v, depth + 1) for v in value) + "]"
        if isinstance(value, Decimal):
            return str(value)
        return json.dumps(value, ensure_ascii=False)

    return dump(table, 0) + "\n"


def write_thresholds_table(path: str | Path, table: dict) -> None:
    """Write ``table`` to the thresholds file in :func:`format_thresholds`'s layout (atomically)."""
    atomic_write_text(Path(path), format_thresholds(table))
