"""``fercourse grade autograde``: parallel and Dask autograde give the serial nbgrader gradebook.

Slow tests: 30 generated a1 submissions of seven kinds (fercourse.grading._testing.submit_a1_class) on
the e2e sample (1,400/280), graded once by plain ``nbgrader autograde`` (the reference), then all
30 through a Dask ``LocalCluster`` while the test kills the Dask worker grading one student, and
the first 4 with ``--workers 2`` while the test kills one student's nbgrader process (the 30 with
``--workers 2`` against serial: ``fercourse bench autograde``). Every grade, comment and total must
equal the serial run's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

A1 = "a1_baselines"
CLASS_SIZE = 30


def test_scheduler_without_dask_says_to_install_the_extra(monkeypatch, capsys):
    from fercourse.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["grade", "autograde", A1, "--scheduler", "tcp://127.0.0.1:8786"]) != 0
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "Dask is not installed: pip install 'fercourse[cluster]'" in error and "--workers" in error


def test_summary_reports_failures_by_student_and_the_rate():
    from fercourse.grading.coordinator.parallel import AutogradeSummary, StudentOutcome

    summary = AutogradeSummary(A1, "2 local workers", 30.0, {
        "ada": StudentOutcome("graded", 1, 6.0), "bob": StudentOutcome("graded", 2, 4.0),
        "cy": StudentOutcome("failed", 2, error="cy: nbgrader autograde exited -9: no output (killed?)"),
        "dee": StudentOutcome("unchanged")})
    assert summary.lines() == [
        "failed: cy after 2 attempts: cy: nbgrader autograde exited -9: no output (killed?)",
        "a1_baselines: graded 2, failed 1, unchanged 1 (skipped) in 30.0 s (4.0 submissions/minute) on "
        "2 local workers"]
    assert summary.as_dict()["students"]["bob"] == {"status": "graded", "attempts": 2, "score": 4.0}


def nbgrader_processes(student: str) -> list[int]:
    """PIDs of ``nbgrader autograde ... --student STUDENT`` processes on this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"nbgrader") for a in args) and b"autograde" in args and student.encode() in args:
            found.append(int(entry.name))
    return found


def grading_processes(student: str) -> list[int]:
    """PIDs of the long-lived local grading processes grading ``student`` now (their ``current`` file)."""
    import tempfile

    from fercourse.grading.coordinator.task import SCRATCH_PREFIX

    found = []
    for scratch in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        try:
            if (scratch / "current").read_text().strip() == student:
                found.append(int((scratch / "owner").read_text().split()[1]))
        except (OSError, ValueError, IndexError):
            continue
    return found


class Killer(threading.Thread):
    """Kills, once, the first process grading ``student``: a local grading process, or (``parent``) the
    Dask worker whose nbgrader process grades it."""

    def __init__(self, student: str, parent: bool = False):
        super().__init__(daemon=True)
        self.student, self.parent, self.killed, self.stop = student, parent, None, False

    def run(self):
        find = nbgrader_processes if self.parent else grading_processes
        while not self.stop:
            for pid in find(self.student):
                # mid-run: nbgrader is working on the notebook. A long-lived local grading process moves on
                # to the next student when it is done (on an idle machine an a1 student takes about 2 s),
                # so it is killed only while its current file still names the student.
                time.sleep(0.2 if not self.parent else 2)
                if not self.parent and pid not in find(self.student):
                    continue
                target = int(Path(f"/proc/{pid}/stat").read_text().split()[3]) if self.parent else pid
                os.kill(target, signal.SIGKILL)
                self.killed = target
                return
            time.sleep(0.05)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """30 submissions, and a copy of the course graded by plain serial ``nbgrader autograde``."""
    from fercourse.grading._testing import make_course, nbgrader, submit_a1_class

    course = make_course(tmp_path_factory.mktemp("class"), n_train=1400, n_test=280)
    nbgrader(course, "generate_assignment", A1)
    expected = submit_a1_class(course, CLASS_SIZE)
    serial = copy_course(course, "serial")
    start = time.perf_counter()
    nbgrader(serial, "autograde", A1, key=True)
    print(f"serial nbgrader autograde of {CLASS_SIZE}: {time.perf_counter() - start:.1f} s")
    return course, serial, expected


def copy_course(course, name: str):
    from fercourse.grading._testing import Course

    root = course.root.parent / name
    shutil.copytree(course.root, root)
    return Course(root, course.key, course.sha256)


