"""fercourse.grading without a kernel: verdicts, the two preprocessors, key handling, thresholds."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbgrader.utils import determine_grade
from traitlets.config import Config

from fercourse.config import ANSWER_KEY_ENV
from fercourse.grading.authoring.setup import setup_course
from fercourse.grading.plugins import ApplyScores, SnapshotSubmission
from fercourse.grading.plugins.scoring import (
    AfterModelCheck,
    grade_submission_bytes,
    leaderboard_record,
    load_thresholds,
    tiers_cleared,
)
from fercourse.grading.plugins.state import PROCESS_STATE
from fercourse.submission import AnswerKey

REPO = Path(__file__).resolve().parents[2]
KEY = b"id,emotion\na,3\nb,6\nc,0\nd,3\ne,4\n"
TIERS = [0.5, 0.7, 0.9]


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch):
    PROCESS_STATE.reset()
    monkeypatch.delenv(ANSWER_KEY_ENV, raising=False)
    yield
    PROCESS_STATE.reset()


@pytest.fixture()
def course(tmp_path, monkeypatch):
    root = tmp_path / "course"
    submitted = root / "submitted" / "ann" / "a1"
    submitted.mkdir(parents=True)
    (root / "autograded" / "ann" / "a1").mkdir(parents=True)
    (root / "thresholds.json").write_text(json.dumps({"a1": {"sample": TIERS, "fer2013": [0.9, 0.95, 0.99]}}))
    key = tmp_path / "keys" / "answer_key.csv"
    key.parent.mkdir()
    key.write_bytes(KEY)
    monkeypatch.setenv(ANSWER_KEY_ENV, str(key))
    config = Config()
    config.CourseDirectory.root = str(root)
    config.FercourseGrader.answer_key_sha256 = hashlib.sha256(KEY).hexdigest()
    return root, submitted, key, config


def graded_notebook():
    def graded(grade_id, points, source="print('kernel output')"):
        cell = new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id, "points": points,
                                     "locked": True, "schema_version": 3, "task": False}
        cell.outputs = [new_output("stream", name="stdout", text="the kernel said it passed\n")]
        return cell

    hidden = graded("hidden_checks", 1, "x = 1\n### BEGIN HIDDEN TESTS\nassert x == 2, 'secret'\n### END "
                                        "HIDDEN TESTS")
    hidden.outputs = [new_output("error", ename="AssertionError", evalue="secret",
                                 traceback=["----> 3 assert x == 2, 'secret'", "AssertionError: secret"])]
    return new_notebook(cells=[graded("submission_format", 1), graded("accuracy_tiers", 3), hidden])


def run(config, submitted, nb=None):
    nb = nb or graded_notebook()
    resources = {"nbgrader": {"student": "ann", "assignment": "a1", "notebook": "a1"},
                 "metadata": {"path": str(submitted)}}
    nb, resources = SnapshotSubmission(config=config).preprocess(nb, resources)
    resources["metadata"]["path"] = str(submitted.parents[2] / "autograded" / "ann" / "a1")
    nb, _ = ApplyScores(config=config).preprocess(nb, resources)
    return nb, {cell.metadata["nbgrader"]["grade_id"]: determine_grade(cell)[0] for cell in nb.cells}


def outputs_text(cell) -> str:
    return "".join(str(o.get("text", "")) + str(o.get("evalue", "")) + "".join(o.get("traceback", []))
                   for o in cell.outputs)


def test_tiers_and_thresholds(tmp_path):
    assert [tiers_cleared(a, TIERS) for a in (0.2, 0.5, 0.69, 0.7, 0.95)] == [0, 1, 1, 2, 3]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"a1": {"sample": [0.3, 2]}}))
    with pytest.raises(ValueError, match=r"thresholds for a1/sample are \[0.3, 2\]: expected accuracies"):
        load_thresholds(path, "a1", "sample")
    with pytest.raises(ValueError, match="no thresholds for assignment 'a2' and dataset 'sample'"):
        load_thresholds(path, "a2", "sample")


def test_committed_thresholds_are_tiered_and_above_the_majority_class():
    for assignment in ("a1_baselines", "a2_cnn"):
        for dataset in ("sample", "fer2013"):
            tiers = load_thresholds(REPO / "autograder" / "thresholds.json", assignment, dataset)
            assert len(tiers) == 3 and tiers == sorted(set(tiers)), (assignment, dataset)
            # FER2013's and the sample's most frequent class (happy) is 24.9% / 24.5% of the test set
            assert tiers[0] > 0.25, (assignment, dataset)


def test_grade_submission_bytes_verdicts():
    key = AnswerKey.from_bytes(KEY)
    perfect = grade_submission_bytes(KEY, key, TIERS)
    assert (perfect["format"].points, perfect["accuracy"].points) == (1, 3)
    assert "accuracy 1.00 on the hidden test labels, 3 of 3 tiers cleared" in perfect["accuracy"].message
    assert "0.5" not in perfect["accuracy"].message  # tiers are never shown
    three_right = grade_submission_bytes(b"id,emotion\na,3\nb,6\nc,0\nd,0\ne,0\n", key, TIERS)
    assert three_right["accuracy"].points == 1
    missing = grade_submission_bytes(None, key, TIERS)
    assert missing["format"].points is None and "no submission.csv was submitted" in missing["format"].message
    bad = grade_submission_bytes(b"id,emotion\na,nan\n", key, TIERS)
    assert bad["format"].points is None and bad["accuracy"].points is None
    assert "with a label that is not an integer 0-6 (line 2: 'nan')" in bad["format"].message


def test_preprocessors_replace_kernel_outputs_with_outside_scores(course):
    root, submitted, key, config = course
    (submitted / "submission.csv").write_bytes(b"id,emotion\na,3\nb,6\nc,0\nd,3\ne,0\n")  # 4 of 5 right
    nb, points = run(config, submitted)
    assert points == {"submission_format": 1, "accuracy_tiers": 2, "hidden_checks": 0}
    cells = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in nb.cells}
    assert "the kernel said" not in outputs_text(cells["submission_format"])
    assert ("accuracy 0.80 on the hidden test labels, 2 of 3 tiers cleared"
            in outputs_text(cells["accuracy_tiers"]))
    # a failing hidden test keeps its error but not the traceback lines that quote hidden code
    assert cells["hidden_checks"].outputs[0].traceback == ["AssertionError: secret"]


def with_split(key: Path, config, public=("a", "b")):
    """Put a public/private split next to the test key (public: ``public``, private: the rest) and pin it."""
    from fercourse.grading.instructor_files import split_path
    from fercourse.grading.records.split import PublicPrivateSplit

    split = PublicPrivateSplit(frozenset(public), frozenset("abcde") - frozenset(public), 0.4, "secret")
    config.FercourseGrader.split_sha256 = split.write(split_path(key))
    return split


def test_feedback_shows_the_public_accuracy_only_and_the_verdict_keeps_both(course):
    from fercourse.grading.records.pseudonyms import pseudonym
    from fercourse.grading.records.verdicts import read_verdicts, verdict_path

    root, submitted, key, config = course
    split = with_split(key, config)
    # public a, b both right; private c right, d and e wrong: public 1.00, private 0.33, all 0.60
    (submitted / "submission.csv").write_bytes(b"id,emotion\na,3\nb,6\nc,0\nd,0\ne,0\n")
    autograded = root / "autograded" / "ann" / "a1"
    outside = root / "instructor_file.txt"
    outside.write_text("unchanged")
    verdict_path(autograded, "a1").write_text('{"public": {"accuracy": 1.0}}')  # submitted with the notebook
    nb = graded_notebook()
    resources = {"nbgrader": {"student": "ann", "assignment": "a1", "notebook": "a1"},
                 "metadata": {"path": str(submitted)}}
    nb, resources = SnapshotSubmission(config=config).preprocess(nb, resources)
    assert not verdict_path(autograded, "a1").exists()  # gone before the kernel starts
    verdict_path(autograded, "a1").symlink_to(outside)  # what a kernel might leave behind
    nb, _ = ApplyScores(config=config).preprocess(nb, resources)
    shown = outputs_text(nb.cells[1])
    assert ("public accuracy 1.00 on the 2 public test rows, 1 of 3 tiers cleared (the tiers count every "
            "test row; the other 3 rows are private") in shown
    assert "0.33" not in shown and "0.60" not in shown and determine_grade(nb.cells[1])[0] == 1
    assert outside.read_text() == "unchanged" and not verdict_path(autograded, "a1").is_symlink()
    record = read_verdicts(root / "autograded", "a1")["ann"]
    assert (record["public"], record["private"], record["all"]) == (
        {"n": 2, "correct": 2, "accuracy": 1.0}, {"n": 3, "correct": 1, "accuracy": 1 / 3},
        {"n": 5, "correct": 3, "accuracy": 0.6})
    assert (record["status"], record["split"], record["tiers_cleared"]) == ("scored", "public/private", 1)
    assert record["pseudonym"] == pseudonym("ann", split.pseudonym_secret)


def test_a_course_without_split_counts_every_row_as_public(course):
    from fercourse.grading.records.verdicts import read_verdicts

    root, submitted, key, config = course
    (submitted / "submission.csv").write_bytes(b"id,emotion\na,3\nb,6\nc,0\nd,3\ne,0\n")
    nb, points = run(config, submitted)
    assert "accuracy 0.80 on the hidden test labels" in outputs_text(nb.cells[1])
    record = read_verdicts(root / "autograded", "a1")["ann"]
    assert record["split"] == "none" and record["private"] is None and record["public"]["correct"] == 4


def test_split_must_match_its_pin_and_be_pinned(course, monkeypatch):
    from fercourse.grading.instructor_files import split_path

    root, submitted, key, config = course
    with_split(key, config)
    (submitted / "submission.csv").write_bytes(KEY)
    split_path(key).write_text(split_path(key).read_text().replace('"a"', '"c"', 1))
    with pytest.raises(ValueError, match="but the course pins .*: it was edited or belongs to another setup"):
        run(config, submitted)
    PROCESS_STATE.reset()
    monkeypatch.setenv(ANSWER_KEY_ENV, str(key))  # the first run took it from the environment
    config.FercourseGrader.split_sha256 = ""
    with pytest.raises(ValueError, match=r"exists but no split is pinned \(c.FercourseGrader.split_sha256"):
        run(config, submitted)


def test_invalid_submission_is_recorded_unranked(course):
    from fercourse.grading.records.verdicts import read_verdicts

    root, submitted, key, config = course
    with_split(key, config)
    (submitted / "submission.csv").write_bytes(b"id;emotion\n")
    run(config, submitted)
    record = read_verdicts(root / "autograded", "a1")["ann"]
    assert record["status"] == "invalid" and "separated by semicolons" in record["reason"]
    assert record["public"] is None and record["private"] is None


def test_accuracy_withheld_by_the_model_check_is_recorded_unranked():
    from concurrent.futures import Future
    from logging import getLogger

    from fercourse.grading.plugins.model_check import ModelCheck

    key = AnswerKey.from_bytes(KEY)
    verdicts = grade_submission_bytes(KEY, key, TIERS)
    for explained, status in ((False, "withheld"), (True, "scored")):
        pending = Future()
        pending.set_result(ModelCheck(explained, 0.6, "accuracy points withheld: they agree on 60.0%"))
        accuracy = AfterModelCheck(verdicts["accuracy"], pending, getLogger())
        checked = {**verdicts, "accuracy": accuracy}
        record = leaderboard_record({"student": "ann"}, checked)
        assert record["status"] == status and record["public"]["correct"] == 5, explained
        assert (record["reason"] is None) == explained


@pytest.mark.parametrize("content, message", [
    (b"id,emotion,extra\na,3,1\nb,6,1\nc,0,1\nd,3,1\ne,4,1\n", "header is 'id,emotion,extra'"),
    (b"id,emotion\na,3\nb,NaN\nc,0\nd,3\ne,4\n", "line 3: 'NaN'"),
    (b"\x00\x01\x02" * 1000, "submission.csv"),
    (b"", "the file is empty"),
])
def test_crafted_files_fail_the_format_cell_without_crashing(course, content, message):
    root, submitted, key, config = course
    (submitted / "submission.csv").write_bytes(content)
    nb, points = run(config, submitted)
    assert points["submission_format"] == 0 and points["accuracy_tiers"] == 0
    assert message in outputs_text(nb.cells[0])


def test_huge_file_is_refused_unread(course):
    root, submitted, key, config = course
    with (submitted / "submission.csv").open("wb") as handle:
        handle.seek(30 * 1024 * 1024)
        handle.write(b"\n")
    nb, points = run(config, submitted)
    assert points["submission_format"] == 0
    assert "submission.csv is 31.5 MB, over the 17 MB limit" in outputs_text(nb.cells[0])


def test_symlinked_submission_is_refused_and_its_copy_removed(course):
    root, submitted, key, config = course
    (submitted / "submission.csv").symlink_to(key)
    copy = root / "autograded" / "ann" / "a1" / "submission.csv"
    copy.write_bytes(KEY)  # what nbgrader's copy of the link contains
    nb, points = run(config, submitted)
    assert points["submission_format"] == 0 and "symbolic link" in outputs_text(nb.cells[0])
    assert not copy.exists()


def test_key_is_checked_against_the_pin(course):
    root, submitted, key, config = course
    key.write_bytes(KEY.replace(b"a,3", b"a,4"))
    (submitted / "submission.csv").write_bytes(KEY)
    with pytest.raises(ValueError, match="but nbgrader_config.py pins .*: the key was edited or is the "
                                         "wrong file"):
        run(config, submitted)


def test_key_must_live_outside_the_course_and_be_given(course, monkeypatch):
    root, submitted, key, config = course
    inside = root / "answer_key.csv"
    inside.write_bytes(KEY)
    monkeypatch.setenv(ANSWER_KEY_ENV, str(inside))
    with pytest.raises(ValueError, match="is inside the course folder"):
        run(config, submitted)
    PROCESS_STATE.reset()
    monkeypatch.delenv(ANSWER_KEY_ENV, raising=False)
    with pytest.raises(ValueError, match="no answer key: run autograde as `FERCOURSE_ANSWER_KEY="):
        run(config, submitted)


def test_unpinned_key_is_refused(course):
    root, submitted, key, config = course
    config.FercourseGrader.answer_key_sha256 = ""
    with pytest.raises(ValueError, match="the answer key is not pinned"):
        run(config, submitted)


def test_key_edited_while_the_kernel_ran_stops_grading(course, caplog):
    import logging

    from fercourse.grading.plugins import CheckInstructorFiles, GradingStopped, GuardInstructorFiles

    root, submitted, key, config = course
    (submitted / "submission.csv").write_bytes(KEY)
    nb = graded_notebook()
    resources = {"nbgrader": {"student": "ann", "assignment": "a1", "notebook": "a1"},
                 "metadata": {"path": str(submitted)}}
    SnapshotSubmission(config=config).preprocess(nb, resources)
    GuardInstructorFiles(config=config).preprocess(nb, resources)
    key.write_bytes(KEY + b"f,1\n")  # what a student's kernel might do
    check = CheckInstructorFiles(config=config, log=logging.getLogger("fercourse.test"))
    with caplog.at_level(logging.ERROR, logger="fercourse.test"), pytest.raises(GradingStopped):
        check.preprocess(nb, resources)
    digest = hashlib.sha256(KEY + b"f,1\n").hexdigest()
    assert [record.message for record in caplog.records if record.levelno >= logging.ERROR] == [
        f"fercourse: grading stopped: instructor files changed while ann's notebook ran: the answer key "
        f"{key} (SHA-256 now {digest}). ann is not graded; restore the files (the gradebook from a backup) "
        "and inspect the notebook before grading again"]
    assert not (root / "autograded" / "ann" / "a1").exists()  # graded again by the next run


def test_apply_scores_without_snapshot_is_a_configuration_error(course):
    root, submitted, key, config = course
    resources = {"nbgrader": {"student": "ann", "assignment": "a1", "notebook": "a1"},
                 "metadata": {"path": "."}}
    with pytest.raises(ValueError, match="add fercourse.grading.plugins.SnapshotSubmission"):
        ApplyScores(config=config).preprocess(graded_notebook(), resources)


def test_key_path_leaves_no_trace_for_child_processes(tmp_path):
    script = (
        "import os, subprocess, sys\n"
        "from fercourse.grading.plugins.state import take_key_path\n"
        "print(take_key_path())\n"
        "print('environ' , b'secret_key_name' in open('/proc/self/environ', 'rb').read())\n"
        "print('child', subprocess.run([sys.executable, '-c', 'import os; print(os.environ.get(\"%s\"))'],"
        " capture_output=True, text=True).stdout.strip())\n" % ANSWER_KEY_ENV)
    env = {"PATH": "/usr/bin:/bin", ANSWER_KEY_ENV: str(tmp_path / "secret_key_name.csv")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines() == [str(tmp_path / "secret_key_name.csv"), "environ False", "child None"]


def test_setup_course_writes_data_key_and_pin(tmp_path):
    from fercourse.cli import main

    course = tmp_path / "course"
    for name in ("a1", "a2"):
        (course / "source" / name).mkdir(parents=True)
        (course / "source" / name / f"{name}.ipynb").write_text("{}")
    key = tmp_path / "private" / "key.csv"
    assert main(["grade", "setup", "sample", "--course", str(course), "--key-out", str(key),
                 "--n-train", "35", "--n-test", "14"]) == 0
    pin = json.loads((course / "answer_key.pin.json").read_text())
    assert pin["sha256"] == hashlib.sha256(key.read_bytes()).hexdigest() and pin["dataset"] == "sample"
    assert "test_disguised" not in pin and (pin["held_test_set"], pin["tiers_on"]) == (None, "all")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert (course / "source" / "a1" / "data" / "test.csv").read_bytes() == \
        (course / "source" / "a2" / "data" / "test.csv").read_bytes()
    assert len(key.read_text().splitlines()) == 15
    split = tmp_path / "private" / "key.split.json"  # next to the key, instructor-only, pinned
    assert oct(split.stat().st_mode & 0o777) == "0o600"
    assert pin["split_sha256"] == hashlib.sha256(split.read_bytes()).hexdigest()
    assert (pin["n_public"], pin["n_private"], pin["public_fraction"]) == (7, 7, 0.5)
    with pytest.raises(ValueError, match="is inside the course folder"):
        setup_course("sample", course, course / "key.csv", n_train=35, n_test=14)


def test_setup_without_a_salt_makes_a_key_nobody_can_regenerate(tmp_path):
    """The built-in sample is public: with a fixed default salt a student rebuilt the key at home."""
    course = tmp_path / "course"
    (course / "source" / "a1").mkdir(parents=True)
    (course / "source" / "a1" / "a1.ipynb").write_text("{}")
    first = setup_course("sample", course, tmp_path / "one" / "key.csv", n_train=35, n_test=14)
    second = setup_course("sample", course, tmp_path / "two" / "key.csv", n_train=35, n_test=14)
    assert first.sha256 != second.sha256  # at home, a student's run gets another key
    salt = tmp_path / "one" / "key.salt"  # kept beside the key, instructor-only
    assert oct(salt.stat().st_mode & 0o777) == "0o600" and len(salt.read_text().strip()) == 32
    again = setup_course("sample", course, tmp_path / "three" / "key.csv", n_train=35, n_test=14,
                         salt=salt.read_text().strip())
    assert again.sha256 == first.sha256  # the instructor's salt sets up the same key again


def test_set_parameter_rewrites_only_the_parameters_cell(tmp_path):
    import nbformat

    from fercourse.grading._testing import set_parameter

    source = REPO / "autograder" / "source" / "a2_cnn" / "a2_cnn.ipynb"
    copy = tmp_path / "a2.ipynb"
    copy.write_bytes(source.read_bytes())
    set_parameter(copy, "num_epochs", 2)
    before, after = nbformat.read(source, 4), nbformat.read(copy, 4)
    changed = [i for i, (a, b) in enumerate(zip(before.cells, after.cells)) if a.source != b.source]
    assert len(changed) == 1 and "parameters" in after.cells[changed[0]].metadata["tags"]
    parameters = after.cells[changed[0]].source
    assert "num_epochs = 2" in parameters and "num_epochs = 15" not in parameters
    with pytest.raises(ValueError, match="the parameters cell has no 'epochs_total'"):
        set_parameter(copy, "epochs_total", 2)


def test_a_repeated_or_hand_edited_graded_cell_fails_its_student_not_the_run():
    """nbgrader's DeduplicateIds leaves ``{}`` in a repeated cell, which its own check reads as an
    outdated schema: SchemaTooOldError, on which ``nbgrader autograde`` stops for the whole class."""
    from nbgrader.nbgraderformat import MetadataValidator, SchemaTooOldError
    from nbgrader.preprocessors import DeduplicateIds

    from fercourse.errors import InputError
    from fercourse.grading.plugins import DeduplicateGradeIds

    def graded(source, **meta):
        return new_code_cell(source, metadata={"nbgrader": {"grade": True, "solution": False, "locked": True,
                                                            "grade_id": "accuracy_tiers", "points": 3,
                                                            "schema_version": 3, **meta}})

    def notebook():  # a copy of the hidden-test cell, 30 points, before the real one
        return new_notebook(cells=[graded("print(30)", points=30), graded("assert tiers_cleared >= 1")])

    resources = {"nbgrader": {"student": "mallory", "assignment": "a1", "notebook": "a1"}}
    stock, _ = DeduplicateIds().preprocess(notebook(), {})
    with pytest.raises(SchemaTooOldError):
        MetadataValidator().validate_nb(stock)
    fixed, _ = DeduplicateGradeIds().preprocess(notebook(), resources)
    MetadataValidator().validate_nb(fixed)
    assert "nbgrader" not in fixed.cells[0].metadata  # the copy: a plain cell, worth nothing
    assert fixed.cells[1].metadata.nbgrader.points == 3

    edited = notebook()
    edited.cells[1].metadata.nbgrader.schema_version = 0
    with pytest.raises(InputError, match="mallory's a1.ipynb: cell 2 has nbgrader metadata of schema 0, "
                                         "expected 3"):
        DeduplicateGradeIds().preprocess(edited, resources)


def test_feedback_teaches_from_the_public_rows_and_leaks_nothing_private(course):
    """Per-class recall, the normalised confusion matrix and lesson pointers, measured on the public rows."""
    from fercourse.grading.records.history import read_history

    root, submitted, key, config = course
    # key a happy, b neutral, c angry, d happy, e sad; public a, b, d. Everything predicted happy except
    # the private c and e, predicted right: public recall happy 1.00, neutral 0.00; private accuracy 1.00
    with_split(key, config, public=("a", "b", "d"))
    (submitted / "submission.csv").write_bytes(b"id,emotion\na,3\nb,3\nc,0\nd,3\ne,4\n")
    nb, points = run(config, submitted)
    shown = outputs_text(nb.cells[1])
    assert points["accuracy_tiers"] == 2  # 4 of 5 rows: tiers count every row
    assert "public accuracy 0.67 on the 3 public test rows" in shown
    assert "What to work on (measured on the 3 public test rows only):" in shown
    assert ("per-class recall: angry -, disgust -, fear -, happy 1.00, sad -, surprise -, neutral 0.00"
            in shown)  # angry and sad rows are private: no recall shown for them
    matrix = shown[shown.index("confusion matrix"):shown.index("hints:")].splitlines()
    assert matrix[1].split() == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert matrix[5].split() == ["happy", "0.00", "0.00", "0.00", "1.00", "0.00", "0.00", "0.00"]
    assert matrix[8].split() == ["neutral", "0.00", "0.00", "0.00", "1.00", "0.00", "0.00", "0.00"]
    assert matrix[2].split() == ["angry", *["-"] * 7]
    hints = shown[shown.index("hints:"):].splitlines()[1:]
    assert hints == [
        '- no neutral predicted: give the rare classes weight, lesson 2, "Giving the rare classes weight: '
        'class weights or oversampling?"',
        '- 100% of your predictions are happy, which is 67% of the faces: the model learned the class '
        'frequencies, not the faces; lesson 1, "Trap 2: class imbalance" and "Model: the floor"']
    # nothing about the private rows (accuracy 1.00 there, 0.80 overall) nor the tiers (0.5, 0.7, 0.9)
    assert "0.80" not in shown and "sad 1" not in shown and "angry 1" not in shown
    assert not any(f"{tier}" in shown for tier in ("0.5 ", "0.7", "0.9"))
    history = read_history(root, "a1")["ann"]
    assert len(history) == 1 and history[0]["public"] == {"n": 3, "correct": 2, "accuracy": 2 / 3}
    assert "private" not in history[0] and "tiers_cleared" not in history[0]


def test_hints_point_to_real_lesson_sections_at_most_three():
    import nbformat
    import numpy as np

    from fercourse.grading.records.weak_spots import MAX_HINTS, SECTIONS, hints

    for name, (lesson, notebook, heading) in SECTIONS.items():
        cells = nbformat.read(REPO / "notebooks" / notebook, 4).cells
        headings = {line.lstrip("#").strip() for cell in cells if cell.cell_type == "markdown"
                    for line in cell.source.splitlines() if line.startswith("#")}
        assert notebook.startswith(f"{lesson:02d}_") and heading in headings, name
    counts = np.diag([30, 0, 5, 80, 20, 30, 40]).astype(int)
    counts[1, 0], counts[2, 4], counts[2, 6] = 4, 12, 3  # disgust read as angry; fear mostly as sad
    counts[4, 3] = 60  # many sad faces called happy, but happy stays under half of the predictions
    found = hints(counts, kind="keras")
    assert found == ['no disgust predicted: give the rare classes weight, lesson 6, "Class weights"',
                     "fear is your weakest predicted class (recall 0.25), most often read as sad (60% of its "
                     'faces): lesson 6, "Augmentation on and off"']
    counts[:, 3] += 50  # now happy dominates too: three hints, never more
    assert len(hints(counts)) == MAX_HINTS and "lesson 2" in hints(counts)[2]
    good = np.diag([10] * 7) + 1
    assert hints(good) == []


def test_library_noise_on_stderr_no_longer_costs_an_honest_student_the_cell():
    """Measured in CI under load: TensorFlow's cuInit line landed in a4's augmentation_keeps_labels cell
    and nbgrader, which scores any standard-error output as a failure, gave it 0 of 1."""
    import nbformat
    from nbgrader.utils import determine_grade

    from fercourse.grading.plugins import LibraryNoiseToStdout

    def graded(*outputs):
        cell = nbformat.v4.new_code_cell("assert True")
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "check", "points": 1,
                                     "locked": True, "schema_version": 3, "task": False}
        cell.outputs = list(outputs)
        return cell

    cuinit = ("E0000 00:00:1796661695.403332       2 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
              "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n")
    warning = ("/x/keras/src/saving/saving_lib.py:869: UserWarning: Skipping variable loading for optimizer\n"
               "  saveable.load_own_variables(store)\n")
    stderr = lambda text: nbformat.v4.new_output("stream", name="stderr", text=text)  # noqa: E731
    noisy, own, failing = (graded(stderr(cuinit + warning)), graded(stderr(cuinit + "my own line\n")),
                           graded(nbformat.v4.new_output("error", ename="AssertionError", evalue="",
                                                         traceback=[]), stderr(cuinit)))
    assert [determine_grade(cell)[0] for cell in (noisy, own, failing)] == [0, 0, 0]  # nbgrader alone

    nb = nbformat.v4.new_notebook(cells=[noisy, own, failing])
    LibraryNoiseToStdout().preprocess(nb, {})
    assert [determine_grade(cell)[0] for cell in nb.cells] == [1, 0, 0]  # noise moved; the rest counts
    assert [(o.name, o.text) for o in noisy.outputs] == [("stdout", cuinit + warning)]  # still shown
    assert [(o.name, o.text) for o in own.outputs] == [("stdout", cuinit), ("stderr", "my own line\n")]
    assert failing.outputs[0].output_type == "error"
