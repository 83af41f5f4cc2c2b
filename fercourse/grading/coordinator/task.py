"""One autograde task: nbgrader's own ``autograde`` for one student, in a scratch course of its own.

This is the part of :mod:`fercourse.grading.coordinator.parallel` that runs on a worker (a local process
slot or a Dask worker). The coordinator sends

- :class:`InstructorFiles`, once per run (per Dask worker): the course config, thresholds, key
  pin, ``source/<assignment>/`` (the data the notebook loads and the model check reads), a
  gradebook holding only the assignment's definition (no student's rows) and the answer key's
  bytes;
- :class:`Task`, once per student: the submitted files.

:func:`grade_task` writes both into a fresh private folder (mode 0700)::

    fercourse-grade-XXXX/
      course/        nbgrader_config.py, thresholds.json, answer_key.pin.json, gradebook.db,
                     source/<assignment>/, submitted/<student>/<assignment>/
      instructor/    answer_key.csv (mode 0600): outside course/, so outside every folder the
                     sandbox binds (it binds only course/autograded/<student>/<assignment>/)

plus ``owner`` (the grading process's host and PID), and runs the real ``nbgrader autograde``
there, with the course config's sandbox, outside-the-kernel scoring and integrity checks (they
watch this scratch course, in which nobody else writes). It returns the grades and comments
nbgrader saved and the files of the autograded folder; the scratch folder is removed. A worker
killed mid-task (SIGKILL: no ``finally`` runs) leaves its folder behind, answer key included; the
next task on that host removes every such folder whose
owner process is gone (:func:`sweep_stale_scratch`).
"""

from __future__ import annotations

import filecmp
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fercourse.config import ANSWER_KEY_ENV
from fercourse.errors import FercourseError
from fercourse.grading.student_files import classify, over_size

#: Lines of nbgrader's log kept in a failure's message.
LOG_LINES = 6

#: Scratch folders are ``<temp dir>/SCRATCH_PREFIX*``; each holds an ``owner`` file.
SCRATCH_PREFIX = "fercourse-grade-"

#: nbgrader's default ``CourseDirectory.max_file_size`` (100,000 kB), in bytes.
DEFAULT_MAX_FILE_BYTES = 100_000_000


class TaskError(FercourseError, RuntimeError):
    """nbgrader could not grade the student; the message names them and quotes nbgrader's log."""


@dataclass(frozen=True)
class InstructorFiles:
    """What every task needs from the instructor, sent once per worker.

    ``files`` maps a path relative to the course root to its bytes; ``key`` is the answer key's
    bytes (never written inside the course); ``nbgrader_args`` are extra ``nbgrader autograde``
    options (e.g. ``--Execute.timeout=60``).
    """

    course_id: str
    files: dict[str, bytes] = field(repr=False)
    key: bytes = field(repr=False)
    nbgrader_args: tuple[str, ...] = ()
    #: files kept next to the key, by suffix after its stem (e.g. ``.split.json``, the public/private
    #: split that the leaderboard's grading reads beside the key); written beside the scratch key
    key_sidecars: dict[str, bytes] = field(default_factory=dict, repr=False)
    #: the most bytes of one student's autograded folder carried back to the coordinator, per file and
    #: in all (the course's ``CourseDirectory.max_file_size``): the kernel writes that folder
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


@dataclass(frozen=True)
class Task:
    """One student's submission: ``files`` maps a path relative to the submitted folder to (bytes, mode)."""

    assignment: str
    student: str
    submitted: str
    autograded: str
    files: dict[str, tuple[bytes, int]] = field(repr=False)
    attempt: int = 1
    #: submitted entries that were not read (relative path -> why): a link, a FIFO, a device ...
    refused: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NotebookGrades:
    """What nbgrader saved for one notebook: auto scores and comments by cell name, the late penalty."""

    grades: dict[str, float | None]
    comments: dict[str, str | None]
    late_penalty: float | None
    missing: bool


