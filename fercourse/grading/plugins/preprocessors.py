"""Tamper-resistant scoring for the nbgrader course in ``autograder/``.

nbgrader runs a student's code and the hidden tests in one kernel, so any check made
inside that kernel can be defeated (monkeypatching, objects whose ``__eq__`` is always
true, input transformers that rewrite later cells...). The two cells that carry the
submission's points are therefore scored **outside the kernel**, in the ``nbgrader
autograde`` process, by two preprocessors that ``autograder/nbgrader_config.py`` adds:

:class:`SnapshotSubmission` (last of ``Autograde.sanitize_preprocessors``)
    Runs before the student's kernel starts. Reads ``submission.csv`` from
    ``submitted/<student>/<assignment>/`` (the file as submitted: bounded read, symbolic
    links refused), checks it with :mod:`fercourse.submission` and scores it against the
    answer key. The key's path comes from the environment variable ``FERCOURSE_ANSWER_KEY``
    of the nbgrader process, which is removed from the environment (and blanked in
    ``/proc/<pid>/environ`` where possible) before any kernel starts; its SHA-256 must equal
    the pin in the course config, or nothing is graded.
:class:`ApplyScores` (right after ``Execute`` in ``Autograde.autograde_preprocessors``)
    Replaces whatever the kernel printed in the ``submission_format`` and ``accuracy_tiers``
    cells with the verdicts computed before execution (nbgrader's ``SaveAutoGrades`` then
    reads them: an error output scores 0, an ``execute_result`` of ``k`` scores ``k``
    points) and cuts tracebacks of cells with hidden tests down to their last line so hidden
    code never reaches feedback. That the key and the other instructor files are unchanged
    after the student's code ran is checked by :mod:`fercourse.grading.integrity`.

Thresholds are instructor-only, in ``thresholds.json`` at the course root (never under
``source/``, so never released), one tier list per assignment and per dataset
(``sample`` or ``fer2013``). Feedback says how many tiers were cleared, never where they are.

State kept between the two preprocessors (the verdicts, the key read once per process)
lives in this module and is only touched while ``nbgrader autograde`` runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict, Float, Integer, Unicode

from fercourse.config import ANSWER_KEY_ENV
from fercourse.errors import InputError
from fercourse.grading import model_check
from fercourse.grading.pseudonyms import pseudonym
from fercourse.grading.split import PublicPrivateSplit, split_path
from fercourse.grading.verdicts import part_scores, remove_verdicts, write_verdict
from fercourse.submission import MAX_BYTES, AnswerKey, check_submission_bytes

KEY_ENV = ANSWER_KEY_ENV
FORMAT_CELL = "submission_format"
ACCURACY_CELL = "accuracy_tiers"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"

_KEY: dict[str, object] = {}  # path, key; filled on first use in the nbgrader process
_VERDICTS: dict[tuple[str, str, str], dict] = {}
_RECORDS: dict[tuple[str, str, str], dict] = {}  # for the leaderboard; written after the kernel ended


@dataclass(frozen=True)
class Verdict:
    """The outcome of one graded cell: points (None for a failure) and the message shown.

    ``scores`` (accuracy cells only) is what the leaderboard records: accuracies on all, the public
    and the private test rows (:func:`fercourse.grading.verdicts.part_scores`); never shown.
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
                           split: PublicPrivateSplit | None = None) -> dict[str, Verdict]:
    """Verdicts for the format cell and the accuracy-tier cell from a submission's bytes.

    ``data`` None means no file was submitted. Nothing here runs student code. The tiers count
    every test row (they were calibrated that way, and a tier stays a stable grade); with a
    ``split`` the message shows the accuracy on the public rows only, never on the private ones
    (:mod:`fercourse.grading.split`), and the verdict's ``scores`` keep both for the leaderboard.

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
    full_digest = hashlib.sha256(data).hexdigest()
    digest = full_digest[:16]
    cleared = tiers_cleared(scores["all"]["accuracy"], thresholds)
    if scores["private"] is None:
        measured = f"accuracy {scores['all']['accuracy']:.2f} on the hidden test labels, {cleared} of " \
                   f"{len(thresholds)} tiers cleared"
    else:
        public = scores["public"]
        measured = (f"public accuracy {public['accuracy']:.2f} on the {public['n']} public "
                    f"test rows, {cleared} of {len(thresholds)} tiers cleared (the tiers count every test "
                    f"row; the other {scores['private']['n']} rows are private and decide the final "
                    "leaderboard)")
    scores = {**scores, "submission_sha256": full_digest, "tiers_cleared": cleared,
              "n_tiers": len(thresholds)}
    return {"format": Verdict(1, f"{name} is valid ({scores['all']['n']} rows; sha256 {digest}...)"),
            "accuracy": Verdict(cleared, f"{name} as submitted (sha256 {digest}...): {measured}", scores)}


def _blank_environment_value(name: str) -> None:
    """Overwrite the bytes of an environment value in this process's memory (Linux, glibc).

    ``os.environ.pop`` alone leaves the original text readable in ``/proc/<pid>/environ``,
    which a kernel started by this process could read.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.getenv.restype = ctypes.c_void_p
        pointer = libc.getenv(name.encode())
        if pointer:
            ctypes.memset(pointer, ord("x"), len(os.environ.get(name, "").encode()))
    except (OSError, AttributeError):  # not glibc: the pop below still hides it from children
        pass


