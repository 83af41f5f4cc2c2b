"""The verdicts of the two cells scored outside the kernel, from a submission's bytes: no nbgrader here.

:func:`grade_submission_bytes` checks ``submission.csv`` against the contract
(:mod:`fercourse.submission`) and scores it against the answer key on all, the public and the
private test rows (:func:`fercourse.grading.records.verdicts.part_scores`); the accuracy cell earns
one point per tier cleared (:func:`tiers_cleared`; tiers from the instructor's ``thresholds.json``,
:func:`load_thresholds`). For an assignment that submits a model, the accuracy verdict waits for the
model check (:class:`AfterModelCheck`). :func:`leaderboard_record` is what the grader records for the
leaderboard. The nbgrader plug-ins that call these live in
:mod:`fercourse.grading.plugins.preprocessors`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from fercourse.errors import InputError
from fercourse.grading.digests import bytes_digest
from fercourse.grading.records.split import PublicPrivateSplit
from fercourse.grading.records.verdicts import part_scores
from fercourse.grading.records.weak_spots import public_report
from fercourse.submission import AnswerKey, check_submission_bytes


@dataclass(frozen=True)
class Verdict:
    """The outcome of one graded cell: points (None for a failure) and the message shown.

    ``scores`` (accuracy cells only) is what the leaderboard records: accuracies on all, the public
    and the private test rows (:func:`fercourse.grading.records.verdicts.part_scores`); never shown.
    """

    points: float | None
    message: str
    scores: dict | None = field(default=None, repr=False, compare=False)


def tiers_cleared(accuracy: float, thresholds: list[float]) -> int:
    """How many tiers an accuracy clears (a tier is cleared at or above its threshold).

    Examples
    --------
    >>> tiers_cleared(0.31, [0.27, 0.29, 0.33])
    2
    """
    return sum(accuracy >= float(threshold) for threshold in sorted(thresholds))


def load_thresholds(path: str | Path, assignment: str, dataset: str) -> list[float]:
    """The tier thresholds for one assignment and dataset from the instructor's thresholds file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no thresholds file (expected the course's instructor-only "
                                "thresholds.json)")
    table = json.loads(path.read_text(encoding="utf-8"))
    try:
        tiers = table[assignment][dataset]
    except (KeyError, TypeError):
        raise InputError(f"{path}: no thresholds for assignment {assignment!r} and dataset {dataset!r}: "
                         f"expected {{\"{assignment}\": {{\"{dataset}\": [t1, t2, t3]}}}}") from None
    if tiers is None:
        raise InputError(f"{path}: assignment {assignment!r} has no {dataset} tiers yet (a placeholder of "
                         f"`fercourse grade new`): run `fercourse grade calibrate {assignment} --data "
                         "SOURCE`")
    if not tiers or not all(isinstance(t, (int, float)) and 0 < t <= 1 for t in tiers):
        raise InputError(f"{path}: thresholds for {assignment}/{dataset} are {tiers!r}: expected accuracies "
                         "in (0, 1]")
    return [float(t) for t in tiers]


