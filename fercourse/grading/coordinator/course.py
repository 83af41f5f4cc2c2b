"""The nbgrader course as the coordinator sees it: read its config, list and package submissions,
write each graded student back (the one writer of the gradebook and of ``autograded/``).

What each submitted folder looked like when it was graded (a SHA-256 over its files) is kept
in ``COURSE/.fercourse-autograde.json`` (:data:`MANIFEST`), so a re-run grades only what is
missing or changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from fercourse.errors import InputError
from fercourse.grading.coordinator.task import InstructorFiles, Task, TaskResult
from fercourse.grading.instructor_files import KEY_SIDECARS, THRESHOLDS_FILE, course_root_files, sidecar_path
from fercourse.grading.records.history import append_history
from fercourse.grading.records.verdicts import PREFIX as VERDICT_PREFIX
from fercourse.grading.student_files import classify, read_regular

MANIFEST = ".fercourse-autograde.json"


class NbgraderCourse:
    """The nbgrader course at ``root`` as its ``nbgrader_config.py`` describes it (read, never written)."""

    def __init__(self, root: str | Path) -> None:
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        self.root = Path(root).resolve()
        if not (self.root / "nbgrader_config.py").is_file():
            raise FileNotFoundError(f"{self.root}: no nbgrader_config.py: expected the nbgrader course "
                                    "folder (autograder/)")
        config = Config(PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config())
        config.CourseDirectory.root = str(self.root)
        self.config = config
        self.coursedir = CourseDirectory(config=config)
        self.db_url, self.course_id = self.coursedir.db_url, self.coursedir.course_id
        self.create_student = bool(config.Autograde.get("create_student", True))

    def path(self, step: str, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(step, student, assignment))

    def submissions(self, assignment: str, students: str = "*") -> dict[str, Path]:
        """``student -> submitted folder`` for every student matching the glob ``students`` (as nbgrader)."""
        import glob

        submitted = self.coursedir.submitted_directory
        pattern = self.coursedir.format_path(submitted, "(?P<student>[^/]+)", assignment, escape=True)
        found = {}
        for name in sorted(glob.glob(self.coursedir.format_path(submitted, students, assignment))):
            match = re.fullmatch(pattern, name)
            if match and Path(name).is_dir():
                found[match["student"]] = Path(name)
        return found

    def instructor_files(self, assignment: str, key: Path, nbgrader_args: tuple[str, ...] = ()
                         ) -> InstructorFiles:
        """Everything a task needs from the instructor (see :mod:`fercourse.grading.coordinator.task`)."""
        files = {}
        thresholds = self.config.FercourseGrader.get("thresholds_file", THRESHOLDS_FILE)
        for name, path in course_root_files(self.root, thresholds).items():
            if path.is_file():
                files[name] = path.read_bytes()
        source = self.path(self.coursedir.source_directory, ".", assignment)
        if not source.is_dir():
            raise FileNotFoundError(f"{source}: no such assignment in the course")
        for path in sorted(source.rglob("*")):
            if path.is_file():
                files[f"source/{assignment}/{path.relative_to(source).as_posix()}"] = path.read_bytes()
        files["gradebook.db"] = assignment_gradebook(self.db_url, self.course_id, assignment)
        sidecars = {suffix: sidecar_path(key, suffix).read_bytes() for suffix in KEY_SIDECARS
                    if sidecar_path(key, suffix).is_file()}
        return InstructorFiles(self.course_id, files, key.read_bytes(), nbgrader_args, sidecars,
                               int(self.coursedir.max_file_size) * 1000)  # kB, as make_task counts


def assignment_gradebook(db_url: str, course_id: str, assignment: str) -> bytes:
    """A sqlite gradebook (as bytes) holding only ``assignment``'s definition from the one at ``db_url``.

    No student and no grade travels to the workers: only the notebooks, their kernelspecs and their
    cells (what ``nbgrader generate_assignment`` recorded, which autograde's ``OverwriteKernelspec``
    and ``OverwriteCells`` need) and the due date (for late penalties).
    """
    from nbgrader.api import Gradebook, MissingEntry

    path = os.environ.get("PATH", "")
    # a new gradebook asks the `alembic` command for its schema version: this Python's, as for nbgrader
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + path
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "gradebook.db"
        with Gradebook(db_url, course_id) as source, Gradebook(f"sqlite:///{out}", course_id) as target:
            try:
                definition = source.find_assignment(assignment)
            except MissingEntry:
                raise InputError(f"{db_url}: no assignment {assignment!r} in the gradebook: run `nbgrader "
                                 f"generate_assignment {assignment}` first") from None
            target.update_or_create_assignment(assignment, duedate=definition.duedate)
            for notebook in definition.notebooks:
                # the kernelspec: autograde's OverwriteKernelspec puts it over the student's (without it, a
                # worker started whatever kernel the submitted notebook named)
                target.update_or_create_notebook(notebook.name, assignment, kernelspec=notebook.kernelspec)
                for cell in notebook.grade_cells:
                    target.update_or_create_grade_cell(cell.name, notebook.name, assignment,
                                                       max_score=cell.max_score, cell_type=cell.cell_type)
                for cell in notebook.solution_cells:
                    target.update_or_create_solution_cell(cell.name, notebook.name, assignment)
                for cell in notebook.task_cells:
                    target.update_or_create_task_cell(cell.name, notebook.name, assignment,
                                                      max_score=cell.max_score, cell_type=cell.cell_type)
                for cell in notebook.source_cells:
                    target.update_or_create_source_cell(cell.name, notebook.name, assignment,
                                                        cell_type=cell.cell_type, locked=cell.locked,
                                                        source=cell.source, checksum=cell.checksum)
        os.environ["PATH"] = path
        return out.read_bytes()


def read_manifest(course: NbgraderCourse) -> dict:
    """``assignment -> student -> folder digest`` of what was graded (empty when nothing was)."""
    path = course.root / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (ValueError, OSError) as error:
        raise InputError(f"{path}: not the JSON fercourse writes ({error}): delete it to grade every "
                         "submission again") from None


def write_manifest(course: NbgraderCourse, manifest: dict) -> None:
    """Replace the manifest (written beside it, then renamed: never half written)."""
    path = course.root / MANIFEST
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    partial.replace(path)


def is_graded(course: NbgraderCourse, assignment: str, student: str, digest: str, manifest: dict) -> bool:
    """Whether the gradebook and ``autograded/`` hold this exact submission's grading already.

    Without a manifest entry (graded by plain ``nbgrader autograde``), nbgrader's own rule: the
    autograded notebooks exist, and the submitted files are not newer than them.
    """
    from nbgrader.api import Gradebook, MissingEntry

    autograded = course.path(course.coursedir.autograded_directory, student, assignment)
    if not autograded.is_dir():
        return False
    with Gradebook(course.db_url, course.course_id) as gradebook:
        try:
            gradebook.find_submission(assignment, student)
        except MissingEntry:
            return False
    recorded = manifest.get(assignment, {}).get(student)
    if recorded is not None:
        return recorded == digest
    submitted = course.path(course.coursedir.submitted_directory, student, assignment)
    newest = max((p.stat().st_mtime for p in submitted.rglob("*") if p.is_file()), default=0)
    notebooks = list(autograded.glob("*.ipynb"))
    return bool(notebooks) and newest <= min(p.stat().st_mtime for p in notebooks)


def make_task(course: NbgraderCourse, assignment: str, student: str, attempt: int = 1) -> Task:
    """The task for one student: their submitted regular files (ignore patterns apply, as for nbgrader).

    What :func:`~fercourse.grading.student_files.classify` refuses (a link, a FIFO, a device, a hard
    link, a file over ``CourseDirectory.max_file_size``) is never read: the task names it, and the
    worker puts a link to nothing of the instructor's in its place, so the worker's graders refuse it
    as serial grading does.
    """
    submitted = course.path(course.coursedir.submitted_directory, student, assignment)
    contents = classify(submitted, course.coursedir.ignore)
    files, refused = {}, dict(contents.refused)
    limit = int(course.coursedir.max_file_size) * 1000  # kB, as nbgrader's exchange counts it
    for relative, path in contents.regular.items():
        try:
            data = read_regular(path, limit)
        except PermissionError as error:  # swapped for a link since it was classified
            refused[relative] = str(error)
            continue
        if len(data) > limit:
            refused[relative] = f"over CourseDirectory.max_file_size ({limit // 1000} kB)"
            continue
        files[relative] = (data, path.lstat().st_mode & 0o777)
    return Task(assignment, student, submitted.relative_to(course.root).as_posix(),
                course.path(course.coursedir.autograded_directory, student, assignment)
                .relative_to(course.root).as_posix(), files, attempt, refused)


def record(course: NbgraderCourse, assignment: str, result: TaskResult) -> float:
    """Write one graded student into the course: the autograded folder, then the gradebook (single writer).

    Returns the submission's total score. The gradebook gets what nbgrader's ``autograde`` would
    have written: the submission (and timestamp), each cell's auto score, ``needs_manual_grade``
    by nbgrader's rule against this gradebook (a manual score given earlier is kept and flags
    the cell for review), auto comments and late penalties.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    student = result.student
    autograded = course.path(course.coursedir.autograded_directory, student, assignment)
    source = course.path(course.coursedir.source_directory, ".", assignment)
    partial = autograded.with_name(f".{autograded.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    for relative, (data, mode) in result.files.items():
        path = partial / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
    for relative in result.from_source:
        (partial / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / relative, partial / relative)
    shutil.rmtree(autograded, ignore_errors=True)
    partial.rename(autograded)
    for relative, (data, _) in sorted(result.files.items()):  # the scratch course's history stayed there
        if relative.startswith(VERDICT_PREFIX) and "/" not in relative:
            append_history(course.root, json.loads(data))

    timestamp = course.coursedir.get_existing_timestamp(
        str(course.path(course.coursedir.submitted_directory, student, assignment)))
    with Gradebook(course.db_url, course.course_id) as gradebook, warnings.catch_warnings():
        # nbgrader's update_or_create_submission warns about its own autoflush (SQLAlchemy), harmlessly
        warnings.simplefilter("ignore", SAWarning)
        try:
            gradebook.find_student(student)
        except MissingEntry:
            if not course.create_student:
                raise InputError(f"{student}: no student with this ID in the gradebook (and "
                                 "c.Autograde.create_student is False)") from None
            gradebook.update_or_create_student(student)
        submission = (gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
                      if timestamp else gradebook.update_or_create_submission(assignment, student))
        for name, notebook in result.notebooks.items():
            for cell, auto_score in notebook.grades.items():
                grade = gradebook.find_grade(cell, name, assignment, student)
                grade.auto_score = auto_score
                grade.needs_manual_grade = (not notebook.missing
                                            and (grade.manual_score is not None or auto_score is None))
            for cell, auto_comment in notebook.comments.items():
                gradebook.find_comment(cell, name, assignment, student).auto_comment = auto_comment
            gradebook.find_submission_notebook(name, assignment, student).late_submission_penalty = \
                notebook.late_penalty
        gradebook.db.commit()
        return float(submission.score)