def gradebook_rows(root: Path) -> dict:
    """Every student's grades, comments, penalties and total, as the gradebook holds them."""
    from nbgrader.api import Gradebook

    rows = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "fercourse") as gradebook:
        for submission in gradebook.find_assignment(A1).submissions:
            notebook = submission.notebooks[0]
            rows[submission.student_id] = (
                submission.score, notebook.late_submission_penalty,
                sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade) for g in notebook.grades),
                sorted((c.name, c.auto_comment) for c in notebook.comments))
    return rows


@pytest.mark.slow
def test_parallel_and_dask_grade_exactly_as_serial_nbgrader_and_lose_nothing_to_a_kill(
        graded_class, monkeypatch, capsys):
    from distributed import LocalCluster

    from fercourse.cli import main
    from fercourse.grading._testing import gradebook_totals, nbgrader
    from fercourse.grading.coordinator.parallel import autograde

    course, serial, expected = graded_class
    serial_rows = gradebook_rows(serial.root)
    assert gradebook_totals(serial.root, A1) == expected  # the reference run itself is right

    # --workers 2, through the command line; the grading process grading one student is killed mid-run
    parallel = copy_course(course, "parallel")
    first = {student: row for student, row in serial_rows.items() if student[:4] in ("s000", "s001", "s002",
                                                                                     "s003")}
    monkeypatch.setenv("FERCOURSE_ANSWER_KEY", str(course.key))
    killer = Killer("s001_weak")
    killer.start()
    status = main(["grade", "autograde", A1, "--course", str(parallel.root), "--workers", "2", "--student",
                   "s00[0-3]*", "--json"])
    killer.stop = True
    summary = json.loads(capsys.readouterr().out)
    print(f"--workers 2: {summary['seconds']} s, {summary['submissions_per_minute']} submissions/minute")
    assert status == 0 and killer.killed is not None
    assert (summary["graded"], summary["failed"], summary["unchanged"]) == (4, 0, 0)
    assert summary["students"]["s001_weak"]["attempts"] == 2  # killed once, graded on the retry
    assert gradebook_rows(parallel.root) == first
    # the autograded files are where nbgrader puts them: feedback and export work unchanged
    nbgrader(parallel, "generate_feedback", A1)
    nbgrader(parallel, "export")
    exported = (parallel.root / "grades.csv").read_text().splitlines()
    assert len(exported) == 4 + 1
    assert (parallel.root / "feedback" / "s000_reference" / A1 / f"{A1}.html").is_file()
    # re-running grades only what changed
    again = autograde(parallel.root, A1, students="s00[0-3]*", workers=2, key=course.key, log=None)
    assert (again.count("graded"), again.count("unchanged")) == (0, 4)
    changed = parallel.submitted("s002_dummy", A1) / "submission.csv"
    changed.write_bytes((parallel.submitted("s000_reference", A1) / "submission.csv").read_bytes())
    again = autograde(parallel.root, A1, students="s00[0-3]*", workers=2, key=course.key, log=None)
    assert [s for s, o in again.students.items() if o.status == "graded"] == ["s002_dummy"]
    assert gradebook_totals(parallel.root, A1)["s002_dummy"] == 6.0

    # a local Dask cluster; the worker grading one student is killed mid-run
    dask = copy_course(course, "dask")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        killer = Killer("s004_missing_csv", parent=True)
        killer.start()
        result = autograde(dask.root, A1, scheduler=cluster.scheduler_address, key=course.key, log=print)
        killer.stop = True
    print("\n".join(result.lines()))
    assert killer.killed is not None
    assert (result.count("graded"), result.count("failed")) == (CLASS_SIZE, 0)
    assert gradebook_rows(dask.root) == serial_rows
    # in its own scratch course, each key_probe student's kernel saw neither the key nor the course files
    for student in [s for s in expected if s.endswith("key_probe")]:
        probe = (dask.root / "autograded" / student / A1 / f"{A1}.ipynb").read_text()
        assert "answer_key.csv absent" in probe and "gradebook.db absent" in probe, student
        assert "source absent" in probe and "course root holds: ['autograded']" in probe, student


