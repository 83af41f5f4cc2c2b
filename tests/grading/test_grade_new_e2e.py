"""End to end: an instructor's new assignment, from ``grade new`` to autograded tiers, in a temporary course.

``fercourse grade new`` (the sklearn template, its reference solution unchanged), ``grade setup`` on
the built-in sample at the CI size (1,400 train / 280 test), ``nbgrader generate_assignment``,
``fercourse grade calibrate`` (the reference run from a scratch copy, the dummy, the tiers written to
thresholds.json), then ``nbgrader autograde`` of a majority-class dummy and of the reference: the
dummy under the first tier, the reference over the last.
"""

from __future__ import annotations

import json
import shutil
import statistics

import pytest
from grading_helpers import cell_text, grades

pytestmark = pytest.mark.slow

N_TRAIN, N_TEST = 1400, 280
NAME = "a9_new"


def fercourse_cli(*args: str) -> int:
    from fercourse.cli import main

    return main([*args])


def test_new_assignment_is_calibrated_and_autograded_end_to_end(tmp_path, capsys):
    import nbformat

    from fercourse.course.checkout import course_folders
    from fercourse.grading._testing import CALIBRATION_SALT, Course, baseline_submission, nbgrader, submit
    from fercourse.grading.authoring.setup import setup_course

    root = tmp_path / "course"
    (root / "source").mkdir(parents=True)
    for name in ("nbgrader_config.py", "assignments.json", "thresholds.json"):
        shutil.copyfile(course_folders().autograder / name, root / name)

    assert fercourse_cli("grade", "new", NAME, "--course", str(root), "--title", "Assignment 9") == 0
    assert f"assignments: {root / 'assignments.json'}: a9_new added" in capsys.readouterr().out
    assert fercourse_cli("grade", "new", NAME, "--course", str(root)) == 1  # never overwrites
    assert f"{root / 'source' / NAME} already exists: not overwriting" in capsys.readouterr().err

    # a fixed salt: the SGD reference's seed spread, and so whether three tiers fit, moves with the row order
    done = setup_course("sample", root, tmp_path / "instructor" / "answer_key.csv", n_train=N_TRAIN,
                        n_test=N_TEST, salt=CALIBRATION_SALT)
    course = Course(root, done.answer_key, done.sha256)
    nbgrader(course, "generate_assignment", NAME)  # the template passes nbgrader's checks unchanged
    released = (root / "release" / NAME / f"{NAME}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in released and "BEGIN HIDDEN TESTS" not in released
    assert "YOUR ANSWER HERE" in released and "raise NotImplementedError()" in released

    salt = (tmp_path / "instructor" / "answer_key.salt").read_text().strip()  # the release students get
    assert fercourse_cli("grade", "calibrate", NAME, "--data", "sample", "--n-train", str(N_TRAIN),
                         "--n-test", str(N_TEST), "--course", str(root), "--salt", salt,
                         # at 280 test rows the default floor (the standard error, 2.7 points) leaves no room
                         # for three tiers above the SGD reference: this test checks the mechanics
                         "--min-spread", "0") == 0
    out = capsys.readouterr().out
    assert "seed 2: accuracy" in out and f"wrote {root / 'thresholds.json'}" in out
    entry = json.loads((root / "thresholds.json").read_text())[NAME]
    record = entry["calibration"]["sample"]
    tiers = entry["sample"]
    assert record["tiers"] == tiers and entry["fer2013"] is None
    assert (record["n_train"], record["n_test"]) == (N_TRAIN, N_TEST)
    # tier 1 beats the lessons' simple baselines, tier 3 is the reference runs' mean - 2 std
    runs = record["reference_accuracies"]
    assert record["seeds"] == [0, 1, 2] and len(runs) == 3 and len(set(runs)) > 1  # the seed matters
    assert set(record["baselines"]) == {"dummy", "naive_bayes"}
    assert max(record["baselines"].values()) + 3 / N_TEST <= tiers[0] + 1e-4
    assert tiers[0] < tiers[1] < tiers[2]
    assert record["reference_accuracy"] == pytest.approx(sum(runs) / 3, abs=1e-4)
    assert tiers[2] <= record["reference_accuracy"] - 2 * record["reference_std"] + 1e-4
    assert record["reference_std"] == pytest.approx(statistics.stdev(runs), abs=1e-4)
    assert set(record["rules"]) == {"tier 1", "tier 2", "tier 3"}
    assert "minus 2 spreads" in record["rules"]["tier 3"] and "floor set to 0.0" in record["rules"]["tier 3"]
    assert record["min_spread"] == 0 and record["reference_spread"] == record["reference_std"]
    assert record["validation_accuracies"] == [None] * 3  # the sklearn template glues no validation
    assert not (root / "source" / NAME / "submission.csv").exists()  # run from a scratch copy only

    reference = baseline_submission(course, NAME, "sgd", random_state=0)  # the template's reference
    dummy = baseline_submission(course, NAME, "dummy")
    submit(course, "reference", NAME, files={"submission.csv": reference})
    submit(course, "dummy", NAME, files={"submission.csv": dummy},
           replace={"make_model": 'def make_model():\n    return build_baseline("dummy")'})
    nbgrader(course, "autograde", NAME, key=True)

    scored = {student: grades(course, NAME, NAME, student) for student in ("reference", "dummy")}
    for student, tiers_expected in (("reference", 3.0), ("dummy", 0.0)):
        assert {k: scored[student][k] for k in ("model_fitted", "submission_format", "accuracy_tiers")} == {
            "model_fitted": 1.0, "submission_format": 1.0, "accuracy_tiers": tiers_expected}, student
        assert set(scored[student]) == {"model_fitted", "submission_format", "accuracy_tiers",
                                        "written_answer"}
    assert "3 of 3 tiers cleared" in cell_text(course, "reference", NAME, "accuracy_tiers")
    # feedback gives the accuracy on the public half of the test rows only (the leaderboard's split)
    feedback = cell_text(course, "reference", NAME, "accuracy_tiers")
    assert "public accuracy 0." in feedback and f"on the {N_TEST // 2} public test rows" in feedback
    assert "0 of 3 tiers cleared" in cell_text(course, "dummy", NAME, "accuracy_tiers")
    # the reference notebook, re-run at autograde, writes the very file that was submitted
    assert (root / "autograded" / "reference" / NAME / "submission.csv").read_bytes() == reference
    autograded = nbformat.read(root / "autograded" / "reference" / NAME / f"{NAME}.ipynb", 4)
    answer = next(c for c in autograded.cells if c.metadata["nbgrader"]["grade_id"] == "written_answer")
    assert answer.cell_type == "markdown" and answer.metadata["nbgrader"]["points"] == 1


def test_a3_mlp_reference_autogrades_with_its_saved_model(tmp_path):
    """The Keras template's path, on a committed assignment: a3's reference notebook run once (as
    calibrate runs it), its model.keras and submission.csv submitted, autograded with the model check."""
    from fercourse.grading._testing import make_course, nbgrader, submit
    from fercourse.grading.authoring.calibrate import run_reference
    from fercourse.grading.plugins.scoring import load_thresholds, tiers_cleared
    from fercourse.submission import score_submission

    a3 = "a3_mlp"
    course = make_course(tmp_path / "work", n_train=N_TRAIN, n_test=N_TEST)
    nbgrader(course, "generate_assignment", a3)
    scratch = tmp_path / "reference"
    shutil.copytree(course.root / "source" / a3, scratch)
    run_reference(scratch / f"{a3}.ipynb", scratch, progress=False)
    accuracy = score_submission(scratch / "submission.csv", course.key)["accuracy"]
    submit(course, "student", a3, files={"submission.csv": scratch / "submission.csv",
                                         "model.keras": scratch / "model.keras"})
    nbgrader(course, "autograde", a3, key=True)

    tiers = tiers_cleared(accuracy, load_thresholds(course.root / "thresholds.json", a3, "sample"))
    assert grades(course, a3, a3, "student") == {
        "model_architecture": 1.0, "early_stopping_on_validation": 1.0, "saved_model_predicts": 1.0,
        "submission_format": 1.0, "accuracy_tiers": float(tiers), "written_answer": 0.0}
    text = cell_text(course, "student", a3, "accuracy_tiers")
    assert "submission.csv is what the submitted model.keras predicts (they agree on 100.0% of 280" in text
    assert "loaded model.keras" in (course.root / "autograded" / "student" / a3 / f"{a3}.ipynb").read_text()
