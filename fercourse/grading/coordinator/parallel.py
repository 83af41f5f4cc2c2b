"""Autograde a class in parallel on this machine, or on a Dask cluster; one writer for the gradebook.

:func:`autograde` is ``fercourse grade autograde``. It lists the submissions of one assignment,
skips those already graded and unchanged (unless ``force``), and hands each remaining student
to a worker as a :class:`~fercourse.grading.task.Task`: nbgrader's own autograde of that student
in a scratch course of its own (:func:`~fercourse.grading.task.grade_task`), with the course's
sandbox, outside-the-kernel scoring and integrity checks. Workers are ``workers`` local slots
(each runs one ``nbgrader`` process at a time) or the workers of the Dask cluster at
``scheduler``. Only this process writes the course's gradebook and ``autograded/`` folders,
as nbgrader would have written them, so ``generate_feedback``, ``export`` and formgrader work
unchanged. A task that fails (nbgrader's error, a killed process, a lost Dask worker) is tried
once more, then reported by student.

What each submitted folder looked like when it was graded (a SHA-256 over its files) is kept
in ``COURSE/.fercourse-autograde.json``, so a re-run grades only what is missing or changed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from fercourse.errors import InputError
from fercourse.grading.task import InstructorFiles, Task, TaskResult, grade_task

MANIFEST = ".fercourse-autograde.json"
ATTEMPTS = 2  # a failed task is tried once more
#: Files beside the answer key that grading reads (``<key stem><suffix>``): the public/private split.
KEY_SIDECARS = (".split.json",)


@dataclass
class StudentOutcome:
    """How one student's grading went: ``graded``, ``failed`` or ``unchanged`` (skipped)."""

    status: str
    attempts: int = 0
    score: float | None = None
    seconds: float | None = None
    host: str | None = None
    error: str | None = None


@dataclass
class AutogradeSummary:
    """The run's result: one :class:`StudentOutcome` per student, the wall time and where it ran."""

    assignment: str
    where: str
    seconds: float
    students: dict[str, StudentOutcome] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.students.values())

    @property
    def per_minute(self) -> float:
        return 60 * self.count("graded") / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"assignment": self.assignment, "where": self.where, "graded": self.count("graded"),
                "failed": self.count("failed"), "unchanged": self.count("unchanged"),
                "seconds": round(self.seconds, 1), "submissions_per_minute": round(self.per_minute, 2),
                "students": {name: {k: v for k, v in vars(outcome).items() if v is not None}
                             for name, outcome in sorted(self.students.items())}}

    def lines(self) -> list[str]:
        """The summary as printed: failures by student, then the counts and the rate."""
        out = [f"failed: {name} after {o.attempts} attempts: {o.error}"
               for name, o in sorted(self.students.items()) if o.status == "failed"]
        out.append(f"{self.assignment}: graded {self.count('graded')}, failed {self.count('failed')}, "
                   f"unchanged {self.count('unchanged')} (skipped) in {self.seconds:.1f} s "
                   f"({self.per_minute:.1f} submissions/minute) on {self.where}")
        return out


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
        """Everything a task needs from the instructor (see :mod:`fercourse.grading.task`)."""
        from fercourse.grading.setup import PIN_FILE

        files = {}
        thresholds = self.config.FercourseGrader.get("thresholds_file", "thresholds.json")
        for name in ("nbgrader_config.py", thresholds, PIN_FILE):
            if (self.root / name).is_file():
                files[name] = (self.root / name).read_bytes()
        source = self.path(self.coursedir.source_directory, ".", assignment)
        if not source.is_dir():
            raise FileNotFoundError(f"{source}: no such assignment in the course")
        for path in sorted(source.rglob("*")):
            if path.is_file():
                files[f"source/{assignment}/{path.relative_to(source).as_posix()}"] = path.read_bytes()
        files["gradebook.db"] = assignment_gradebook(self.db_url, self.course_id, assignment)
        sidecars = {suffix: key.with_name(key.stem + suffix).read_bytes() for suffix in KEY_SIDECARS
                    if key.with_name(key.stem + suffix).is_file()}
        return InstructorFiles(self.course_id, files, key.read_bytes(), nbgrader_args, sidecars)


