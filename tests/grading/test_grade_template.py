"""``fercourse grade new`` and ``grade calibrate`` without running a notebook: the template, the course's
data files (assignments.json read by the config, wrong shapes refused) and the tiers' arithmetic."""

from __future__ import annotations

import json
import shutil

import pytest

from fercourse.errors import InputError


@pytest.fixture
def course(tmp_path):
    from fercourse.course.checkout import course_folders
    from fercourse.grading.instructor_files import PIN_FILE, course_root_files

    root = tmp_path / "course"
    (root / "source").mkdir(parents=True)
    for name, path in course_root_files(course_folders().autograder).items():
        if name != PIN_FILE:
            shutil.copyfile(path, root / name)
    return root


def test_the_config_reads_the_assignments_file(course):
    """nbgrader's settings come from assignments.json: a new entry there is a new assignment for nbgrader."""
    from traitlets.config.loader import PyFileConfigLoader

    from fercourse.grading.authoring.course_files import add_assignment

    add_assignment(course / "assignments.json", "a9_keras", ["submission.csv", "model.keras"], "model.keras")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    assert config.Autograde.exclude_overwriting["a9_keras"] == ["submission.csv", "model.keras"]
    assert config.Autograde.exclude_overwriting["a1_baselines"] == ["submission.csv"]
    assert config.SnapshotSubmission.model_files["a9_keras"] == "model.keras"
    assert "a1_baselines" not in config.SnapshotSubmission.model_files


@pytest.mark.parametrize(("text", "message"), [
    ('{"a1": {"submitted_files": "submission.csv"}}',
     "a1.submitted_files is 'submission.csv': expected a list"),
    ('{"a1": {"submitted_files": ["submission.csv"], "model_file": "m.keras"}}',
     "a1.model_file is 'm.keras': expected one of its submitted_files"),
    ('{"a1": {"submitted_files": [], "models": 1}}', "a1 has unknown fields ['models']"),
    ('{"a1": ', "line 1: not valid JSON"),
])
def test_a_broken_assignments_file_is_named_with_its_field(tmp_path, text, message):
    from fercourse.grading.instructor_files import read_assignments

    path = tmp_path / "assignments.json"
    path.write_text(text)
    with pytest.raises(InputError, match="assignments.json: ") as error:
        read_assignments(path)
    assert message in str(error.value)


def test_thresholds_file_is_rewritten_in_its_own_layout(course):
    from fercourse.grading.authoring.course_files import format_thresholds, read_thresholds_table

    text = (course / "thresholds.json").read_text()
    assert format_thresholds(read_thresholds_table(course / "thresholds.json")) == text


def test_new_writes_the_notebook_and_registers_it_once(course):
    import nbformat

    from fercourse.grading.authoring.template import new_assignment
    from fercourse.grading.plugins.scoring import load_thresholds

    config_before = (course / "nbgrader_config.py").read_text()
    made = new_assignment("a9_keras", course, kind="keras", title="Assignment 9")
    notebook = nbformat.read(made.notebook, 4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells]
    assert len(ids) == len(set(ids)) and notebook.cells[0].source.startswith("# Assignment 9\n")
    graded = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in notebook.cells
              if c.metadata["nbgrader"]["grade"]}
    assert graded == {"model_architecture": 1, "saved_model_predicts": 1, "submission_format": 1,
                      "accuracy_tiers": 3, "written_answer": 1}
    assert [c.metadata.get("tags") for c in notebook.cells].count(["parameters"]) == 1
    assert made.submitted_files == ("submission.csv", "model.keras") and made.points == 7
    assert (course / "nbgrader_config.py").read_text() == config_before  # code is never edited
    assignments = json.loads((course / "assignments.json").read_text())
    assert assignments["a9_keras"] == {"submitted_files": ["submission.csv", "model.keras"],
                                       "model_file": "model.keras"}
    assert list(assignments)[:4] == ["a1_baselines", "a2_cnn", "a3_mlp", "a4_competition"]  # kept, in order
    placeholder = json.loads((course / "thresholds.json").read_text())["a9_keras"]
    assert placeholder == {"sample": None, "fer2013": None}
    with pytest.raises(InputError, match="no sample tiers yet .*fercourse grade calibrate a9_keras"):
        load_thresholds(course / "thresholds.json", "a9_keras", "sample")

    before = {p: p.read_bytes() for p in (course / "assignments.json", course / "thresholds.json",
                                          made.notebook)}
    with pytest.raises(InputError, match="a9_keras already exists: not overwriting assignment 'a9_keras'"):
        new_assignment("a9_keras", course)
    (course / "source" / "a9_keras").rename(course / "source" / "moved")
    with pytest.raises(InputError, match="already has an entry 'a9_keras'"):
        new_assignment("a9_keras", course)  # the folder is gone, the thresholds entry is not
    assert {p: (course / "source" / "moved" / p.name if p == made.notebook else p).read_bytes()
            for p in before} == before
    with pytest.raises(InputError, match="assignment name 'A9 x': expected lower-case letters"):
        new_assignment("A9 x", course)


