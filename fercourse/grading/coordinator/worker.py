"""A long-lived grading process: one per local worker slot, grading many students, one at a time.

A fresh ``nbgrader autograde`` per student pays Python's start-up, nbgrader's imports, the course
config and the scratch course's instructor files every time; on two cores that cost ate the second
worker's gain. :class:`GradingProcess` starts one process (``python -m
fercourse.grading.coordinator.worker``: a fresh interpreter, nothing of the coordinator's threads,
memory or ``__main__`` is inherited; pickled messages over two pipes) that receives the instructor
files once, writes its scratch course once and then grades each
:class:`~fercourse.grading.coordinator.task.Task` it is sent with nbgrader's own ``autograde`` app
run in that process (as nbgrader's test suite runs its apps: ``initialize``, ``start``, ``reset``),
with the same config, sandbox, outside-the-kernel scoring and integrity checks as ``nbgrader
autograde``. One process grading a stream of students is what a serial
``nbgrader autograde`` of a class is too.

Between students the process resets what a student could leave behind: ``submitted/`` and
``autograded/`` are removed, the gradebook is rewritten from the assignment-only copy, and the instructor
files are rewritten if any changed (compared by size and modification time; a kernel cannot reach them
through the sandbox, and the integrity check would already have stopped that student). Its scratch
folder carries an ``owner`` file as a task's does (a killed process's folder is swept by the next one,
:func:`~fercourse.grading.coordinator.task.sweep_stale_scratch`) and a ``current`` file naming the
student being graded. If the process dies (killed, out of memory) the task fails, is retried as any
failed task, and the slot starts a new process for its next task.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

from fercourse.config import ANSWER_KEY_ENV
from fercourse.grading.coordinator.task import (
    _PR_SET_PDEATHSIG,
    SCRATCH_PREFIX,
    InstructorFiles,
    Task,
    TaskError,
    TaskResult,
    _prctl,
    autograde_arguments,
    collect_result,
    nbgrader_environment,
    sweep_stale_scratch,
    write_instructor_files,
    write_submission,
)

MODULE = "fercourse.grading.coordinator.worker"

#: Seconds a closing process gets to finish before it is killed.
CLOSE_SECONDS = 10


class GradingProcess:
    """One grading process for ``instructor``'s assignment, started on first use, restarted after a death.

    ``grade(task)`` returns the :class:`TaskResult` or raises :class:`TaskError`; ``close()`` ends the
    process. ``startups`` is the seconds its starts took in all (spawn, imports, scratch course).
    """

    def __init__(self, instructor: InstructorFiles) -> None:
        self.instructor = instructor
        self.process = None
        self.connection = None
        self.startups = 0.0

    def start(self) -> None:
        from multiprocessing.connection import Connection

        start = time.perf_counter()
        to_child, from_parent = os.pipe()[::-1]
        from_child, to_parent = os.pipe()
        self.errors = tempfile.TemporaryFile()  # what the process says before it opens its own log
        prctl = _prctl()  # looked up here: the child, forked from a threaded process, only calls it
        self.process = subprocess.Popen(
            [sys.executable, "-m", MODULE, str(from_parent), str(to_parent)],
            pass_fds=(from_parent, to_parent),
            stdin=subprocess.DEVNULL, stdout=self.errors, stderr=self.errors, env=nbgrader_environment(),
            # killed when the coordinator's thread that started it ends (Linux; elsewhere nothing)
            preexec_fn=None if prctl is None else (lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)))
        os.close(from_parent)
        os.close(to_parent)
        self.connection = _Channel(Connection(from_child, writable=False),
                                   Connection(to_child, readable=False))
        try:
            self.connection.send(self.instructor)
            status, detail = self.connection.recv()  # ready once the scratch course is written
        except (EOFError, OSError):
            status, detail = "error", f"it exited {self.process.wait()}: {self._said()}"
        if status != "ready":
            self.close()
            raise TaskError(f"the grading process did not start: {detail}")
        self.startups += time.perf_counter() - start

    def _said(self) -> str:
        self.errors.seek(0)
        lines = self.errors.read().decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "no output"

    def grade(self, task: Task) -> TaskResult:
        """Grade one student in the process (starting it first if needed)."""
        if self.process is None or self.process.poll() is not None:
            self.close()
            self.start()
        try:
            self.connection.send(task)
            status, payload = self.connection.recv()
        except (EOFError, OSError) as error:  # the process died mid-task
            try:
                code = self.process.wait(CLOSE_SECONDS)
            except subprocess.TimeoutExpired:
                code = None
            self.close()
            raise TaskError(f"{task.student}: the grading process exited {code} ({type(error).__name__}; "
                            "killed?)") from None
        if status == "error":
            raise TaskError(payload)
        return payload

    def close(self) -> None:
        """End the process (it removes its scratch folder); kill it if it does not end in time."""
        if self.process is not None:
            if self.process.poll() is None:
                try:
                    self.connection.send(None)
                    self.process.wait(CLOSE_SECONDS)
                except (OSError, subprocess.TimeoutExpired):
                    self.process.kill()
                    self.process.wait()
            self.connection.close()
            self.errors.close()
        self.process = self.connection = None


class _Channel:
    """Two one-way pipe ends used as one connection: ``send`` on one, ``recv`` on the other."""

    def __init__(self, incoming, outgoing) -> None:
        self.incoming, self.outgoing = incoming, outgoing

    def send(self, message) -> None:
        self.outgoing.send(message)

    def recv(self):
        return self.incoming.recv()

    def close(self) -> None:
        self.incoming.close()
        self.outgoing.close()


def serve(connection) -> None:
    """The grading process's main: write the scratch course, then grade each task received until None."""
    instructor: InstructorFiles = connection.recv()
    sweep_stale_scratch()
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as folder:
        scratch = Path(folder)
        (scratch / "owner").write_text(f"{os.uname().nodename} {os.getpid()}\n")
        log = open(scratch / "process.log", "w")  # noqa: SIM115 - kept open for the process's lifetime
        os.dup2(log.fileno(), 1)  # kernels' and nbgrader's stray output stay out of the instructor's terminal
        os.dup2(log.fileno(), 2)
        try:
            import nbgrader.apps.nbgraderapp  # noqa: F401

            import fercourse.grading.plugins  # noqa: F401 - what the course config imports: paid once here

            root, key = write_instructor_files(scratch, instructor)
            signatures = _signatures(root, instructor)
        except Exception as error:  # noqa: BLE001 - reported to the coordinator, which names it
            connection.send(("error", f"{type(error).__name__}: {error}"))
            return
        connection.send(("ready", None))
        while (task := connection.recv()) is not None:
            try:
                if _signatures(root, instructor) != signatures:
                    write_instructor_files(scratch, instructor)
                    signatures = _signatures(root, instructor)
                connection.send(("result", grade_here(scratch, root, key, task, instructor)))
            except TaskError as error:
                connection.send(("error", str(error)))
            except Exception as error:  # noqa: BLE001 - one student's failure must not end the process
                connection.send(("error", f"{task.student}: {type(error).__name__}: {error}"))
        log.close()


