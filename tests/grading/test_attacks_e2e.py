"""End to end: attacks a hostile student makes on the grader itself (issue 27), serial and ``--workers 2``.

Each attack is written as a student would write it, as a cell of an a1 submission, or as the files
of a submission; each test grades the attackers with an innocent student in the same run (real
``nbgrader autograde``, or ``fercourse grade autograde --workers 2``), then runs
``nbgrader generate_feedback``, and asserts that the attack failed and that the innocent student
got exactly the points a clean run gives. The grader runs as root in CI, as the instructor guide's
setup does: every defence must hold for root. Outcomes and limits: autograder/README.md, "Threat model".
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from grading_helpers import cell_text, grades, marked_processes

from fercourse.grading._testing import A1_QUICK_SOLUTIONS as QUICK

pytestmark = pytest.mark.slow

A1 = "a1_baselines"
N_TRAIN, N_TEST = 1400, 280
CELLS = ("load_course_data_shapes", "compare_baselines_table", "submission_format", "accuracy_tiers")
WRITTEN = "a1_written_confusion"
HONEST = {**dict(zip(CELLS, (1.0, 1.0, 1.0, 3.0))), WRITTEN: 0.0}  # the reference CSV: every point
DUMMY = {**dict(zip(CELLS, (1.0, 1.0, 1.0, 0.0))), WRITTEN: 0.0}  # an attacker's majority-class CSV
REFUSED_CSV = {**dict(zip(CELLS, (1.0, 1.0, 0.0, 0.0))), WRITTEN: 0.0}
MODES = ("serial", "workers2")

# The kernel plants links (and a FIFO) in its own working folder: nbgrader's generate_feedback copies
# that folder following links, and nbgrader chmods what it wrote, as root, following links too.
PLANT_LINKS = '''
import os
for name, target in {{"key.html": {key!r}, "secret.html": {secret!r}, "secret.txt": {secret!r},
                      "gradebook.html": "../../../gradebook.db", "everything": "/"}}.items():
    os.symlink(target, name)
os.mkfifo("pipe.html")
# the notebook itself: nbgrader writes the autograded notebook to this name after the kernel ends
os.remove("{notebook}.ipynb")
os.symlink({victim!r}, "{notebook}.ipynb")
print("planted", sorted(os.listdir(".")))
'''
READ_SUBMITTED_LINK = '''
try:
    print("notes:", open("notes.txt").read())
except OSError as error:
    print("notes unreadable:", type(error).__name__)
'''
ESCAPE = '''
import os, subprocess
report = {"uid": os.getuid()}
try:
    report["init_environ"] = open("/proc/1/environ", "rb").read().decode(errors="replace")
except OSError as error:
    report["init_environ"] = type(error).__name__
try:
    open("/proc/sys/kernel/core_pattern", "w").close()
    report["core_pattern"] = "opened for writing"
except OSError as error:
    report["core_pattern"] = type(error).__name__
targets = {}
for fd in sorted(map(int, os.listdir("/proc/self/fd"))):  # every descriptor the kernel holds
    try:
        targets[fd] = os.readlink(f"/proc/self/fd/{fd}")
        if not targets[fd].startswith(("socket:", "anon_inode:", "/proc")):
            os.write(fd, b"\\n[E 2026-01-01 autograde] fercourse: FORGED grading stopped for all\\n")
    except OSError:
        pass
report["terminals"] = sorted(t for t in targets.values() if t.startswith(("/dev/pts", "/dev/tty")))
children = []
try:
    for _ in range(200):
        children.append(subprocess.Popen(["sleep", "30"]))
    report["processes"] = f"{len(children)} started"
except OSError as error:
    report["processes"] = f"{len(children)} started, then {type(error).__name__}"
for child in children:
    child.kill()
    child.wait()
try:
    with open("/tmp/fill", "wb") as handle:
        for _ in range(300):
            handle.write(b"\\0" * 1024 * 1024)
    report["tmp"] = "300 MB written"
except OSError as error:
    report["tmp"] = type(error).__name__
print("REPORT", report)
'''
HUGE_OUTPUT = '''
from IPython.display import HTML, display
display(HTML("<p>" + "x" * 30_000_000 + "</p>"))
print("y" * 20_000_000)
'''
# A hook sees every later cell's source, hidden tests included, and prints it in a student's own cell.
HOOK_HIDDEN_TESTS = '''
seen = []
get_ipython().events.register("pre_run_cell", lambda info: seen.append(info.raw_cell))
'''
PRINT_SEEN = 'print("\\n".join(seen))'
SANDBOX_LIMITS = ("--FercourseSandbox.max_processes=60", "--FercourseSandbox.tmpfs_mb=64")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    from fercourse.grading._testing import baseline_submission, make_course, nbgrader

    course = make_course(tmp_path_factory.mktemp("attacks"), n_train=N_TRAIN, n_test=N_TEST)
    nbgrader(course, "generate_assignment", A1)
    return course, baseline_submission(course, A1, "sgd"), baseline_submission(course, A1, "dummy")


@pytest.fixture
def host_files(tmp_path):
    """Two 0600 host files a student must neither read, change nor make readable: a secret and a victim."""
    files = {}
    for name in ("secret", "victim"):
        path = tmp_path / "host" / f"{name}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"HOST-{name.upper()}-3f9c2a\n")
        path.chmod(0o600)
        files[name] = path
    return files


def copy_course(released, tmp_path, mode):
    from fercourse.grading._testing import Course

    course = released[0]
    root = tmp_path / mode
    shutil.copytree(course.root, root, symlinks=True)
    return Course(root, course.key, course.sha256)


def grade_class(course, mode, *extra: str) -> str:
    """Autograde every submission, by nbgrader or on two local workers; returns nbgrader's log (serial)."""
    from fercourse.grading._testing import nbgrader
    from fercourse.grading.coordinator.parallel import autograde

    if mode == "serial":
        result = nbgrader(course, "autograde", A1, *extra, key=True)
        return result.stdout + result.stderr
    summary = autograde(course.root, A1, workers=2, key=course.key, nbgrader_args=extra, log=None)
    assert summary.count("failed") == 0, summary.lines()
    return ""