def take_key_path() -> Path:
    """The answer key path from ``FERCOURSE_ANSWER_KEY``, removed from the environment on first call."""
    if KEY_ENV in os.environ:
        value = os.environ[KEY_ENV]
        _blank_environment_value(KEY_ENV)
        os.environ.pop(KEY_ENV, None)
        _KEY.clear()
        _KEY["path"] = Path(value).expanduser().resolve()
    if "path" not in _KEY:
        raise InputError(f"no answer key: run autograde as `{KEY_ENV}=/instructor/only/answer_key.csv "
                         "nbgrader autograde ASSIGNMENT` (the path is read from the environment and removed "
                         "before any student kernel starts)")
    return _KEY["path"]


class FercourseGrader(NbGraderPreprocessor):
    """Options shared by :class:`SnapshotSubmission` and :class:`ApplyScores` (``c.FercourseGrader.*``)."""

    answer_key_sha256 = Unicode("", help="SHA-256 of the answer key file (printed by `fercourse data "
                                         "prepare` and written by `fercourse grade setup`); grading refuses "
                                         "any other key."
                                ).tag(config=True)
    dataset = Unicode("sample", help="Which thresholds to use: 'sample' or 'fer2013'.").tag(config=True)
    thresholds_file = Unicode("thresholds.json", help="Tier thresholds, relative to the course root; "
                                                      "instructor-only.").tag(config=True)
    submission_file = Unicode("submission.csv", help="The file each notebook writes next to itself."
                              ).tag(config=True)
    format_cell = Unicode(FORMAT_CELL, help="grade_id of the cell that checks the submission's format."
                          ).tag(config=True)
    accuracy_cell = Unicode(ACCURACY_CELL, help="grade_id of the partial-credit accuracy-tier cell."
                            ).tag(config=True)
    max_bytes = Integer(MAX_BYTES, help="Largest submission file read; larger ones fail the format cell."
                        ).tag(config=True)
    split_sha256 = Unicode("", help="SHA-256 of the public/private split next to the answer key (written "
                                    "by `fercourse grade setup`); empty for a course set up without one, "
                                    "whose test rows then all count as public.").tag(config=True)

    def course_root(self) -> Path:
        """The nbgrader course folder (``CourseDirectory.root``), resolved."""
        return Path(CourseDirectory(config=self.config).root).resolve()

    def answer_key(self) -> AnswerKey:
        """The key, read and checked against the pin once per process."""
        path = take_key_path()
        if not self.answer_key_sha256:
            raise InputError("the answer key is not pinned: set c.FercourseGrader.answer_key_sha256 in "
                             "nbgrader_config.py (or run `fercourse grade setup`)")
        root = self.course_root()
        if path == root or root in path.parents:
            raise InputError(f"the answer key {path} is inside the course folder {root}: keep it outside, "
                             "where no release, submission or autograded folder can reach it")
        if "key" not in _KEY:
            key = AnswerKey.read(path)
            if key.sha256 != self.answer_key_sha256:
                raise InputError(f"the answer key {path} has SHA-256 {key.sha256}, but nbgrader_config.py "
                                 f"pins {self.answer_key_sha256}: the key was edited or is the wrong file; "
                                 "not grading")
            _KEY["key"] = key
        return _KEY["key"]  # type: ignore[return-value]

    def split(self) -> PublicPrivateSplit | None:
        """The public/private split next to the key, checked against its pin and the key once per process.

        None for a course set up before splits existed (nothing pinned, no file): every test row
        is then public, as the feedback has always shown it.
        """
        if "split" not in _KEY:
            key, path = self.answer_key(), split_path(take_key_path())
            if self.split_sha256:
                split = PublicPrivateSplit.read(path, self.split_sha256)
                split.check_covers(key.ids, f"the answer key {take_key_path()}")
            elif path.exists():
                raise InputError(f"{path} exists but no split is pinned (c.FercourseGrader.split_sha256 "
                                 "is empty): nbgrader_config.py sets it from the split_sha256 that "
                                 "`fercourse grade setup` writes to answer_key.pin.json; re-run setup or "
                                 "set it")
            else:
                split = None
                self.log.warning("fercourse: no public/private split (course set up before fercourse "
                                 "wrote one): feedback and the leaderboard count every test row as public; "
                                 "re-run `fercourse grade setup` with the same salt to add one")
            _KEY["split"] = split
        return _KEY["split"]  # type: ignore[return-value]

    def pseudonym(self, student: str) -> str:
        """The student's leaderboard pseudonym (keyed by the split's secret, else the key's hash)."""
        split = self.split()
        return pseudonym(student, split.pseudonym_secret if split else self.answer_key().sha256)

    def autograded_folder(self, student: str, assignment: str) -> Path:
        """``autograded/<student>/<assignment>/``: the kernel's working folder."""
        coursedir = CourseDirectory(config=self.config)
        return Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))

    def graded_cells(self, nb) -> set[str]:
        """The grade_ids of this notebook's cells that are scored outside the kernel."""
        ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
        return ids & {self.format_cell, self.accuracy_cell}


