"""The instructor's review list: graded submissions that deserve a human look, with their scores kept.

Two things are flagged, never penalised (the points stay what the grader computed):

``implausible``
    An accuracy, on all test rows or on the public or private part, above the dataset's ceiling
    (:data:`CEILINGS`). On FER2013 the ceiling is 0.76: the best published single networks reach
    about 73% (Khaireddin and Chen 2021, 73.28%), ensembles about 75-76% (Pramerdorfer and Kampel
    2016, 75.2%), and people about 65% +- 5% (Goodfellow et al. 2013); the course's own references
    are far below (a1's forest 0.43, a3's MLP 0.43, a2's CNN 0.53 after 15 epochs, the same CNN
    0.605 under the 50-epoch seed recipe). A course assignment above the best published ensemble is
    more likely a label lookup (FER2013's labels are public) than a breakthrough. On the built-in
    sample the ceiling is 0.85: above the strongest reference the course trains on it (a2's CNN,
    0.7715 at the default size) by about 8 points and below the 0.96 that its 4% of flipped labels
    allow (:data:`fercourse.data.synthetic.LABEL_NOISE`).
``model``
    The submitted model does not explain the submitted CSV (assignments with a model check): the
    record's status is ``withheld`` and its reason says what the check found. The accuracy points
    were withheld by the check itself (instructor guide, section 4); the computed accuracy is listed
    here so that a person can decide.

:func:`review` reads the verdicts the grader recorded (:mod:`fercourse.grading.records.verdicts`);
``fercourse grade review ASSIGNMENT`` prints the list and writes it as a CSV.

Examples
--------
>>> record = {"student": "ada", "status": "scored", "reason": None, "tiers_cleared": 3, "n_tiers": 3,
...           "all": {"n": 280, "correct": 280, "accuracy": 1.0}, "public": None, "private": None}
>>> [(flag.student, flag.kind) for flag in flags_for(record, ceiling=0.85)]
[('ada', 'implausible')]
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from fercourse.errors import InputError

CEILINGS = {"fer2013": 0.76, "sample": 0.85}
"""The highest plausible test accuracy per thresholds set; why, in the module docstring."""
PARTS = ("all", "public", "private")


@dataclass(frozen=True)
class Flag:
    """One reason to look at one submission; ``points`` and ``accuracy`` are what the grader kept."""

    student: str
    kind: str
    detail: str
    accuracy: float | None
    points: int | None
    n_tiers: int | None


def flags_for(record: dict, ceiling: float) -> list[Flag]:
    """The flags of one verdict record (:mod:`fercourse.grading.records.verdicts`)."""
    student = record.get("student", "?")
    scored = record.get("all") or {}
    accuracy = scored.get("accuracy")
    points, n_tiers = record.get("tiers_cleared"), record.get("n_tiers")
    flags = []
    above = [f"{part} {record[part]['accuracy']:.4f} on {record[part]['n']} rows" for part in PARTS
             if isinstance(record.get(part), dict) and record[part].get("accuracy", 0) > ceiling]
    if above:
        flags.append(Flag(student, "implausible", f"accuracy above the ceiling {ceiling:.2f}: "
                                                  + "; ".join(above), accuracy, points, n_tiers))
    if record.get("status") == "withheld":
        flags.append(Flag(student, "model", record.get("reason") or "the model check withheld the points",
                          accuracy, 0, n_tiers))
    return flags


def course_dataset(course: str | Path) -> str:
    """The thresholds set the course grades with (``dataset`` in its pin), ``sample`` without a pin."""
    from fercourse.grading.instructor_files import PIN_FILE

    pin = Path(course) / PIN_FILE
    if not pin.is_file():
        return "sample"
    try:
        return str(json.loads(pin.read_text(encoding="utf-8"))["dataset"])
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{pin}: cannot read its dataset ({error!r}): expected the pin `fercourse grade "
                         "setup` writes") from None


def review(course: str | Path, assignment: str,
           ceiling: float | None = None) -> tuple[list[Flag], int, float]:
    """The flags of every graded submission of ``assignment``, the number of records, the ceiling used.

    Raises
    ------
    InputError
        No verdicts recorded for ``assignment`` (autograde it first), or a ceiling outside (0, 1].
    """
    from fercourse.grading.records.verdicts import read_verdicts

    course = Path(course)
    if ceiling is None:
        ceiling = CEILINGS.get(course_dataset(course), CEILINGS["fer2013"])
    if not 0 < ceiling <= 1:
        raise InputError(f"--ceiling {ceiling}: expected an accuracy in (0, 1]")
    records = read_verdicts(course / "autograded", assignment)
    if not records:
        raise InputError(f"no verdicts for {assignment} yet in {course / 'autograded'}: autograde it first")
    flags = [flag for student in sorted(records) for flag in flags_for(records[student], ceiling)]
    return flags, len(records), ceiling


def render_csv(flags: list[Flag]) -> str:
    """The review list as CSV: ``student, flag, accuracy, points, n_tiers, detail``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "flag", "accuracy", "points", "n_tiers", "detail"])
    for flag in flags:
        writer.writerow([flag.student, flag.kind, "" if flag.accuracy is None else f"{flag.accuracy:.6f}",
                         "" if flag.points is None else flag.points, flag.n_tiers or "", flag.detail])
    return out.getvalue()


__all__ = ["CEILINGS", "Flag", "course_dataset", "flags_for", "render_csv", "review"]
