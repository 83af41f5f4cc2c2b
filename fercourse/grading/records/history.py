"""Each student's graded submissions over time, for the leaderboard's history column.

A student's autograded folder holds only the latest grading (nbgrader replaces it on every
re-grade), so the grader also appends every verdict it writes to an instructor-only log in the
course folder, one JSON line per grading::

    COURSE/.fercourse-history-<assignment>.jsonl

Serial ``nbgrader autograde`` appends from :class:`~fercourse.grading.plugins.preprocessors.ApplyScores`
(right after it writes the verdict); ``fercourse grade autograde``, whose tasks grade in scratch
courses, appends from the coordinator when it records a student
(:func:`fercourse.grading.coordinator.course.record`). An entry keeps the **public** score only
(never the private one, never the tiers), the status, the submission's SHA-256 and when it was
graded. The log sits beside ``nbgrader_config.py``, outside every folder a student kernel sees.

:func:`read_history` gives each student's submissions in order; grading the same file again (a
``--force`` re-run) is the same submission, not a new one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from fercourse.errors import DataError

FIELDS = ("student", "pseudonym", "status", "submission_sha256", "public", "graded_at")


def history_path(course: str | Path, assignment: str) -> Path:
    """The history log of one assignment in the course folder."""
    return Path(course) / f".fercourse-history-{assignment}.jsonl"


def append_history(course: str | Path, record: Mapping) -> Path:
    """Append one verdict record's public part to its assignment's log (never through a link)."""
    path = history_path(course, record["assignment"])
    entry = {name: record.get(name) for name in FIELDS}
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    return path


def read_history(course: str | Path, assignment: str) -> dict[str, list[dict]]:
    """``student -> [entry, ...]``, oldest first, one entry per distinct submission (re-grades dropped).

    An assignment graded before the log existed has no history (an empty dict).

    Raises
    ------
    DataError
        A line of the log is not an entry this module wrote (the line number is named).
    """
    path = history_path(course, assignment)
    if not path.is_file() or path.is_symlink():
        return {}
    out: dict[str, list[dict]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("student"), str):
            raise DataError(path, f"line {number} is not a history entry: expected one JSON object with a "
                                  "'student' per line, as the grader writes them")
        entries = out.setdefault(entry["student"], [])
        if entries and entries[-1].get("submission_sha256") == entry.get("submission_sha256"):
            entries[-1] = entry  # the same file graded again: keep the latest grading
        else:
            entries.append(entry)
    return out


def public_accuracies(entries: list[dict]) -> tuple[float | None, ...]:
    """The public accuracy of each submission, oldest first (None: not scored, e.g. an invalid CSV).

    Examples
    --------
    >>> public_accuracies([{"status": "scored", "public": {"accuracy": 0.25}}, {"status": "invalid"}])
    (0.25, None)
    """
    return tuple((entry.get("public") or {}).get("accuracy") if entry.get("status") == "scored" else None
                 for entry in entries)


__all__ = ["append_history", "history_path", "public_accuracies", "read_history"]