def _where(resources) -> tuple[str, str, str]:
    info = resources["nbgrader"]
    return info["student"], info["assignment"], info["notebook"]


class AfterModelCheck:
    """The accuracy verdict of a submission whose model is being checked while its kernel runs.

    Reads like a :class:`Verdict` (``points``, ``message``); the first read waits for the check
    (:func:`fercourse.grading.model_check.start_model_check`). Explained: the CSV's tiers, with the
    agreement line below; not explained: 0 points and the reason.
    """

    def __init__(self, accuracy: Verdict, pending, log) -> None:
        self._accuracy, self._pending, self._log = accuracy, pending, log
        self._verdict: Verdict | None = None

    def verdict(self) -> Verdict:
        if self._verdict is None:
            check = self._pending.result()
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


class SnapshotSubmission(FercourseGrader):
    """Score the submitted ``submission.csv`` before the student's kernel starts.

    For an assignment in ``model_files`` the accuracy points also need the submitted model to
    explain the CSV (:mod:`fercourse.grading.model_check`).
    """

    model_files = Dict(key_trait=Unicode(), value_trait=Unicode(), default_value={},
                       help="Assignment -> the Keras model file submitted next to its notebook (e.g. "
                            "{'a2_cnn': 'cnn.keras'}). The model is loaded safely (never running student "
                            "code) and predicts the released test set; the accuracy points are given only "
                            "when submission.csv agrees with it on at least min_model_agreement of the rows."
                       ).tag(config=True)
    min_model_agreement = Float(model_check.MIN_AGREEMENT, min=0.0, max=1.0,
                                help="Share of test rows on which submission.csv must equal the submitted "
                                     "model's prediction (the rest allows for numeric noise)."
                                ).tag(config=True)
    max_model_bytes = Integer(model_check.MAX_MODEL_BYTES, help="Largest model file read; a larger one "
                                                                "earns no accuracy points.").tag(config=True)
    model_test_csv = Unicode("data/test.csv", help="The released test set the model predicts, relative to "
                                                   "source/<assignment>/ (the instructor's copy)."
                             ).tag(config=True)

    def preprocess(self, nb, resources):
        student, assignment, notebook = _where(resources)
        for stale in remove_verdicts(self.autograded_folder(student, assignment)):
            self.log.warning("fercourse: removed %s before the kernel starts (submitted, or left by an "
                             "earlier run); the grader writes its own after the kernel ends", stale)
        if not self.graded_cells(nb):
            return nb, resources
        self._drop_followed_links(Path(resources["metadata"]["path"]), student, assignment)
        key = self.answer_key()
        split = self.split()
        thresholds = load_thresholds(self.course_root() / self.thresholds_file, assignment, self.dataset)
        path = Path(resources["metadata"]["path"]) / self.submission_file
        name = self.submission_file
        if path.is_symlink():
            verdicts = {"format": Verdict(None, f"{name} is a symbolic link: expected a regular file"),
                        "accuracy": Verdict(None, f"not scored: {name} is a symbolic link")}
        elif not path.is_file():
            verdicts = grade_submission_bytes(None, key, thresholds, name, split)
        elif path.stat().st_size > self.max_bytes:
            megabytes = path.stat().st_size / 1e6
            message = f"{name} is {megabytes:.1f} MB, over the {self.max_bytes / 1e6:.0f} MB limit"
            verdicts = {"format": Verdict(None, message), "accuracy": Verdict(None, f"not scored: {message}")}
        else:
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes)
            verdicts = grade_submission_bytes(data, key, thresholds, name, split)
            if assignment in self.model_files and verdicts["accuracy"].points is not None:
                verdicts["accuracy"] = self._model_explains(verdicts["accuracy"], path.parent, assignment,
                                                            data)
        _VERDICTS[(student, assignment, notebook)] = verdicts
        _RECORDS[(student, assignment, notebook)] = {
            "student": student, "assignment": assignment, "notebook": notebook,
            "pseudonym": self.pseudonym(student), "split": "public/private" if split else "none"}
        accuracy = verdicts["accuracy"]  # reading a pending check's points would wait for it
        self.log.info("fercourse: %s/%s/%s scored before execution: format %s, accuracy tiers %s", student,
                      assignment, notebook, verdicts["format"].points,
                      "after the model check" if isinstance(accuracy, AfterModelCheck) else accuracy.points)
        return nb, resources

    def _model_explains(self, accuracy: Verdict, submitted: Path, assignment: str,
                        data: bytes) -> AfterModelCheck:
        """The accuracy verdict once the submitted model is checked against the CSV (in the background)."""
        source = self.course_root() / CourseDirectory(config=self.config).source_directory / assignment
        pending = model_check.start_model_check(submitted / self.model_files[assignment],
                                                source / self.model_test_csv, data,
                                                csv_name=self.submission_file,
                                                min_agreement=self.min_model_agreement,
                                                max_bytes=self.max_model_bytes)
        return AfterModelCheck(accuracy, pending, self.log)

    def _drop_followed_links(self, submitted: Path, student: str, assignment: str) -> None:
        """nbgrader copies a submitted symbolic link as its target's content: remove such copies
        from the kernel's working folder before the kernel starts (a link to the key would leak it)."""
        autograded = self.autograded_folder(student, assignment)
        for link in submitted.rglob("*"):
            copy = autograded / link.relative_to(submitted)
            if link.is_symlink() and copy.is_file() and not copy.is_symlink():
                copy.unlink()
                self.log.warning("fercourse: %s is a symbolic link; removed its copy %s", link, copy)