@pytest.mark.slow
def test_a_task_that_keeps_failing_is_named_and_the_others_are_graded(graded_class, monkeypatch):
    from fercourse.grading.coordinator import parallel
    from fercourse.grading.coordinator.task import TaskError

    course, _, expected = graded_class
    copy = copy_course(course, "failing")
    real = parallel.GradingProcess.grade

    def grade(process, task):
        if task.student == "s000_reference":
            raise TaskError("s000_reference: nbgrader autograde exited 1: kernel died")
        return real(process, task)

    monkeypatch.setattr(parallel.GradingProcess, "grade", grade)
    retried = []
    summary = parallel.autograde(copy.root, A1, students="s00[01]*", workers=2, key=course.key,
                                 log=retried.append)
    assert retried == ["retrying s000_reference (attempt 1 failed: s000_reference: nbgrader autograde exited "
                       "1: kernel died)"]
    assert summary.lines()[0] == ("failed: s000_reference after 2 attempts: s000_reference: nbgrader "
                                  "autograde exited 1: kernel died")
    assert summary.students["s001_weak"].score == expected["s001_weak"]
    assert not (copy.root / "autograded" / "s000_reference").exists()


def test_a_killed_workers_scratch_copy_of_the_key_is_swept_by_the_next_task(tmp_path):
    """SIGKILL runs no cleanup: the grading folder and its answer key stay until the next task sweeps."""
    import subprocess
    import textwrap

    from fercourse.grading.coordinator.task import SCRATCH_PREFIX, sweep_stale_scratch

    worker = textwrap.dedent(f"""
        import os, sys, tempfile, time
        from pathlib import Path
        scratch = Path(tempfile.mkdtemp(prefix={SCRATCH_PREFIX!r}, dir={str(tmp_path)!r}))
        (scratch / "owner").write_text(f"{{os.uname().nodename}} {{os.getpid()}}\\n")
        (scratch / "instructor").mkdir()
        (scratch / "instructor" / "answer_key.csv").write_text("id,emotion\\nabc,3\\n")
        print(scratch, flush=True)
        time.sleep(600)
    """)
    process = subprocess.Popen([sys.executable, "-c", worker], stdout=subprocess.PIPE, text=True)
    killed = Path(process.stdout.readline().strip())
    assert sweep_stale_scratch(tmp_path) == []  # still grading: left alone
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (killed / "instructor" / "answer_key.csv").is_file()  # what the kill leaves behind

    live = tmp_path / f"{SCRATCH_PREFIX}live"
    (live / "instructor").mkdir(parents=True)
    (live / "owner").write_text(f"{os.uname().nodename} {os.getpid()}\n")
    elsewhere = tmp_path / f"{SCRATCH_PREFIX}other-host"
    elsewhere.mkdir()
    (elsewhere / "owner").write_text(f"another-host {process.pid}\n")
    starting = tmp_path / f"{SCRATCH_PREFIX}starting"  # created, owner not yet written
    starting.mkdir()

    assert sweep_stale_scratch(tmp_path) == [killed]
    assert not killed.exists()
    assert live.is_dir() and elsewhere.is_dir() and starting.is_dir()


def test_what_a_worker_carries_back_from_the_kernels_folder_is_bounded(tmp_path):
    """The kernel writes its folder: a 1 GiB sparse file there costs no disk, but read whole it cost the
    coordinator 1 GiB of memory (measured: 1,076,888 kB max RSS before, 28,428 kB after)."""
    from fercourse.grading.coordinator.task import _collect

    folder, source = tmp_path / "autograded", tmp_path / "source"
    folder.mkdir()
    source.mkdir()
    (folder / "a1.ipynb").write_bytes(b"n" * 300)  # notebooks first
    (folder / "a.csv").write_bytes(b"a" * 400)
    (folder / "b.csv").write_bytes(b"b" * 400)  # 300 + 400 + 400 > 1,000 in all: left out
    for folder_or_source in (folder, source):  # the instructor's data, unchanged: named, not carried
        (folder_or_source / "data.csv").write_bytes(b"d" * 5000)
    with (folder / "sparse.bin").open("wb") as handle:
        handle.truncate(2**30)

    files, from_source, left_out = _collect(folder, source, 1000)
    assert sorted(files) == ["a.csv", "a1.ipynb"] and files["a.csv"][0] == b"a" * 400
    assert from_source == ("data.csv",)
    assert sorted(left_out) == ["b.csv", "sparse.bin"]
    assert left_out["sparse.bin"] == "1,073,741,824 bytes: over the 1,000 of CourseDirectory.max_file_size"
    assert "are over 1,000 bytes in all" in left_out["b.csv"]