def grade_here(scratch: Path, root: Path, key: Path, task: Task, instructor: InstructorFiles) -> TaskResult:
    """Grade one student with nbgrader's autograde app in this process, in the scratch course at ``root``."""
    start = time.perf_counter()
    (scratch / "current").write_text(task.student + "\n")
    for step in ("submitted", "autograded", "feedback"):
        shutil.rmtree(root / step, ignore_errors=True)
    (root / "gradebook.db").write_bytes(instructor.files["gradebook.db"])
    for stale in root.glob(".fercourse-history-*"):  # the coordinator keeps the history; none piles up here
        stale.unlink()
    write_submission(scratch, task)
    app_start = time.perf_counter()
    returncode, log = run_autograde_app(root, key, autograde_arguments(root, task, instructor))
    nbgrader_seconds = time.perf_counter() - app_start
    result = collect_result(root, task, instructor, start, returncode, log)
    (scratch / "current").unlink()
    return TaskResult(result.student, result.notebooks, result.files, result.from_source,
                      time.perf_counter() - start, result.host, result.left_out, nbgrader_seconds)


def run_autograde_app(root: Path, key: Path, arguments: list[str]) -> tuple[int | None, str]:
    """Run ``nbgrader autograde ARGUMENTS`` in this process, in ``root``; returns (exit status, its log).

    The key's path is in the environment only while the app runs (the grader's plug-ins take it and
    remove it before any kernel starts, as in a separate ``nbgrader`` process).
    """
    from jupyter_core.application import NoStart
    from nbgrader.apps.nbgraderapp import NbGraderApp

    here, search_path = os.getcwd(), list(sys.path)
    os.chdir(root)
    os.environ[ANSWER_KEY_ENV] = str(key)
    app = NbGraderApp.instance()
    buffer = StringIO()
    code: int | None = 0
    try:
        app.initialize(["autograde", *arguments])
        app.init_logging(logging.StreamHandler, [buffer], color=False, subapps=True)
        app.start()
    except NoStart:  # how a Jupyter app says its subcommand (autograde) ran to its end
        pass
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.environ.pop(ANSWER_KEY_ENV, None)
        app.reset()
        os.chdir(here)
        sys.path[:] = search_path  # nbgrader put the course folder first on it
    return code, buffer.getvalue()


def _signatures(root: Path, instructor: InstructorFiles) -> dict[str, tuple[int, int] | None]:
    """(size, mtime) of every instructor file in the scratch course but the gradebook (reset per task)."""
    out = {}
    for relative in instructor.files:
        if relative != "gradebook.db":
            try:
                stat = (root / relative).lstat()
                out[relative] = (stat.st_size, stat.st_mtime_ns)
            except OSError:
                out[relative] = None
    return out


__all__ = ["GradingProcess", "grade_here", "run_autograde_app", "serve"]


if __name__ == "__main__":  # the grading process: python -m fercourse.grading.coordinator.worker IN OUT
    from multiprocessing.connection import Connection

    serve(_Channel(Connection(int(sys.argv[1]), writable=False),
                   Connection(int(sys.argv[2]), readable=False)))