def outputs_of(course, student: str) -> str:
    """Every output of the student's autograded notebook: stream text, rich data, errors."""
    import nbformat

    notebook = nbformat.read(course.root / "autograded" / student / A1 / f"{A1}.ipynb", 4)
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts += [str(value) for value in output.get("data", {}).values()]
            parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return "\n".join(parts)


def entries(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` and what it is (``file``, ``link``, ``fifo``, ``dir``), never followed."""
    found = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        found[path.relative_to(folder).as_posix()] = ("link" if stat.S_ISLNK(mode) else "fifo"
                                                      if stat.S_ISFIFO(mode) else "dir" if stat.S_ISDIR(mode)
                                                      else "file")
    return found


def snapshot(paths) -> dict:
    return {path: (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) for path in paths}


@pytest.mark.parametrize("mode", MODES)
def test_links_the_kernel_leaves_reach_nothing(released, host_files, tmp_path, mode):
    from fercourse.grading._testing import nbgrader, submit

    course = copy_course(released, tmp_path, mode)
    _, reference, dummy = released
    plant = PLANT_LINKS.format(key=str(course.key), secret=str(host_files["secret"]), notebook=A1,
                               victim=str(host_files["victim"]))
    submit(course, "honest", A1, files={"submission.csv": reference})
    submit(course, "planter", A1, files={"submission.csv": dummy}, replace=QUICK,
           insert_after={"a1_imports": plant})
    before = snapshot([course.key, host_files["secret"], host_files["victim"]])

    grade_class(course, mode)
    assert grades(course, A1, A1, "honest") == HONEST
    assert grades(course, A1, A1, "planter") == DUMMY
    assert "planted" in outputs_of(course, "planter")  # the attack ran: the links were made
    left = entries(course.root / "autograded" / "planter" / A1)
    assert [name for name, kind in left.items() if kind != "file" and kind != "dir"] == []
    assert snapshot(before) == before  # not changed, not chmodded (0600 kept), not overwritten

    nbgrader(course, "generate_feedback", A1)
    feedback = course.root / "feedback" / "planter" / A1
    assert entries(feedback) == {f"{A1}.html": "file"}
    page = (feedback / f"{A1}.html").read_text()
    assert "HOST-SECRET" not in page and "HOST-VICTIM" not in page
    assert sum(row in page for row in course.key.read_text().splitlines()[1:]) < 3
    assert snapshot(before) == before
    assert entries(course.root / "feedback" / "honest" / A1) == {f"{A1}.html": "file"}


@pytest.mark.parametrize("mode", MODES)
def test_submitted_links_are_refused_and_unread(released, host_files, tmp_path, mode):
    from fercourse.grading._testing import submit

    course = copy_course(released, tmp_path, mode)
    _, reference, dummy = released
    submit(course, "honest", A1, files={"submission.csv": reference})
    folder = submit(course, "link_csv", A1, replace=QUICK)
    os.symlink(course.key, folder / "submission.csv")  # scores 1.00 if the grader follows it
    folder = submit(course, "link_notes", A1, files={"submission.csv": dummy}, replace=QUICK,
                    insert_after={"a1_imports": READ_SUBMITTED_LINK})
    os.symlink(host_files["secret"], folder / "notes.txt")

    grade_class(course, mode)
    assert grades(course, A1, A1, "honest") == HONEST
    assert grades(course, A1, A1, "link_csv") == REFUSED_CSV
    assert "submission.csv is a symbolic link: expected a regular file" in cell_text(
        course, "link_csv", A1, "submission_format")
    assert grades(course, A1, A1, "link_notes") == DUMMY
    notes = outputs_of(course, "link_notes")
    assert "notes unreadable: FileNotFoundError" in notes and "HOST-SECRET" not in notes


@pytest.mark.parametrize("mode", MODES)
def test_the_kernel_has_no_host_privilege_and_bounded_resources(released, tmp_path, mode, monkeypatch):
    from fercourse.grading._testing import submit

    course = copy_course(released, tmp_path, mode)
    _, reference, dummy = released
    monkeypatch.setenv("FERCOURSE_TEST_GRADER_TOKEN", "grader-token-77e1")  # e.g. a JupyterHub API token
    submit(course, "honest", A1, files={"submission.csv": reference})
    submit(course, "escaper", A1, files={"submission.csv": dummy}, replace=QUICK,
           insert_after={"a1_imports": ESCAPE})

    log = grade_class(course, mode, *SANDBOX_LIMITS)
    assert grades(course, A1, A1, "honest") == HONEST
    assert grades(course, A1, A1, "escaper") == DUMMY
    report = next(line for line in outputs_of(course, "escaper").splitlines() if line.startswith("REPORT"))
    assert "'uid': 0," not in report  # not host root, nor root in a namespace
    assert "grader-token-77e1" not in report and "'init_environ': 'PermissionError'" in report
    assert "'core_pattern': 'opened for writing'" not in report
    assert "'terminals': []" in report  # no terminal of the grader's to read or write
    assert "then BlockingIOError" in report or "then OSError" in report  # RLIMIT_NPROC held
    assert "'tmp': 'OSError'" in report  # the tmpfs size held
    assert "FORGED" not in log  # written to every descriptor the kernel holds: none is the grader's log


@pytest.mark.parametrize("mode", MODES)
def test_huge_outputs_are_cut_and_hidden_tests_stay_hidden(released, tmp_path, mode):
    from fercourse.grading._testing import nbgrader, submit

    course = copy_course(released, tmp_path, mode)
    _, reference, dummy = released
    submit(course, "honest", A1, files={"submission.csv": reference})
    submit(course, "shouter", A1, files={"submission.csv": dummy}, replace=QUICK,
           insert_after={"a1_imports": HUGE_OUTPUT})
    submit(course, "hooker", A1, files={"submission.csv": dummy}, replace=QUICK,
           insert_after={"a1_imports": HOOK_HIDDEN_TESTS, "accuracy_tiers": PRINT_SEEN})

    grade_class(course, mode)
    assert grades(course, A1, A1, "honest") == HONEST
    assert grades(course, A1, A1, "shouter") == DUMMY
    assert grades(course, A1, A1, "hooker") == DUMMY
    autograded = course.root / "autograded" / "shouter" / A1 / f"{A1}.ipynb"
    assert autograded.stat().st_size < 2_000_000
    assert "output cut: 30,000,007 characters" in outputs_of(course, "shouter")
    nbgrader(course, "generate_feedback", A1)
    assert (course.root / "feedback" / "shouter" / A1 / f"{A1}.html").stat().st_size < 3_000_000
    page = (course.root / "feedback" / "hooker" / A1 / f"{A1}.html").read_text()
    assert "BEGIN HIDDEN TESTS" not in page and "len(set(test_ids)) == len(test_ids)" not in page
    assert "scored_outside_kernel" not in page


# Attacks beyond issue 27's list (autograder/README.md, "Threat model", the rows after the issue's).
# The kernel leaves 1 GiB sparse files (under RLIMIT_FSIZE, no disk used) in its folder: nbgrader's
# generate_feedback copies every file of that folder out whole, and parallel grading read each into
# memory. And it starts a daemon (a new session, a double fork) that would outlive the kernel to keep
# planting a link to the gradebook for generate_feedback to follow.
SPREAD = '''
import os, subprocess, sys
for index in range(3):
    with open(f"zeros{{index}}.bin", "wb") as handle:
        handle.truncate(2**30 - 1)
LOOP = """
import os, time
if os.fork():
    os._exit(0)
for _ in range(1200):
    try:
        os.symlink("../../../gradebook.db", "late.html")
    except OSError:
        pass
    time.sleep(0.1)
"""
subprocess.Popen([sys.executable, "-c", LOOP, {marker!r}], start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait()
import time; time.sleep(1)
print("spread", sorted(os.listdir(".")))
'''
ODD_NAMES = ("-rf", "--help", "new\nline.txt", "...")


def impersonate_hidden_tests(folder: Path) -> None:
    """Edit a submitted a1 notebook: a copy of the hidden-test cell (same grade_id and cell id, 30
    points, its own source) before the real one."""
    import nbformat

    path = folder / f"{A1}.ipynb"
    notebook = nbformat.read(path, 4)
    index = next(i for i, cell in enumerate(notebook.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == "accuracy_tiers")
    real = notebook.cells[index]
    points = {"nbgrader": {**real.metadata.nbgrader, "points": 30}}
    fake = nbformat.v4.new_code_cell("print(30)", metadata=points)
    fake.id = real.id
    notebook.cells.insert(index, fake)
    path.write_text(json.dumps(notebook, indent=1))  # nbformat.write would refuse the duplicate id


def choose_kernel(folder: Path) -> None:
    """Edit a submitted a1 notebook: a kernelspec and language_info of the student's choice."""
    path = folder / f"{A1}.ipynb"
    notebook = json.loads(path.read_text())
    notebook["metadata"]["kernelspec"] = {"name": "fercourse-unsandboxed", "display_name": "mine",
                                          "language": "python", "argv": ["/bin/sh", "-c", "id"]}
    notebook["metadata"]["language_info"] = {"name": "python", "version": "0"}
    path.write_text(json.dumps(notebook, indent=1))


@pytest.mark.parametrize("mode", MODES)
def test_attacks_beyond_the_issue_fail_and_the_honest_keep_their_score(released, host_files, tmp_path, mode):
    import uuid

    from fercourse.grading._testing import gradebook_totals, nbgrader, submit
    from fercourse.grading.coordinator.parallel import autograde

    course = copy_course(released, tmp_path, mode)
    _, reference, dummy = released
    marker = f"fercourse-daemon-{uuid.uuid4().hex}"
    submit(course, "honest", A1, files={"submission.csv": reference})
    # a submitted hard link (an unpacked tar archive, an exchange on the same disk) to a 0600 host file
    # holding a perfect CSV: followed, it scores every point
    host_files["secret"].write_bytes(reference)
    folder = submit(course, "hardlinker", A1, replace=QUICK)
    os.link(host_files["secret"], folder / "submission.csv")
    submit(course, "spreader", A1, files={"submission.csv": dummy}, replace=QUICK,
           insert_after={"a1_imports": SPREAD.format(marker=marker)})
    folder = submit(course, "namer", A1, replace=QUICK,
                    files={"submission.csv": dummy, **{name: name.encode() for name in ODD_NAMES}})
    choose_kernel(folder)
    impersonate_hidden_tests(submit(course, "impostor", A1, replace=QUICK, files={"submission.csv": dummy}))

    log: list[str] = []
    if mode == "serial":
        result = nbgrader(course, "autograde", A1, key=True)
        log.append(result.stdout + result.stderr)
        assert "repeats the grade id 'accuracy_tiers' of a later cell" in log[0]
    else:
        summary = autograde(course.root, A1, workers=2, key=course.key, log=log.append)
        assert summary.count("failed") == 0, {s: o.error for s, o in summary.students.items()}
    # before DeduplicateGradeIds, nbgrader stopped at the impostor: namer and spreader were never graded
    assert set(gradebook_totals(course.root, A1)) == {"honest", "hardlinker", "impostor", "namer", "spreader"}
    assert grades(course, A1, A1, "impostor") == DUMMY  # the copy's 30 points: not given
    assert grades(course, A1, A1, "honest") == HONEST
    assert grades(course, A1, A1, "hardlinker") == REFUSED_CSV
    assert "submission.csv is a hard link (2 names for one file): expected a regular file" in cell_text(
        course, "hardlinker", A1, "submission_format")
    assert grades(course, A1, A1, "spreader") == DUMMY
    ran = outputs_of(course, "spreader")
    assert "'late.html'" in ran and "'zeros0.bin'" in ran  # the attack ran: files made, the daemon started
    spread = entries(course.root / "autograded" / "spreader" / A1)
    assert not any(name.startswith("zeros") for name in spread) and "late.html" not in spread
    time.sleep(2)
    assert marked_processes(marker) == []  # the daemon ended with its kernel
    if mode == "serial":
        assert "removed zeros0.bin (1,073,741,823 bytes: over the 400,000,000" in log[0]
    assert grades(course, A1, A1, "namer") == DUMMY  # ran in the course's kernel, in the sandbox
    namer = course.root / "autograded" / "namer" / A1
    assert {name: (namer / name).read_bytes() for name in ODD_NAMES} == {n: n.encode() for n in ODD_NAMES}

    nbgrader(course, "generate_feedback", A1)
    for student in ("honest", "hardlinker", "spreader", "namer"):
        assert entries(course.root / "feedback" / student / A1) == {f"{A1}.html": "file"}, student
    page = (course.root / "feedback" / "hardlinker" / A1 / f"{A1}.html").read_text()
    assert "hard link" in page