def leaderboard_record(record: dict, verdicts: dict) -> dict:
    """The verdict file's record (:mod:`fercourse.grading.verdicts`) from one notebook's verdicts."""
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


def _outputs(verdict: Verdict, max_points: float) -> list:
    from nbformat.v4 import new_output

    if verdict.points is None:
        return [new_output("error", ename="SubmissionNotScored", evalue=verdict.message.splitlines()[0],
                           traceback=[f"SubmissionNotScored: {verdict.message}"])]
    outputs = [new_output("stream", name="stdout", text=verdict.message + "\n")]
    if max_points != 1 or verdict.points != 1:
        outputs.append(new_output("execute_result", data={"text/plain": str(verdict.points)},
                                  execution_count=None))
    return outputs


class ApplyScores(FercourseGrader):
    """Write the verdicts computed before execution into the graded cells, after the kernel ran."""

    def preprocess(self, nb, resources):
        cells = self.graded_cells(nb)
        student, assignment, notebook = _where(resources)
        verdicts = _VERDICTS.pop((student, assignment, notebook), None)
        record = _RECORDS.pop((student, assignment, notebook), None)
        if cells and verdicts is None:
            raise InputError("ApplyScores found no verdicts: add fercourse.grading.SnapshotSubmission at "
                             "the end of c.Autograde.sanitize_preprocessors")
        folder = self.autograded_folder(student, assignment)
        for forged in remove_verdicts(folder):  # written by the student's kernel
            self.log.warning("fercourse: removed %s, written while %s's kernel ran", forged, student)
        if cells and record is not None:
            write_verdict(folder, notebook, leaderboard_record(record, verdicts))
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id")
            if verdicts and grade_id == self.format_cell:
                cell.outputs = _outputs(verdicts["format"], float(meta.get("points", 1)))
            elif verdicts and grade_id == self.accuracy_cell:
                cell.outputs = _outputs(verdicts["accuracy"], float(meta.get("points", 1)))
            elif cell.cell_type == "code" and HIDDEN_BEGIN in cell.source:
                for output in cell.outputs:  # a traceback would quote hidden test lines
                    if output.output_type == "error":
                        output.traceback = [f"{output.ename}: {output.evalue}"]
        return nb, resources


class FeedbackHtmlOnly(NbGraderPreprocessor):
    """In ``GenerateFeedback``: keep only the HTML reports in a student's feedback folder.

    nbgrader copies every file of ``autograded/<student>/<assignment>/`` into the feedback,
    including files the student's code wrote during autograde (a ``submission.csv`` that a
    cheater filled from the key, say) and the course data. This removes them before the
    report is written.
    """

    def preprocess(self, nb, resources):
        student, assignment, _ = _where(resources)
        coursedir = CourseDirectory(config=self.config)
        folder = Path(coursedir.format_path(coursedir.feedback_directory, student, assignment))
        for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
            elif path.suffix != ".html":
                path.unlink()
        return nb, resources


def scored_outside_kernel(cell: str = ACCURACY_CELL) -> str:
    """What a hidden score cell prints when run in the notebook; at autograde its output is replaced.

    Examples
    --------
    >>> scored_outside_kernel()
    'accuracy_tiers: scored by the autograder from the submission.csv you submit'
    """
    return f"{cell}: scored by the autograder from the submission.csv you submit"
