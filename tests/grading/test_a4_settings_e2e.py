"""End to end, a4_competition: the settings students are invited to change are theirs at autograde.

The parameters cell (``num_epochs``, ``max_learning_rate``, ``use_class_weights``, ``batch_size``,
``seed``) is not locked, so nbgrader keeps the student's version; the locked cell after it (the
files the autograder provides and reads) is restored, and every hidden check still runs. The
student submits a model built with their settings (untrained: the points here are the in-kernel
checks and that the model explains the CSV, not the tiers).
"""

from __future__ import annotations

import pytest
from grading_helpers import cell_text, grades

pytestmark = pytest.mark.slow

A4 = "a4_competition"
SETTINGS = ("num_epochs = 2\nmax_learning_rate = 1e-3\nuse_class_weights = True\nbatch_size = 32\nseed = 7\n"
            'model_path = "mine.keras"  # not theirs: the locked cell after this one sets it back')


def student_model(course, path) -> bytes:
    """The model the reference make_model builds under SETTINGS, saved to ``path``; its submission bytes."""
    import tempfile
    from pathlib import Path

    from fercourse.data import load
    from fercourse.models import build_model, model_input
    from fercourse.submission import write_submission
    from fercourse.training import steps_per_epoch
    from fercourse.training.schedules import one_cycle

    data = load(course.data_dir(A4), cache=False, progress=None)
    total_steps = 2 * steps_per_epoch(int(len(data.train) * 0.9), 32)
    model = build_model("cnn", variant="bn", augment={"flip": True, "rotation": 0.05, "translation": 0.1,
                                                      "zoom": 0.1, "contrast": 0.0},
                        learning_rate=one_cycle(1e-3, total_steps=total_steps), seed=7)
    model.save(path)
    predictions = model.predict(model_input("cnn", data.test.X), batch_size=256, verbose=0).argmax(axis=1)
    with tempfile.TemporaryDirectory() as scratch:
        return write_submission(Path(scratch) / "submission.csv", data.test.ids, predictions).read_bytes()


def test_a_student_who_changes_the_settings_is_graded_on_them(tmp_path):
    import nbformat

    from fercourse.grading._testing import make_course, nbgrader, submit
    from fercourse.training import steps_per_epoch

    course = make_course(tmp_path / "work", n_train=700, n_test=140)
    nbgrader(course, "generate_assignment", A4)
    released = nbformat.read(course.root / "release" / A4 / f"{A4}.ipynb", as_version=4)
    settings = next(c for c in released.cells if "parameters" in c.metadata.get("tags", []))
    assert not settings.metadata.get("nbgrader", {}).get("locked") and "num_epochs = 3" in settings.source

    model_file = tmp_path / "model.keras"
    csv_bytes = student_model(course, model_file)
    folder = submit(course, "kim", A4, files={"submission.csv": csv_bytes, "model.keras": model_file},
                    insert_after={"a4_competition_model_run": 'print("total_steps", total_steps)',
                                  "a4_competition_train": 'print("class weights", weights is not None, '
                                                          'model_path)'})
    notebook_path = folder / f"{A4}.ipynb"
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = SETTINGS
        elif cell.metadata.get("nbgrader", {}).get("grade_id") == "a4_competition_files":
            cell.source = 'data_dir = "data"\nmodel_path = "other.keras"'  # edited anyway: restored
    nbformat.write(notebook, notebook_path)
    nbgrader(course, "autograde", A4, key=True)

    graded = nbformat.read(course.root / "autograded" / "kim" / A4 / f"{A4}.ipynb", as_version=4)
    outputs = "\n".join(str(output.get("text", "")) for cell in graded.cells if cell.cell_type == "code"
                        for output in cell.outputs)
    assert next(c for c in graded.cells if "parameters" in c.metadata.get("tags", [])).source == SETTINGS
    assert f"total_steps {2 * steps_per_epoch(630, 32)}" in outputs  # their epochs and batch size, not 3 x 64
    assert "class weights True model.keras" in outputs  # their choice; the locked files cell restored
    assert "loaded model.keras" in outputs  # their submitted model, not a retrained one
    points = grades(course, A4, A4, "kim")
    for check in ("augmentation_keeps_labels", "class_weights_balanced", "model_architecture",
                  "saved_model_predicts", "submission_format"):  # every in-kernel check, hidden tests too
        assert points[check] == 1.0, (check, cell_text(course, "kim", A4, check))
    assert "submission.csv is what the submitted model.keras predicts" in \
        cell_text(course, "kim", A4, "accuracy_tiers")