def grade_submission_bytes(data: bytes | None, key: AnswerKey, thresholds: list[float],
                           name: str = "submission.csv",
                           split: PublicPrivateSplit | None = None,
                           kind: str = "sklearn") -> dict[str, Verdict]:
    """Verdicts for the format cell and the accuracy-tier cell from a submission's bytes.

    ``data`` None means no file was submitted. Nothing here runs student code. The tiers count
    every test row (they were calibrated that way, and a tier stays a stable grade), or only the
    private rows when they are an instructor-held test set (``split.tiers_on == "private"``: the
    public rows' labels can be looked up); with a ``split`` the message shows the accuracy on the
    public rows only, never on the private ones (:mod:`fercourse.grading.records.split`), and the
    verdict's ``scores`` keep both for the leaderboard.
    Below it the message carries what to work on, also from the public rows only: per-class recall,
    the normalised confusion matrix and lesson pointers
    (:func:`fercourse.grading.records.weak_spots.public_report`; ``kind`` ``sklearn`` or ``keras``
    picks the lessons' remedies).

    Examples
    --------
    >>> key = AnswerKey.from_bytes(b"id,emotion\\na,3\\nb,6\\nc,0\\n")
    >>> verdicts = grade_submission_bytes(b"id,emotion\\na,3\\nb,6\\nc,6\\n", key, [0.5, 0.6, 0.9])
    >>> verdicts["format"].points, verdicts["accuracy"].points
    (1, 2)
    """
    if data is None:
        missing = f"no {name} was submitted next to the notebook: expected the file your notebook writes"
        return {"format": Verdict(None, missing), "accuracy": Verdict(None, f"not scored: {missing}")}
    checked = check_submission_bytes(data, key.ids, name)
    if checked.problems:
        problems = "\n".join(f"- {p}" for p in checked.problems)
        not_scored = f"not scored: {name} is not valid (see the submission_format cell)"
        return {"format": Verdict(None, f"{name} is not valid:\n{problems}"),
                "accuracy": Verdict(None, not_scored)}
    scores = part_scores(key, checked.predictions, split)
    full_digest = bytes_digest(data)
    digest = full_digest[:16]
    held_out = split is not None and split.tiers_on == "private"
    cleared = tiers_cleared(scores["private" if held_out else "all"]["accuracy"], thresholds)
    if scores["private"] is None:
        measured = f"accuracy {scores['all']['accuracy']:.2f} on the hidden test labels, {cleared} of " \
                   f"{len(thresholds)} tiers cleared"
    else:
        public = scores["public"]
        counted = (f"the tiers count the {scores['private']['n']} private test rows, faces held by your "
                   "instructor, which also decide the final leaderboard" if held_out else
                   f"the tiers count every test row; the other {scores['private']['n']} rows are private "
                   "and decide the final leaderboard")
        measured = (f"public accuracy {public['accuracy']:.2f} on the {public['n']} public "
                    f"test rows, {cleared} of {len(thresholds)} tiers cleared ({counted})")
    scores = {**scores, "submission_sha256": full_digest, "tiers_cleared": cleared,
              "n_tiers": len(thresholds)}
    report = public_report(key, checked.predictions, split, kind=kind)
    return {"format": Verdict(1, f"{name} is valid ({scores['all']['n']} rows; sha256 {digest}...)"),
            "accuracy": Verdict(cleared, f"{name} as submitted (sha256 {digest}...): {measured}\n{report}",
                                scores)}


class AfterModelCheck:
    """The accuracy verdict of a submission whose model is being checked while its kernel runs.

    Reads like a :class:`Verdict` (``points``, ``message``); the first read waits for the check
    (:func:`fercourse.grading.plugins.model_check_runner.start_model_check`). Explained: the CSV's
    tiers, with the agreement line below; not explained: 0 points and the reason.
    """

    def __init__(self, accuracy: Verdict, pending, log) -> None:
        self._accuracy, self._pending, self._log = accuracy, pending, log
        self._verdict: Verdict | None = None

    def verdict(self) -> Verdict:
        if self._verdict is None:
            check = self._pending.result()
            if check.needs_look:
                self._log.warning("fercourse: needs a look: %s", check.message)
            else:
                self._log.info("fercourse: %s", check.message)
            self._verdict = (Verdict(self._accuracy.points, f"{self._accuracy.message}\n{check.message}")
                             if check.explained else Verdict(0, check.message))
        return self._verdict

    @property
    def points(self) -> float | None:
        return self.verdict().points

    @property
    def explained(self) -> bool:
        """Whether the submitted model explains the CSV (waits for the check)."""
        return self._pending.result().explained

    @property
    def scores(self) -> dict | None:
        return self._accuracy.scores

    @property
    def message(self) -> str:
        return self.verdict().message


def leaderboard_record(record: dict, verdicts: dict) -> dict:
    """The verdict file's record (:mod:`fercourse.grading.records.verdicts`) from one notebook's verdicts."""
    accuracy = verdicts["accuracy"]
    scores = accuracy.scores or {}
    if verdicts["format"].points is None:
        status, reason = "invalid", " ".join(verdicts["format"].message.split())
    elif isinstance(accuracy, AfterModelCheck) and not accuracy.explained:
        status, reason = "withheld", " ".join(accuracy.message.split())
    else:
        status, reason = "scored", None
    return {**record, "status": status, "reason": reason,
            "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **{name: scores.get(name) for name in ("all", "public", "private", "submission_sha256",
                                                   "tiers_cleared", "n_tiers")}}
