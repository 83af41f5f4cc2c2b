"""Tamper-resistant scoring for the nbgrader course in ``autograder/``: the two plug-ins around the kernel.

nbgrader runs a student's code and the hidden tests in one kernel, so any check made
inside that kernel can be defeated (monkeypatching, objects whose ``__eq__`` is always
true, input transformers that rewrite later cells...). The two cells that carry the
submission's points are therefore scored **outside the kernel**, in the ``nbgrader
autograde`` process, by two preprocessors that ``autograder/nbgrader_config.py`` adds:

:class:`SnapshotSubmission` (last of ``Autograde.sanitize_preprocessors``)
    Runs before the student's kernel starts. Reads ``submission.csv`` from
    ``submitted/<student>/<assignment>/`` (the file as submitted: bounded read, symbolic
    links refused), checks it with :mod:`fercourse.submission` and scores it against the
    answer key (:mod:`fercourse.grading.plugins.scoring`). The key's path comes from the
    environment variable ``FERCOURSE_ANSWER_KEY`` of the nbgrader process, which is removed from
    the environment (and blanked in ``/proc/<pid>/environ`` where possible) before any kernel
    starts; its SHA-256 must equal the pin in the course config, or nothing is graded.
:class:`ApplyScores` (right after ``Execute`` in ``Autograde.autograde_preprocessors``)
    Replaces whatever the kernel printed in the ``submission_format`` and ``accuracy_tiers``
    cells with the verdicts computed before execution (nbgrader's ``SaveAutoGrades`` then
    reads them: an error output scores 0, an ``execute_result`` of ``k`` scores ``k``
    points) and cuts tracebacks of cells with hidden tests down to their last line so hidden
    code never reaches feedback. That the key and the other instructor files are unchanged
    after the student's code ran is checked by :mod:`fercourse.grading.plugins.integrity`.

Thresholds are instructor-only, in ``thresholds.json`` at the course root (never under
``source/``, so never released), one tier list per assignment and per dataset
(``sample`` or ``fer2013``). Feedback says how many tiers were cleared, never where they are.

What the two plug-ins share (the key read once, the verdicts between the passes) is the
process's :class:`~fercourse.grading.plugins.state.GradingState`.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.nbgraderformat import SCHEMA_VERSION
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor
from traitlets import Dict, Float, Integer, Unicode

from fercourse.errors import InputError
from fercourse.grading.instructor_files import THRESHOLDS_FILE, split_path
from fercourse.grading.kernel import ACCURACY_CELL, FORMAT_CELL
from fercourse.grading.plugins.model_check import MAX_MODEL_BYTES, MIN_AGREEMENT
from fercourse.grading.plugins.scoring import (
    AfterModelCheck,
    Verdict,
    grade_submission_bytes,
    leaderboard_record,
    load_thresholds,
)
from fercourse.grading.plugins.state import GradingState, notebook_of, state_for
from fercourse.grading.records.history import append_history
from fercourse.grading.records.pseudonyms import pseudonym
from fercourse.grading.records.split import PublicPrivateSplit
from fercourse.grading.records.verdicts import remove_verdicts, write_verdict
from fercourse.grading.student_files import FolderContents, classify, over_size, read_regular, remove_refused
from fercourse.submission import MAX_BYTES, AnswerKey

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"


class FercourseGrader(NbGraderPreprocessor):
    """Options shared by :class:`SnapshotSubmission` and :class:`ApplyScores` (``c.FercourseGrader.*``)."""

    answer_key_sha256 = Unicode("", help="SHA-256 of the answer key file (printed by `fercourse data "
                                         "prepare` and written by `fercourse grade setup`); grading refuses "
                                         "any other key."
                                ).tag(config=True)
    dataset = Unicode("sample", help="Which thresholds to use: 'sample' or 'fer2013'.").tag(config=True)
    thresholds_file = Unicode(THRESHOLDS_FILE, help="Tier thresholds, relative to the course root; "
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

    def answer_key(self, state: GradingState) -> AnswerKey:
        """The key, read and checked against the pin once per process (kept in ``state``)."""
        path = state.take_key_path()
        if not self.answer_key_sha256:
            raise InputError("the answer key is not pinned: set c.FercourseGrader.answer_key_sha256 in "
                             "nbgrader_config.py (or run `fercourse grade setup`)")
        root = self.course_root()
        if path == root or root in path.parents:
            raise InputError(f"the answer key {path} is inside the course folder {root}: keep it outside, "
                             "where no release, submission or autograded folder can reach it")
        if state.key is None:
            key = AnswerKey.read(path)
            if key.sha256 != self.answer_key_sha256:
                raise InputError(f"the answer key {path} has SHA-256 {key.sha256}, but nbgrader_config.py "
                                 f"pins {self.answer_key_sha256}: the key was edited or is the wrong file; "
                                 "not grading")
            state.key = key
        return state.key

    def split(self, state: GradingState) -> PublicPrivateSplit | None:
        """The public/private split next to the key, checked against its pin and the key once per process.

        None for a course set up before splits existed (nothing pinned, no file): every test row
        is then public, as the feedback has always shown it.
        """
        if not state.split_read:
            key, path = self.answer_key(state), split_path(state.take_key_path())
            if self.split_sha256:
                split = PublicPrivateSplit.read(path, self.split_sha256)
                split.check_covers(key.ids, f"the answer key {state.key_path}")
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
            state.split, state.split_read = split, True
        return state.split

    def pseudonym(self, student: str, state: GradingState) -> str:
        """The student's leaderboard pseudonym (keyed by the split's secret, else the key's hash)."""
        split = self.split(state)
        return pseudonym(student, split.pseudonym_secret if split else self.answer_key(state).sha256)

    def autograded_folder(self, student: str, assignment: str) -> Path:
        """``autograded/<student>/<assignment>/``: the kernel's working folder."""
        coursedir = CourseDirectory(config=self.config)
        return Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))

    def graded_cells(self, nb) -> set[str]:
        """The grade_ids of this notebook's cells that are scored outside the kernel."""
        ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
        return ids & {self.format_cell, self.accuracy_cell}