@dataclass(frozen=True)
class TaskResult:
    """A graded student: grades per notebook, the autograded folder's files, where and how long it took.

    ``files`` maps a path relative to the autograded folder to (bytes, mode); ``from_source`` lists
    the files nbgrader copied unchanged from ``source/<assignment>/`` (the coordinator copies its
    own, so the data does not travel back).
    """

    student: str
    notebooks: dict[str, NotebookGrades]
    files: dict[str, tuple[bytes, int]] = field(repr=False)
    from_source: tuple[str, ...]
    seconds: float
    host: str
    #: files of the autograded folder not carried back (relative path -> why): over the size bound
    left_out: dict[str, str] = field(default_factory=dict)
    #: of ``seconds``, the time nbgrader's autograde took (the rest is this task's overhead: writing the
    #: scratch course, reading the grades, collecting the files); None where not measured
    nbgrader_seconds: float | None = None


def nbgrader_environment(key: str | Path | None = None) -> dict[str, str]:
    """The environment for the ``nbgrader`` command: this Python's bin first, the key path if given."""
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k != ANSWER_KEY_ENV}
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if key is not None:
        env[ANSWER_KEY_ENV] = str(key)
    return env


def run_nbgrader(root: str | Path, *args: str, key: str | Path | None = None,
                 timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run the real ``nbgrader ARGS`` in the course folder ``root``; it dies with this process (Linux)."""
    command = [str(Path(sys.executable).parent / "nbgrader"), *args]
    prctl = _prctl()  # looked up here: the child, forked from a threaded process, only calls it
    die_with_parent = None if prctl is None else (lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGKILL))
    return subprocess.run(command, cwd=root, env=nbgrader_environment(key), text=True, capture_output=True,
                          timeout=timeout, preexec_fn=die_with_parent)


_PR_SET_PDEATHSIG = 1


def _prctl():
    """libc's ``prctl``, or None where there is none: with PR_SET_PDEATHSIG the child gets SIGKILL when
    the thread that started it dies (a killed Dask worker leaves no orphan grading)."""
    try:
        import ctypes

        return ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None


def _write(path: Path, data: bytes, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mode is not None:
        path.chmod(mode)


def grade_task(task: Task, instructor: InstructorFiles) -> TaskResult:
    """Autograde one student with a fresh ``nbgrader`` process in a private scratch course.

    What a Dask worker runs; local workers keep one grading process each instead
    (:mod:`fercourse.grading.coordinator.worker`), which saves nbgrader's start-up per student.
    Raises :class:`TaskError` (naming the student, quoting nbgrader's log) when it was not graded.
    """
    start = time.perf_counter()
    sweep_stale_scratch()
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as scratch:
        (Path(scratch) / "owner").write_text(f"{os.uname().nodename} {os.getpid()}\n")
        root, key = write_instructor_files(Path(scratch), instructor)
        write_submission(Path(scratch), task)
        result = run_nbgrader(root, "autograde", *autograde_arguments(root, task, instructor), key=key)
        return collect_result(root, task, instructor, start, result.returncode, result.stdout + result.stderr)


def write_instructor_files(scratch: Path, instructor: InstructorFiles) -> tuple[Path, Path]:
    """Write the scratch course (``scratch/course``) and the key beside it; returns (course root, key)."""
    root = scratch / "course"
    key = scratch / "instructor" / "answer_key.csv"
    for relative, data in instructor.files.items():
        _write(root / relative, data)
    _write(key, instructor.key, 0o600)
    for suffix, data in instructor.key_sidecars.items():
        _write(key.with_name(key.stem + suffix), data, 0o600)
    return root, key


def write_submission(scratch: Path, task: Task) -> None:
    """Write one student's submitted folder into the scratch course."""
    root = scratch / "course"
    for relative, (data, mode) in task.files.items():
        _write(root / task.submitted / relative, data, mode)
    # a refused entry stays a link (a hard link stays a hard link), so this nbgrader's graders refuse
    # it, with the same reason, as the serial run's do; it names an empty file of this scratch
    # folder, never anything of the instructor's
    for index, (relative, reason) in enumerate(sorted(task.refused.items())):
        placeholder = scratch / f"refused-{index}"
        placeholder.write_bytes(b"")
        (root / task.submitted / relative).parent.mkdir(parents=True, exist_ok=True)
        if reason.startswith("a hard link"):
            os.link(placeholder, root / task.submitted / relative)
        else:
            os.symlink(placeholder, root / task.submitted / relative)


def autograde_arguments(root: Path, task: Task, instructor: InstructorFiles) -> list[str]:
    """The arguments after ``nbgrader autograde`` that grade ``task``'s student in the scratch course."""
    return [task.assignment, "--student", glob.escape(task.student), f"--CourseDirectory.root={root}",
            f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}", "--Autograde.create_student=True",
            *instructor.nbgrader_args]


def collect_result(root: Path, task: Task, instructor: InstructorFiles, start: float, returncode: int | None,
                   log: str) -> TaskResult:
    """The task's result from the scratch course after nbgrader ran, or :class:`TaskError` quoting ``log``."""
    autograded = root / task.autograded
    if returncode != 0 or not autograded.is_dir():
        raise TaskError(f"{task.student}: nbgrader autograde exited {returncode}: " + _log_excerpt(log))
    notebooks = read_grades(f"sqlite:///{root / 'gradebook.db'}", instructor.course_id, task.assignment,
                            task.student, root / task.submitted)
    files, from_source, left_out = _collect(autograded, root / "source" / task.assignment,
                                            instructor.max_file_bytes)
    return TaskResult(task.student, notebooks, files, from_source, time.perf_counter() - start,
                      os.uname().nodename, left_out)


def sweep_stale_scratch(folder: str | Path | None = None) -> list[Path]:
    """Remove the scratch folders in ``folder`` (default: the temp dir) whose grading process is gone.

    A folder counts as stale only when its ``owner`` file names this host and a PID that no longer
    runs; folders of live processes, of other hosts (a shared /tmp) and without an owner file are
    left alone. Returns the folders removed.
    """
    removed = []
    host = os.uname().nodename  # as TaskResult.host
    for scratch in Path(folder or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        try:
            owner_host, pid = (scratch / "owner").read_text().split()
            if owner_host != host or _alive(int(pid)):
                continue
        except (OSError, ValueError):  # no owner file yet (being created), or not ours
            continue
        shutil.rmtree(scratch, ignore_errors=True)
        removed.append(scratch)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # runs, as another user
        return True
    return True


def _log_excerpt(log: str) -> str:
    """The lines of nbgrader's log that say what went wrong (errors first), at most :data:`LOG_LINES`."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "fercourse:" in line or "Error" in line]
    shown = (errors or lines)[-LOG_LINES:]
    return " | ".join(shown) if shown else "no output (killed?)"


def read_grades(db_url: str, course_id: str, assignment: str, student: str,
                submitted: Path) -> dict[str, NotebookGrades]:
    """Per notebook of ``assignment``: what nbgrader saved for ``student`` in the gradebook at ``db_url``."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url, course_id) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        for notebook in submission.notebooks:
            out[notebook.name] = NotebookGrades(
                {grade.name: grade.auto_score for grade in notebook.grades},
                {comment.name: comment.auto_comment for comment in notebook.comments},
                notebook.late_submission_penalty, not (submitted / f"{notebook.name}.ipynb").exists())
    return out


def _collect(autograded: Path, source: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES
             ) -> tuple[dict[str, tuple[bytes, int]], tuple[str, ...], dict[str, str]]:
    """The autograded folder's files, but those equal to the source file of the same path (named only).

    The kernel wrote this folder, so what is read is bounded (:func:`~fercourse.grading.student_files.
    over_size`; ``ApplyScores`` has removed such files already, this holds whatever wrote them):
    without the bound a kernel leaving a 1 GiB sparse file (no disk used) made the coordinator hold
    1 GiB in memory.

    Returns
    -------
    files : dict
        Relative path -> (bytes, mode).
    from_source : tuple of str
        Files equal to ``source``'s (the coordinator copies its own).
    left_out : dict
        Relative path -> why it was not carried back.
    """
    files, from_source = {}, []
    regular = classify(autograded).regular  # links and the like: left out
    left_out = over_size(regular, source, max_bytes)
    for relative, path in sorted(regular.items()):
        original = source / relative
        if relative in left_out:
            continue
        if path.suffix != ".ipynb" and original.is_file() and filecmp.cmp(path, original, shallow=False):
            from_source.append(relative)
        else:
            files[relative] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return files, tuple(from_source), left_out
