"""Autograde a class in parallel on this machine, or on a Dask cluster; one writer for the gradebook.

:func:`autograde` is ``fercourse grade autograde``. It lists the submissions of one assignment,
skips those already graded and unchanged (unless ``force``), and hands each remaining student
to a worker as a :class:`~fercourse.grading.coordinator.task.Task`: nbgrader's own autograde of that student
in a scratch course of its own (:func:`~fercourse.grading.coordinator.task.grade_task`), with the course's
sandbox, outside-the-kernel scoring and integrity checks. Workers are ``workers`` local slots
(each runs one ``nbgrader`` process at a time) or the workers of the Dask cluster at
``scheduler``. Only this process writes the course's gradebook and ``autograded/`` folders,
as nbgrader would have written them, so ``generate_feedback``, ``export`` and formgrader work
unchanged. A task that fails (nbgrader's error, a killed process, a lost Dask worker) is tried
once more, then reported by student.

What each submitted folder looked like when it was graded (a SHA-256 over its files) is kept
in ``COURSE/.fercourse-autograde.json`` (:mod:`~fercourse.grading.coordinator.course`), so a
re-run grades only what is missing or changed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from fercourse.errors import InputError
from fercourse.grading.coordinator.course import (
    NbgraderCourse,
    is_graded,
    make_task,
    read_manifest,
    record,
    write_manifest,
)
from fercourse.grading.coordinator.task import InstructorFiles, Task, TaskResult, grade_task
from fercourse.grading.coordinator.worker import GradingProcess
from fercourse.grading.digests import folder_digest

ATTEMPTS = 2  # a failed task is tried once more


@dataclass
class StudentOutcome:
    """How one student's grading went: ``graded``, ``failed`` or ``unchanged`` (skipped)."""

    status: str
    attempts: int = 0
    score: float | None = None
    seconds: float | None = None
    host: str | None = None
    error: str | None = None
    #: seconds of this student's grading spent outside nbgrader's autograde: the task's scratch work
    #: (writing the submission, reading grades, collecting files) and recording it in the course
    overhead_seconds: float | None = None


@dataclass
class AutogradeSummary:
    """The run's result: one :class:`StudentOutcome` per student, the wall time and where it ran."""

    assignment: str
    where: str
    seconds: float
    students: dict[str, StudentOutcome] = field(default_factory=dict)
    #: how long each local grading process took to start (spawn, imports, scratch course), once per slot
    startup_seconds: list[float] = field(default_factory=list)

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

def _check_dask(scheduler: str):
    try:
        import distributed
    except ImportError:
        raise InputError(f"--scheduler {scheduler}: Dask is not installed: pip install 'fercourse[cluster]' "
                         "(or grade on this machine with --workers N)") from None
    return distributed


def _check_sandbox(course: NbgraderCourse) -> None:
    """Refuse at once, in one line, where the sandbox cannot start (rather than failing every task)."""
    from fercourse.grading.plugins.sandbox import FercourseSandbox, SandboxUnavailableError, refusal

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
    # Over 60 lines: a 27-line numpydoc docstring; the body is the run's steps in order.
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
    from fercourse.grading.plugins.state import take_key_path

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
    manifest = read_manifest(course)
    digests = {student: folder_digest(folder) for student, folder in found.items()}
    todo = [s for s in found if force or not is_graded(course, assignment, s, digests[s], manifest)]
    instructor = course.instructor_files(assignment, key_path, tuple(nbgrader_args))
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers or os.cpu_count()} local workers"
    summary = AutogradeSummary(assignment, where, 0.0,
                               {s: StudentOutcome("unchanged") for s in found if s not in todo})
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc=f"autograde {assignment}", unit="submission",
               disable=None if progress is None else not progress)
    done = _Recorder(course, assignment, summary, manifest, digests, bar, log or (lambda line: None))
    start = time.perf_counter()
    try:
        if scheduler is not None:
            _run_dask(scheduler, course, assignment, todo, instructor, done)
        else:
            summary.startup_seconds = _run_local(workers or os.cpu_count() or 1, course, assignment, todo,
                                                 instructor, done)
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - start
    return summary


class _Recorder:
    """Records each finished task in the course (the one writer) and the summary; returns the retry."""

    def __init__(self, course: NbgraderCourse, assignment: str, summary: AutogradeSummary, manifest: dict,
                 digests: dict[str, str], bar, log: Callable[[str], None]) -> None:
        self.course, self.assignment, self.summary = course, assignment, summary
        self.manifest, self.digests, self.bar, self.log = manifest, digests, bar, log

    def __call__(self, task: Task, result: TaskResult | None, error: BaseException | None) -> Task | None:
        outcome = self.summary.students.setdefault(task.student, StudentOutcome("failed"))
        outcome.attempts = task.attempt
        if result is not None:
            start = time.perf_counter()
            try:
                outcome.score = record(self.course, self.assignment, result)
            except InputError as refusal:
                error = refusal
            else:
                for relative, why in result.left_out.items():
                    self.log(f"fercourse: {task.student}: {relative} left out of autograded/ (the kernel "
                             f"wrote it; needs a look): {why}")
                outcome.status, outcome.error = "graded", None
                outcome.seconds, outcome.host = round(result.seconds, 1), result.host
                if result.nbgrader_seconds is not None:
                    outcome.overhead_seconds = round(result.seconds - result.nbgrader_seconds
                                                     + time.perf_counter() - start, 3)
                self.manifest.setdefault(self.assignment, {})[task.student] = self.digests[task.student]
                write_manifest(self.course, self.manifest)
                self.bar.update()
                return None
        message = str(error) or type(error).__name__
        if task.attempt < ATTEMPTS and not isinstance(error, InputError):
            self.log(f"retrying {task.student} (attempt {task.attempt} failed: {message})")
            return make_task(self.course, self.assignment, task.student, task.attempt + 1)
        outcome.status, outcome.error = "failed", message
        self.bar.update()
        return None


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
               instructor: InstructorFiles, done: Callable) -> list[float]:
    """Grade on ``workers`` local slots; returns each grading process's start-up seconds."""
    # One thread per slot, each driving its own long-lived grading process (which runs the kernels):
    # nbgrader's start-up is paid once per slot, not once per student.
    slots = threading.local()
    processes: list[GradingProcess] = []

    def grade(task: Task) -> TaskResult:
        if not hasattr(slots, "process"):
            slots.process = GradingProcess(instructor)
            processes.append(slots.process)
        return slots.process.grade(task)

    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="autograde") as pool:
        try:
            _drive(lambda task: pool.submit(grade, task),
                   lambda futures: concurrent.futures.wait(futures, return_when="FIRST_COMPLETED").done,
                   course, assignment, students, done, workers)
        finally:  # before the threads end: a process is killed when the thread that started it ends
            for process in processes:
                process.close()
    return [round(process.startups, 2) for process in processes]


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