def test_the_keras_template_passes_generate_assignment(course):
    from fercourse.grading._testing import Course, nbgrader
    from fercourse.grading.authoring.template import new_assignment

    new_assignment("a9_keras", course, kind="keras")
    nbgrader(Course(course, course / "none.csv", ""), "generate_assignment", "a9_keras")
    released = (course / "release" / "a9_keras" / "a9_keras.ipynb").read_text()
    assert "BEGIN SOLUTION" not in released and "keras.layers.Dense(128" not in released
    assert "YOUR ANSWER HERE" in released and "BEGIN HIDDEN TESTS" not in released


def test_tiers_leave_the_margin_and_refuse_without_room():
    from fercourse.grading.authoring.calibrate import default_margin_rows, tiers_between

    tiers = tiers_between(0.249, 0.326, 3589, default_margin_rows(3589))
    assert tiers[0] >= 0.249 + 36 / 3589 and tiers[2] <= 0.326 - 36 / 3589 and tiers[0] < tiers[1] < tiers[2]
    with pytest.raises(InputError) as error:
        tiers_between(0.246, 0.2571, 280, 3)
    assert str(error.value).startswith("the reference (accuracy 0.2571) beats the dummy (0.2460) by 3 of 280 "
                                       "test rows; three tiers with a margin of 3 rows need at least 12")


def test_tiers_from_runs_sit_above_the_baselines_and_below_the_seed_spread():
    from fercourse.grading.authoring.calibrate import tiers_from_runs

    runs = [0.52, 0.55, 0.54]  # mean 0.5367, std 0.0153: tier 3 at mean - 2 std
    assert tiers_from_runs(0.30, runs, 3589, 36) == [0.311, 0.408, 0.506]
    with pytest.raises(InputError, match="2 reference run\\(s\\): expected at least 3 seeds"):
        tiers_from_runs(0.30, runs[:2], 3589, 36)
    with pytest.raises(InputError, match=r"the reference runs \(mean 0.3133, spread 0.0231 over 3 seeds: "
                                         r"tier 3 would be 0.267\) leave no room above the simple baselines"):
        tiers_from_runs(0.30, [0.30, 0.30, 0.34], 3589, 36)


def test_three_seeds_that_agree_by_chance_do_not_pull_the_top_tier_up_to_them():
    from fercourse.grading.authoring.tier_rules import reference_spread, tiers_from_runs

    runs = [0.4341, 0.4363, 0.4324]  # a3 on FER2013: std 0.0020, where earlier runs spread 1.5 points
    standard_error = (0.4343 * (1 - 0.4343) / 3589) ** 0.5
    assert reference_spread(runs, 3589) == pytest.approx(standard_error, abs=1e-4)
    assert tiers_from_runs(0.2602, runs, 3589, 36) == [0.271, 0.344, 0.417]
    assert 0.4202 >= 0.417  # the lowest earlier run of the same notebook clears it
    assert tiers_from_runs(0.2602, runs, 3589, 36, min_spread=0) == [0.271, 0.351, 0.43]  # the seeds alone


def test_calibrate_refuses_an_unknown_assignment(course):
    from fercourse.grading.authoring.calibrate import calibrate

    with pytest.raises(FileNotFoundError, match="a9_none.ipynb: no such notebook"):
        calibrate("a9_none", "sample", course)


def test_every_committed_assignment_is_registered_and_calibrated():
    """Each assignment under autograder/source/ has its submitted files in assignments.json and sample
    tiers in thresholds.json; where the command calibrated them, the tiers are the recorded ones and sit
    between the measured dummy and reference with the recorded margin."""
    from fercourse.course.checkout import course_folders
    from fercourse.grading.instructor_files import read_assignments
    from fercourse.grading.plugins.scoring import load_thresholds

    root = course_folders().autograder
    excluded = {name: entry["submitted_files"]
                for name, entry in read_assignments(root / "assignments.json").items()}
    table = json.loads((root / "thresholds.json").read_text())
    assignments = sorted(p.parent.name for p in root.glob("source/*/*.ipynb"))
    assert len(assignments) >= 4
    for name in assignments:
        assert "submission.csv" in excluded[name], name
        tiers = load_thresholds(root / "thresholds.json", name, "sample")
        assert len(tiers) == 3 and tiers == sorted(set(tiers)) and tiers[0] > 0.25, name
        for dataset, record in table[name].get("calibration", {}).items():
            margin = record["margin_rows"] / record["n_test"]
            assert record["tiers"] == table[name][dataset], (name, dataset)
            assert record["dummy_accuracy"] + margin <= record["tiers"][0] + 1e-4, (name, dataset)
            if "reference_spread" in record:  # grade calibrate's rule: mean - 2 spreads, spread >= the std
                assert record["reference_spread"] >= record["reference_std"], (name, dataset)
                best_baseline, spread = max(record["baselines"].values()), record["reference_spread"]
                assert best_baseline + margin <= record["tiers"][0] + 1e-4, (name, dataset)
                assert record["tiers"][2] <= record["reference_accuracy"] - 2 * spread + 1e-4, (name, dataset)
            else:  # the earlier single-run rule
                assert record["tiers"][2] <= record["reference_accuracy"] - margin + 1e-4, (name, dataset)