def assignment_gradebook(db_url: str, course_id: str, assignment: str) -> bytes:
    """A sqlite gradebook (as bytes) holding only ``assignment``'s definition from the one at ``db_url``.

    No student and no grade travels to the workers: only the notebooks and their cells (what
    ``nbgrader generate_assignment`` recorded, which autograde's ``OverwriteCells`` needs) and the
    due date (for late penalties).
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
                target.update_or_create_notebook(notebook.name, assignment)
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


def folder_digest(folder: Path) -> str:
    """SHA-256 over the relative paths and contents of every file under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() or path.is_symlink():
            digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
    return digest.hexdigest()


def _read_manifest(course: NbgraderCourse) -> dict:
    path = course.root / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (ValueError, OSError) as error:
        raise InputError(f"{path}: not the JSON fercourse writes ({error}): delete it to grade every "
                         "submission again") from None


def _write_manifest(course: NbgraderCourse, manifest: dict) -> None:
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
    """The task for one student: their submitted files (what nbgrader would copy; ignore patterns apply)."""
    from nbgrader.utils import find_all_files

    submitted = course.path(course.coursedir.submitted_directory, student, assignment)
    files = {}
    for name in find_all_files(str(submitted), course.coursedir.ignore):
        path = Path(name)
        files[path.relative_to(submitted).as_posix()] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return Task(assignment, student, submitted.relative_to(course.root).as_posix(),
                course.path(course.coursedir.autograded_directory, student, assignment)
                .relative_to(course.root).as_posix(), files, attempt)


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


def _check_dask(scheduler: str):
    try:
        import distributed
    except ImportError:
        raise InputError(f"--scheduler {scheduler}: Dask is not installed: pip install 'fercourse[cluster]' "
                         "(or grade on this machine with --workers N)") from None
    return distributed


def _check_sandbox(course: NbgraderCourse) -> None:
    """Refuse at once, in one line, where the sandbox cannot start (rather than failing every task)."""
    from fercourse.grading.sandbox import FercourseSandbox, SandboxUnavailableError, refusal

    settings = FercourseSandbox(config=course.config)
    if settings.enabled:
        try:
            settings.check()
        except SandboxUnavailableError as error:
            raise InputError(refusal(str(error))) from None