class SnapshotSubmission(FercourseGrader):
    """Score the submitted ``submission.csv`` before the student's kernel starts.

    For an assignment in ``model_files`` the accuracy points also need the submitted model to
    explain the CSV (:mod:`fercourse.grading.plugins.model_check`).
    """

    model_files = Dict(key_trait=Unicode(), value_trait=Unicode(), default_value={},
                       help="Assignment -> the Keras model file submitted next to its notebook (e.g. "
                            "{'a2_cnn': 'cnn.keras'}). The model is loaded safely (never running student "
                            "code) and predicts the released test set; the accuracy points are given only "
                            "when submission.csv agrees with it on at least min_model_agreement of the rows."
                       ).tag(config=True)
    min_model_agreement = Float(MIN_AGREEMENT, min=0.0, max=1.0,
                                help="Share of test rows on which submission.csv must equal the submitted "
                                     "model's prediction (the rest allows for numeric noise)."
                                ).tag(config=True)
    max_model_bytes = Integer(MAX_MODEL_BYTES, help="Largest model file read; a larger one earns no "
                                                    "accuracy points.").tag(config=True)
    model_check_cpu_seconds = Integer(120, help="Processor-time limit of one model check (a child process: "
                                                "TensorFlow's import, the load, the prediction); past it "
                                                "the accuracy points are withheld and the log says so."
                                      ).tag(config=True)
    model_check_memory_mb = Integer(4096, help="Address-space limit of the model check's child process, in "
                                               "MiB.").tag(config=True)
    model_test_csv = Unicode("data/test.csv", help="The released test set the model predicts, relative to "
                                                   "source/<assignment>/ (the instructor's copy)."
                             ).tag(config=True)

    def preprocess(self, nb, resources):
        student, assignment, notebook = notebook_of(resources)
        state = state_for(resources)
        for stale in remove_verdicts(self.autograded_folder(student, assignment)):
            self.log.warning("fercourse: removed %s before the kernel starts (submitted, or left by an "
                             "earlier run); the grader writes its own after the kernel ends", stale)
        submitted = Path(resources["metadata"]["path"])
        contents = classify(submitted)
        self._remove_followed_copies(contents, self.autograded_folder(student, assignment))
        if not self.graded_cells(nb):
            return nb, resources
        key = self.answer_key(state)
        split = self.split(state)
        thresholds = load_thresholds(self.course_root() / self.thresholds_file, assignment, self.dataset)
        kind = "keras" if assignment in self.model_files else "sklearn"
        verdicts = self._verdicts(submitted, contents, key, thresholds, split, kind)
        if assignment in self.model_files and verdicts["accuracy"].points is not None:
            verdicts["accuracy"] = self._model_explains(verdicts["accuracy"], submitted, assignment,
                                                        verdicts["data"], state)
        verdicts.pop("data", None)
        record = {"student": student, "assignment": assignment, "notebook": notebook,
                  "pseudonym": self.pseudonym(student, state), "split": "public/private" if split else "none"}
        state.pending[(student, assignment, notebook)] = (verdicts, record)
        accuracy = verdicts["accuracy"]  # reading a pending check's points would wait for it
        self.log.info("fercourse: %s/%s/%s scored before execution: format %s, accuracy tiers %s", student,
                      assignment, notebook, verdicts["format"].points,
                      "after the model check" if isinstance(accuracy, AfterModelCheck) else accuracy.points)
        return nb, resources

    def _model_explains(self, accuracy: Verdict, submitted: Path, assignment: str, data: bytes,
                        state: GradingState) -> AfterModelCheck:
        """The accuracy verdict once the submitted model is checked against the CSV (in the background)."""
        from fercourse.grading.plugins.model_check_runner import start_model_check  # also the child's main

        source = self.course_root() / CourseDirectory(config=self.config).source_directory / assignment
        pending = start_model_check(submitted / self.model_files[assignment], source / self.model_test_csv,
                                    data, csv_name=self.submission_file,
                                    min_agreement=self.min_model_agreement, max_bytes=self.max_model_bytes,
                                    state=state, cpu_seconds=self.model_check_cpu_seconds,
                                    memory_mb=self.model_check_memory_mb)
        return AfterModelCheck(accuracy, pending, self.log)

    def _verdicts(self, submitted: Path, contents: FolderContents, key: AnswerKey, thresholds: list[float],
                  split: PublicPrivateSplit | None, kind: str = "sklearn") -> dict:
        """The two verdicts from the submitted file as it is (``data``: its bytes when it was read);
        ``kind`` (``keras`` for an assignment that submits a model) picks the feedback's lessons."""
        name = self.submission_file
        path = submitted / name
        reason = contents.refused.get(name)
        if reason is None and name in contents.regular and path.lstat().st_size > self.max_bytes:
            megabytes = path.lstat().st_size / 1e6
            message = f"{name} is {megabytes:.1f} MB, over the {self.max_bytes / 1e6:.0f} MB limit"
            return {"format": Verdict(None, message), "accuracy": Verdict(None, f"not scored: {message}")}
        if reason is None and name in contents.regular:
            try:
                data = read_regular(path, self.max_bytes)[:self.max_bytes]
            except PermissionError:  # swapped for a link since it was classified
                reason = "not a regular file any more"
            else:
                return {**grade_submission_bytes(data, key, thresholds, name, split, kind), "data": data}
        if reason is not None:
            return {"format": Verdict(None, f"{name} is {reason}: expected a regular file"),
                    "accuracy": Verdict(None, f"not scored: {name} is {reason}")}
        return grade_submission_bytes(None, key, thresholds, name, split)

    def _remove_followed_copies(self, contents: FolderContents, autograded: Path) -> None:
        """nbgrader copies a submitted link as its target's content: remove such copies (and anything
        else not a regular file) from the kernel's working folder before the kernel starts."""
        for relative, reason in contents.refused.items():
            copy = autograded / relative
            if copy.is_symlink() or copy.is_file():
                copy.unlink()
                self.log.warning("fercourse: submitted %s is %s; removed its copy %s", relative, reason, copy)
        for relative, reason in remove_refused(autograded).items():
            self.log.warning("fercourse: removed %s (%s) from %s before the kernel starts", relative, reason,
                             autograded)


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
        student, assignment, notebook = notebook_of(resources)
        verdicts, record = state_for(resources).pending.pop((student, assignment, notebook), (None, None))
        if cells and verdicts is None:
            raise InputError("ApplyScores found no verdicts: add "
                             "fercourse.grading.plugins.SnapshotSubmission at the end of "
                             "c.Autograde.sanitize_preprocessors")
        folder = self.autograded_folder(student, assignment)
        for relative, reason in remove_refused(folder).items():  # before nbgrader writes or chmods here
            self.log.warning("fercourse: removed %s (%s), left by %s's kernel", relative, reason, student)
        coursedir = CourseDirectory(config=self.config)
        source = self.course_root() / coursedir.source_directory / assignment
        # a file the kernel grew past the course's size bound (a sparse one costs it no disk) would be
        # copied out whole by generate_feedback, and read into memory by parallel grading
        for relative, why in over_size(classify(folder).regular, source,
                                       int(coursedir.max_file_size) * 1000).items():
            (folder / relative).unlink()
            self.log.warning("fercourse: removed %s (%s), left by %s's kernel: needs a look", relative, why,
                             student)
        for forged in remove_verdicts(folder):  # written by the student's kernel
            self.log.warning("fercourse: removed %s, written while %s's kernel ran", forged, student)
        if cells and record is not None:
            written = leaderboard_record(record, verdicts)
            write_verdict(folder, notebook, written)
            append_history(self.course_root(), written)  # the leaderboard's history column
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


