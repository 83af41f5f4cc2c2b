"""What the grader measured for each submission, kept for the class leaderboard.

:class:`~fercourse.grading.plugins.preprocessors.SnapshotSubmission` scores ``submission.csv`` outside the
student's kernel on the public part, the private part and all of the test rows
(:func:`part_scores`); :class:`~fercourse.grading.plugins.preprocessors.ApplyScores`, once the student's
kernel has ended, writes one JSON record per graded notebook into the student's autograded folder:

``autograded/<student>/<assignment>/.fercourse-verdict-<notebook>.json``

The kernel never sees it: any file of that name is deleted before the kernel starts (a submitted
one, or one left by an earlier run) and again after it ends, before the real one is written.
Parallel grading that copies each student's autograded folder back keeps it with the notebook;
``nbgrader generate_feedback`` copies it into the feedback folder, where
:class:`~fercourse.grading.plugins.feedback.FeedbackHtmlOnly` deletes it with every other non-HTML
file.
``fercourse grade leaderboard`` reads the records (:func:`read_verdicts`).

A record holds ``student``, ``assignment``, ``notebook``, ``pseudonym``, ``status`` (``scored``;
``invalid`` when submission.csv was missing or broke the contract; ``withheld`` when its accuracy
points were withheld, e.g. a2's model did not predict it), ``reason``, ``submission_sha256``,
``all``/``public``/``private`` (each ``n``, ``correct``, ``accuracy``; ``private`` is None for a
course without a split), ``tiers_cleared``, ``split`` (``public/private`` or ``none``) and
``graded_at`` (UTC, ISO 8601).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from fercourse.errors import DataError, InputError
from fercourse.evaluate import evaluate
from fercourse.grading.records.split import PublicPrivateSplit
from fercourse.submission import AnswerKey

PREFIX = ".fercourse-verdict-"
FORMAT = "fercourse verdict 1"


def verdict_path(folder: str | Path, notebook: str) -> Path:
    """The verdict file of one notebook in an autograded folder."""
    return Path(folder) / f"{PREFIX}{notebook}.json"


def part_scores(key: AnswerKey, predictions: Mapping[str, int], split: PublicPrivateSplit | None) -> dict:
    """Correct rows and accuracy on all test rows and on the public and private parts.

    ``predictions`` must cover every id of ``key`` (a checked, valid submission). Without a split
    every row is public and ``private`` is None. Accuracies come from :func:`fercourse.evaluate.evaluate`,
    as every other accuracy of the course.

    Examples
    --------
    >>> key = AnswerKey.from_bytes(b"id,emotion\\na,3\\nb,6\\nc,0\\nd,1\\n")
    >>> split = PublicPrivateSplit(frozenset("ab"), frozenset("cd"), 0.5, "secret")
    >>> scores = part_scores(key, {"a": 3, "b": 6, "c": 0, "d": 0}, split)
    >>> scores["public"], scores["private"]["correct"], scores["all"]["accuracy"]
    ({'n': 2, 'correct': 2, 'accuracy': 1.0}, 1, 0.75)
    """
    y_pred = np.fromiter((predictions[i] for i in key.ids), dtype=np.int64, count=len(key.ids))
    y_true = np.asarray(key.labels, dtype=np.int64)

    def score(mask: np.ndarray, part: str) -> dict:
        if not mask.any():
            return {"n": 0, "correct": 0, "accuracy": 0.0}
        result = evaluate(y_true[mask], y_pred[mask], split=f"test ({part})")
        return {"n": result["n"], "correct": int(np.trace(result["confusion"].to_numpy())),
                "accuracy": result["accuracy"]}

    everything = np.ones(len(key.ids), dtype=bool)
    if split is None:
        return {"all": score(everything, "all"), "public": score(everything, "public"), "private": None}
    public = np.fromiter((i in split.public for i in key.ids), dtype=bool, count=len(key.ids))
    return {"all": score(everything, "all"), "public": score(public, "public"),
            "private": score(~public, "private")}


def remove_verdicts(folder: str | Path) -> list[Path]:
    """Delete every verdict file (or link of that name) in ``folder``; returns what was deleted."""
    removed = []
    for path in Path(folder).glob(f"{PREFIX}*"):
        if path.is_symlink() or path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def write_verdict(folder: str | Path, notebook: str, record: Mapping) -> Path:
    """Write one notebook's verdict record (never through a link: an existing entry is deleted first)."""
    path = verdict_path(folder, notebook)
    if path.is_symlink() or path.is_file():
        path.unlink()
    data = json.dumps({"format": FORMAT, **record}, indent=1, sort_keys=True) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(data)
    return path


def read_verdicts(autograded: str | Path, assignment: str) -> dict[str, dict]:
    """``student -> record`` for every verdict under ``autograded/*/<assignment>/``.

    Raises
    ------
    DataError
        A verdict file is not a record this module wrote, or a student has two (two graded notebooks).
    """
    out: dict[str, dict] = {}
    for path in sorted(Path(autograded).glob(f"*/{assignment}/{PREFIX}*.json")):
        if path.is_symlink():
            continue  # never written by the grader
        student = path.parent.parent.name
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DataError(path, f"cannot be read as a verdict ({error})") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("student") != student:
            raise DataError(path, f"not a verdict for student {student!r}: expected a record with format "
                                  f"{FORMAT!r} written by the grader")
        if student in out:
            raise InputError(f"{path.parent}: more than one verdict file: expected one graded notebook per "
                             "assignment")
        out[student] = record
    return out


__all__ = ["PREFIX", "part_scores", "read_verdicts", "remove_verdicts", "verdict_path", "write_verdict"]