def autograde(course: str | Path, assignment: str, *, students: str = "*", workers: int | None = None,
              scheduler: str | None = None, force: bool = False, key: str | Path | None = None,
              nbgrader_args: tuple[str, ...] = (), progress: bool | None = None,
              log: Callable[[str], None] | None = print) -> AutogradeSummary:
    """Autograde every submission of ``assignment`` (matching ``students``) in parallel; return the summary.

    Parameters
    ----------
    course : path
        The nbgrader course folder (``autograder/``).
    students : str
        A glob over student ids, as nbgrader's ``--student``.
    workers : int, optional
        Submissions graded at once on this machine (default: the number of cores).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); tasks run on its workers.
    force : bool
        Grade every submission, even those graded already and unchanged.
    key : path, optional
        The answer key; default the path in ``FERCOURSE_ANSWER_KEY`` (removed from the environment).
    nbgrader_args : tuple of str
        Extra options for every ``nbgrader autograde`` (e.g. ``--Execute.timeout=60``).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    log : callable, optional
        Receives one line per retry (failures are in the summary).
    """
    from fercourse.grading.preprocessors import take_key_path

    if scheduler is not None:
        _check_dask(scheduler)
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: expected at least 1")
    course = NbgraderCourse(course)
    if scheduler is None:
        _check_sandbox(course)
    key_path = Path(key).expanduser().resolve() if key is not None else take_key_path()
    if not key_path.is_file():
        raise FileNotFoundError(f"{key_path}: the answer key does not exist")
    found = course.submissions(assignment, students)
    if not found:
        raise InputError(f"no submissions of {assignment!r} for students {students!r} under "
                         f"{course.root / course.coursedir.submitted_directory}")
    manifest = _read_manifest(course)
    digests = {student: folder_digest(folder) for student, folder in found.items()}
    todo = [s for s in found if force or not is_graded(course, assignment, s, digests[s], manifest)]
    instructor = course.instructor_files(assignment, key_path, tuple(nbgrader_args))
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers or os.cpu_count()} local workers"
    summary = AutogradeSummary(assignment, where, 0.0,
                               {s: StudentOutcome("unchanged") for s in found if s not in todo})
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc=f"autograde {assignment}", unit="submission",
               disable=None if progress is None else not progress)
    log = log or (lambda line: None)

    def done(task: Task, result: TaskResult | None, error: BaseException | None) -> Task | None:
        """Record a finished task; return the retry task, if any."""
        outcome = summary.students.setdefault(task.student, StudentOutcome("failed"))
        outcome.attempts = task.attempt
        if result is not None:
            try:
                outcome.score = record(course, assignment, result)
            except InputError as refusal:
                error = refusal
            else:
                outcome.status, outcome.error = "graded", None
                outcome.seconds, outcome.host = round(result.seconds, 1), result.host
                manifest.setdefault(assignment, {})[task.student] = digests[task.student]
                _write_manifest(course, manifest)
                bar.update()
                return None
        message = str(error) or type(error).__name__
        if task.attempt < ATTEMPTS and not isinstance(error, InputError):
            log(f"retrying {task.student} (attempt {task.attempt} failed: {message})")
            return make_task(course, assignment, task.student, task.attempt + 1)
        outcome.status, outcome.error = "failed", message
        bar.update()
        return None

    start = time.perf_counter()
    try:
        if scheduler is not None:
            _run_dask(scheduler, course, assignment, todo, instructor, done)
        else:
            _run_local(workers or os.cpu_count() or 1, course, assignment, todo, instructor, done)
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - start
    return summary


def _drive(submit: Callable, wait: Callable, course: NbgraderCourse, assignment: str, students: list[str],
           done: Callable, max_in_flight: int) -> None:
    """Keep at most ``max_in_flight`` tasks submitted; hand each finished one to ``done`` (and resubmit
    the retry it returns)."""
    queue = list(students)
    pending: dict = {}
    while queue or pending:
        while queue and len(pending) < max_in_flight:
            task = make_task(course, assignment, queue.pop(0))
            pending[submit(task)] = task
        for future in wait(list(pending)):
            task = pending.pop(future)
            try:
                result, error = future.result(), None
            except (Exception, asyncio.CancelledError) as failure:  # a task's error, a lost worker
                result, error = None, failure
            retry = done(task, result, error)
            if retry is not None:
                pending[submit(retry)] = retry


def _run_local(workers: int, course: NbgraderCourse, assignment: str, students: list[str],
               instructor: InstructorFiles, done: Callable) -> None:
    # Threads suffice: each task's work happens in its own nbgrader process (and sandboxed kernel).
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="autograde") as pool:
        _drive(lambda task: pool.submit(grade_task, task, instructor),
               lambda futures: concurrent.futures.wait(futures, return_when="FIRST_COMPLETED").done,
               course, assignment, students, done, workers)


def _run_dask(scheduler: str, course: NbgraderCourse, assignment: str, students: list[str],
              instructor: InstructorFiles, done: Callable) -> None:
    distributed = _check_dask(scheduler)
    try:
        client = distributed.Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise InputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({error})") from None
    with client:
        threads = sum(client.nthreads().values()) or 1
        shared = client.scatter(instructor, broadcast=True, hash=False)  # once per worker, not per task
        _drive(lambda task: client.submit(grade_task, task, shared, pure=False,
                                          key=f"autograde-{task.assignment}-{task.student}-{task.attempt}-"
                                              f"{os.urandom(4).hex()}"),
               lambda futures: distributed.wait(futures, return_when="FIRST_COMPLETED").done,
               course, assignment, students, done, 2 * threads)