class DeduplicateGradeIds(DeduplicateIds):
    """nbgrader's ``DeduplicateIds`` that fails one student, never the whole run (in its place in
    ``c.Autograde.sanitize_preprocessors``).

    A cell copied in Jupyter keeps its nbgrader metadata, grade id included; a hostile student can
    also copy a hidden-test cell or edit the metadata by hand. nbgrader keeps the last cell of a
    grade id and sets the others' metadata to ``{}``, which its own check then reads as an outdated
    schema: ``SchemaTooOldError``, on which ``nbgrader autograde`` stops for every student after this
    one (measured: two of the five students of the e2e run were never graded). Here the earlier
    copies lose their nbgrader metadata altogether (they run as plain cells, as nbgrader intends),
    and a cell whose metadata is not nbgrader's current schema fails this student alone, with a
    message naming the cell, so nbgrader goes on with the next one.
    """

    def preprocess(self, nb, resources):
        student, _, notebook = notebook_of(resources)
        for index, cell in enumerate(nb.cells, start=1):
            meta = cell.metadata.get("nbgrader")
            version = meta.get("schema_version") if isinstance(meta, dict) else type(meta).__name__
            if meta is not None and version != SCHEMA_VERSION:
                raise InputError(f"{student}'s {notebook}.ipynb: cell {index} has nbgrader metadata of "
                                 f"schema {version!r}, expected {SCHEMA_VERSION}: edited by hand; this "
                                 "notebook is not graded (needs a look)")
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") in self.grade_ids and (meta.get("grade") or meta.get("solution")
                                                       or meta.get("locked")):
            self.log.warning("fercourse: cell %s repeats the grade id %r of a later cell: graded as a plain "
                             "cell", cell_index, meta["grade_id"])
            del cell.metadata["nbgrader"]
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)

