"""The guide's tier tables come from thresholds.json (``fercourse grade tiers``), and calibrations record
the validation accuracy each reference run showed its student."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "autograder"


def fercourse_cli(*args: str) -> int:
    from fercourse.cli import main

    return main([*args])


def test_the_committed_guide_shows_the_tiers_of_the_committed_thresholds():
    from fercourse.grading.authoring.course_files import read_thresholds_table
    from fercourse.grading.authoring.tiers_table import guide_block, guide_tables

    table = read_thresholds_table(COURSE / "thresholds.json")
    assert guide_tables(COURSE / "README.md") == guide_block(table), (
        "autograder/README.md's tier tables differ from thresholds.json: run `fercourse grade tiers --write`")
    for assignment in ("a1_baselines", "a2_cnn", "a3_mlp", "a4_competition"):
        tiers = ", ".join(str(tier) for tier in table[assignment]["fer2013"])
        assert f"| {assignment} | {tiers} |" in guide_block(table)


def _course(tmp_path: Path) -> Path:
    from fercourse.grading.authoring.tiers_table import BEGIN, END

    course = tmp_path / "course"
    course.mkdir()
    shutil.copyfile(COURSE / "thresholds.json", course / "thresholds.json")
    (course / "README.md").write_text(
        f"# Guide\n\nProse before.\n\n{BEGIN}\n| stale | 0.1 |\n{END}\n\nProse after.\n")
    return course


def test_grade_tiers_write_rewrites_the_tables_and_nothing_else(tmp_path, capsys):
    course = _course(tmp_path)
    table = json.loads((course / "thresholds.json").read_text())
    table["a2_cnn"]["fer2013"] = [0.27, 0.4, 0.5]  # as a recalibration would leave it
    (course / "thresholds.json").write_text(json.dumps(table))

    assert fercourse_cli("grade", "tiers", "--course", str(course), "--write") == 0
    assert "rewritten from" in capsys.readouterr().out
    guide = (course / "README.md").read_text()
    assert guide.startswith("# Guide\n\nProse before.\n\n") and guide.endswith("\n\nProse after.\n")
    assert "| stale |" not in guide and "| a2_cnn | 0.27, 0.4, 0.5 |" in guide
    assert "| a3_mlp | 0.255, 0.331, 0.407 |" in guide  # the sample's table too

    assert fercourse_cli("grade", "tiers", "--course", str(course), "--write") == 0
    assert "already match" in capsys.readouterr().out
    assert (course / "README.md").read_text() == guide


def test_grade_tiers_recompute_applies_todays_rule_to_the_recorded_runs(tmp_path, capsys):
    course = _course(tmp_path)
    table = json.loads((course / "thresholds.json").read_text())
    record = {"date": "2026-12-07T14:36Z", "data": "fer2013", "n_train": 28709, "n_test": 3589,
              "seeds": [0, 1, 2], "reference_accuracies": [0.4341, 0.4363, 0.4324],
              "reference_accuracy": 0.4343, "reference_std": 0.002,
              "baselines": {"dummy": 0.2494, "naive_bayes": 0.2602}, "margin_rows": 36,
              "tiers": [0.271, 0.351, 0.43], "rules": {"tier 3": "mean - 2 standard deviations"}}
    table["a3_mlp"]["fer2013"], table["a3_mlp"]["calibration"]["fer2013"] = record["tiers"], record
    (course / "thresholds.json").write_text(json.dumps(table))

    assert fercourse_cli("grade", "tiers", "--course", str(course), "--recompute", "--write") == 0
    assert "a3_mlp/fer2013: tiers 0.271, 0.344, 0.417 (were 0.271, 0.351, 0.43)" in capsys.readouterr().err
    written = json.loads((course / "thresholds.json").read_text())["a3_mlp"]
    assert written["fer2013"] == written["calibration"]["fer2013"]["tiers"] == [0.271, 0.344, 0.417]
    assert written["calibration"]["fer2013"]["reference_spread"] == 0.0083  # the standard error, not 0.002
    assert "| a3_mlp | 0.271, 0.344, 0.417 |" in (course / "README.md").read_text()
    assert written["sample"] == table["a3_mlp"]["sample"]  # a single-run record is kept as it is


def test_grade_tiers_names_the_guide_without_marker_lines(tmp_path, capsys):
    course = _course(tmp_path)
    (course / "README.md").write_text("# Guide without the generated block\n")
    assert fercourse_cli("grade", "tiers", "--course", str(course), "--write") == 1
    error = capsys.readouterr().err
    assert f"{course / 'README.md'}: no generated tiers block" in error
    assert "Traceback" not in error


def test_a_calibration_reads_the_validation_accuracy_the_notebook_glued(tmp_path):
    import nbformat

    from fercourse.glue import glued_output
    from fercourse.grading.authoring.calibrate import glued_validation

    bundle, metadata = glued_output("validation_accuracy", 0.4192, display=False)
    cell = nbformat.v4.new_code_cell("glue('validation_accuracy', validation_accuracy, display=False)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle, metadata=metadata)]
    executed = tmp_path / "executed.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), cell]), executed)
    assert glued_validation(executed) == pytest.approx(0.4192)

    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), executed)
    assert glued_validation(executed) is None  # an assignment without the cell records no validation


@pytest.mark.parametrize("assignment", ["a1_baselines", "a2_cnn", "a3_mlp", "a4_competition"])
def test_every_assignment_glues_its_validation_accuracy_after_training(assignment):
    import nbformat

    notebook = nbformat.read(COURSE / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    sources = [cell.source for cell in notebook.cells]
    glued = [i for i, source in enumerate(sources) if 'glue("validation_accuracy"' in source]
    assert len(glued) == 1
    assert "validation_split" not in "\n".join(sources)  # Keras's split is the last 10%, unstratified
    trained = next(i for i, source in enumerate(sources) if "fit_or_load(" in source or ".fit(" in source
                   or "compare_baselines(" in source and "results =" in source)
    assert trained < glued[0]
    assert notebook.cells[glued[0]].metadata["nbgrader"]["locked"]
