"""The lessons: their shape as committed, the papermill runner, and every lesson executed in quick mode."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fercourse.course import build_note
from fercourse.course import runner as notebooks
from fercourse.data import lesson_data

REPO_ROOT = Path(__file__).resolve().parents[2]
LESSONS = [path for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
           if notebooks.LESSON_PATTERN.match(path.name)]
OWN_LESSONS = [path for path in LESSONS if path.stem[:2] in {"01", "02", "03", "04", "05", "06"}]
OUTLINE = ("## Setup", "## Parameters", "## Data", "## Model", "## Evaluate", "## Summary", "## Exercises")


def test_lessons_are_numbered_in_order():
    names = [path.stem for path in LESSONS]
    assert names[:6] == ["01_eda", "02_baselines", "03_mlp", "04_recurrent", "05_cnn", "06_augmentation"]
    assert [path.name for path in notebooks.discover_lessons()] == [path.name for path in LESSONS]


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.stem)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs: strip them before committing"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.stem)
def test_one_parameters_cell_right_after_the_imports(path):
    cells = nbformat.read(path, as_version=4).cells
    code = [cell for cell in cells if cell.cell_type == "code"]
    tagged = [k for k, cell in enumerate(code) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one cell tagged parameters"
    assert tagged[0] == 1 and "import" in code[0].source, \
        f"{path.name}: parameters must follow the imports cell"
    values = notebooks.lesson_parameters(path)
    if path.stem == "07_demo":  # the model to use (None: the shipped one), and the calibration section's
        assert values["model_file"] is None and values["target_accuracy"] == 0.75
    assert {"data", "quick", "seed"} <= set(values)
    assert values["data"] == "sample" and values["quick"] is False and values["seed"] == 0
    # Only a lesson that trains a network takes an epoch budget (quick mode injects it where declared).
    trains_a_network = path.stem in ("03_mlp", "04_recurrent", "05_cnn", "06_augmentation", "07_demo",
                                     "08_trust")
    assert ("num_epochs" in values) == trains_a_network, path.stem
    assert not trains_a_network or (isinstance(values["num_epochs"], int) and values["num_epochs"] >= 1)


@pytest.mark.parametrize("path", OWN_LESSONS, ids=lambda path: path.stem)
def test_outline_and_prose_before_every_code_cell(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# Lesson ")
    assert "**Goal:**" in cells[0].source
    headings = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    positions = [headings.find(title) for title in OUTLINE]
    assert -1 not in positions, f"{path.name}: missing {[t for t, p in zip(OUTLINE, positions) if p < 0]}"
    assert positions == sorted(positions), f"{path.name}: outline out of order"
    for before, cell in zip(cells, cells[1:]):
        if cell.cell_type == "code":
            assert before.cell_type == "markdown", \
                f"{path.name}: code without prose before it: {cell.source[:60]}"
            assert cell.source.count("\n") < 16, f"{path.name}: code cell over 16 lines: {cell.source[:60]}"


def test_lessons_teach_the_traps():
    text = {path.stem: "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
            for path in OWN_LESSONS}
    assert "FOLDER_ORDER" in text["01_eda"] and "alphabetical" in text["01_eda"]
    assert "find_duplicates" in text["01_eda"] and "disgust" in text["01_eda"]
    assert "validation" in text["03_mlp"] and "never the test" in text["03_mlp"]
    assert "fit_or_load(model_path" in text["05_cnn"]
    assert "write_submission(submission_path" in text["06_augmentation"]
    assert 'tta="flip"' in text["06_augmentation"] and "class_weights" in text["06_augmentation"]


def test_discover_only_by_name_stem_or_number():
    assert [p.stem for p in notebooks.discover_lessons(only=["05"])] == ["05_cnn"]
    assert [p.stem for p in notebooks.discover_lessons(only=["cnn", "01_eda.ipynb"])] == ["01_eda", "05_cnn"]
    with pytest.raises(ValueError, match="--only nosuch: no such lesson; expected one of 01_eda"):
        notebooks.discover_lessons(only=["nosuch"])
    with pytest.raises(FileNotFoundError, match="no such lessons folder"):
        notebooks.discover_lessons(REPO_ROOT / "missing-folder")


def test_injected_parameters_only_those_declared(tmp_path):
    values = notebooks.injected_parameters(REPO_ROOT / "notebooks" / "05_cnn.ipynb", data="../x/fer",
                                           quick=True, artifacts=tmp_path,
                                           extra={"batch_size": 8, "not_declared": 1})
    lessons = REPO_ROOT / "notebooks"  # where the lesson runs: paths are relative to it, no machine path
    assert values == {"data": os.path.relpath((Path.cwd() / "../x/fer").resolve(), lessons), "quick": True,
                      "num_epochs": 8, "cnn_variant": "simple",
                      "model_path": os.path.relpath(tmp_path.resolve() / "cnn-simple.keras", lessons),
                      "batch_size": 8}
    assert not Path(values["model_path"]).is_absolute()
    eda = notebooks.injected_parameters(REPO_ROOT / "notebooks" / "01_eda.ipynb", data="sample",
                                        artifacts=tmp_path)
    assert eda == {"data": "sample"}  # 01 saves nothing: no model_path injected


def test_executed_lesson_hides_injected_cell_and_says_what_ran(tmp_path):
    import nbformat

    lesson = tmp_path / "05_cnn.ipynb"
    cells = [nbformat.v4.new_markdown_cell("# Lesson 5"),
             nbformat.v4.new_code_cell("num_epochs = 8", metadata={"tags": ["injected-parameters"]}),
             nbformat.v4.new_code_cell("print(num_epochs)")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), lesson)
    for _ in range(2):  # a rerun replaces the note instead of adding a second one
        build_note.mark_injected_cell(lesson, {"data": "sample", "quick": True, "num_epochs": 8,
                                              "model_path": "../artifacts/sample-quick/cnn.keras"})
    written = nbformat.read(lesson, as_version=4).cells
    assert [cell.metadata.get("tags", []) for cell in written] == [
        [], ["build-note"], ["injected-parameters", "remove-cell"], []]
    assert written[1].source == ("*This page was run on the built-in synthetic sample, in quick mode "
                                 "(`num_epochs = 8`): its figures show the method, not FER2013 results.*")


def test_artefact_folder_separates_data_and_mode(tmp_path):
    assert notebooks.artefact_folder("sample", True, tmp_path) == tmp_path / "sample-quick"
    assert notebooks.artefact_folder("/data/FER2013/", False, tmp_path) == tmp_path / "fer2013-full"
    assert notebooks.data_tag("course/train.csv") == "train"


def test_lesson_data_quick_sample_sizes():
    dataset, train, val, test = lesson_data("sample", quick=True, seed=0)
    assert (len(train), len(val), len(test)) == (1800, 200, 400)
    assert not set(train.ids) & set(val.ids)
    assert test is dataset.test


def test_lesson_data_unlabelled_test_holds_out_train(tmp_path, capsys):
    from fercourse.data import load
    from fercourse.data.writers import prepare

    release = prepare(load("sample", n_train=300, n_test=60), tmp_path)
    dataset, train, val, test = lesson_data(str(release.train_csv))
    assert dataset.test.labels is None and test.labels is not None
    assert len(train) + len(val) + len(test) == 300
    assert "has no labels" in capsys.readouterr().out
    quick, train, val, test = lesson_data(str(release.train_csv), quick=True)
    assert len(quick.test) == 60  # quick mode never drops test ids: the submission needs them all
    assert len(train) + len(val) + len(test) == 300  # below the quick size: nothing subsampled


def _tiny_lesson(folder: Path, name: str, body: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("data = 'sample'\nquick = False\nnum_epochs = 1\nseed = 0")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_code_cell("import math"), parameters, nbformat.v4.new_code_cell(body)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow
def test_runner_names_the_failing_lesson_and_cell(tmp_path):
    lessons = tmp_path / "notebooks"
    lessons.mkdir()
    _tiny_lesson(lessons, "01_fine",
                 "import matplotlib.pyplot as plt\nplt.plot([1, 2]);\nprint(num_epochs, quick)")
    _tiny_lesson(lessons, "02_broken", "raise ValueError('no faces here')")
    _tiny_lesson(lessons, "03_never", "print('not reached')")
    command = [sys.executable, "-m", "fercourse", "notebooks", "run", "--quick", "--notebooks", str(lessons),
               "--out", str(tmp_path / "out"), "--artifacts", str(tmp_path / "artifacts")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300,
                               env=dict(os.environ, MPLBACKEND="Agg"))
    assert completed.returncode == 1, completed.stderr
    assert "[1/3] 01_fine: ok in" in completed.stderr
    assert "02_broken failed at cell 3 (\"raise ValueError('no faces here')\"), In [4] of the executed copy" \
        in completed.stderr
    assert "ValueError: no faces here" in completed.stderr
    assert "03_never" not in completed.stderr  # stops at the first failure
    assert "1 of 2 lessons ran" in completed.stdout
    fine = nbformat.read(tmp_path / "out" / "01_fine.ipynb", as_version=4)
    outputs = fine.cells[-1].outputs
    assert any(output.get("text") == "8 True\n" for output in outputs)  # quick parameters injected
    # inline figures even though this process set MPLBACKEND=Agg
    assert any("image/png" in output.get("data", {}) for output in outputs)
    assert (tmp_path / "artifacts" / "sample-quick" / "logs" / "02_broken.kernel.log").exists()


def _tiny_course(root: Path) -> Path:
    """A course checkout with one lesson and a book config, away from the repository."""
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "book" / "_config.yml").write_text("title: tiny\n")
    _tiny_lesson(root / "notebooks", "01_fine", "print(num_epochs)")
    return root


def test_find_course_root_walks_up_from_the_working_directory(tmp_path, monkeypatch):
    from fercourse.course.checkout import course_folders, find_course_root

    course = _tiny_course(tmp_path / "course")
    (course / "notebooks" / "deeper").mkdir()
    assert find_course_root(course / "notebooks" / "deeper") == course.resolve()
    monkeypatch.chdir(course / "notebooks")
    assert find_course_root() == course.resolve()
    assert [path.name for path in notebooks.discover_lessons()] == ["01_fine.ipynb"]
    assert notebooks.artefact_folder("sample", True) == course.resolve() / "artifacts" / "sample-quick"
    folders = course_folders()
    assert (folders.executed, folders.autograder) == (course.resolve() / "book" / "lessons",
                                                      course.resolve() / "autograder")


def test_find_course_root_names_the_start_and_the_markers(tmp_path):
    from fercourse.course.checkout import find_course_root

    with pytest.raises(FileNotFoundError, match=rf"^{tmp_path.resolve()}: not inside a course checkout: "
                                                r"expected a folder holding notebooks/ and book/_config.yml"):
        find_course_root(tmp_path)


def test_cli_course_option_and_working_directory(tmp_path):
    course = _tiny_course(tmp_path / "course")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = [sys.executable, "-m", "fercourse", "notebooks"]
    listed = subprocess.run([*command, "list", "--checkout", str(course)], capture_output=True, text=True,
                            timeout=60, cwd=elsewhere)
    assert listed.returncode == 0
    assert listed.stdout == "01_fine: data='sample', quick=False, num_epochs=1, seed=0\n"
    inside = subprocess.run([*command, "list"], capture_output=True, text=True, timeout=60,
                            cwd=course / "book")
    assert inside.stdout == listed.stdout
    unknown = subprocess.run([*command, "run", "--checkout", str(course), "--only", "99"],
                             capture_output=True, text=True, timeout=60, cwd=elsewhere)
    assert unknown.returncode == 1
    assert "error: --only 99: no such lesson; expected one of 01_fine\n" in unknown.stderr
    outside = subprocess.run([*command, "list"], capture_output=True, text=True, timeout=60, cwd=elsewhere)
    assert outside.returncode == 1
    assert f"{elsewhere.resolve()}: not inside a course checkout" in outside.stderr
    assert "pass --course DIR" in outside.stderr


def test_cli_rejects_unknown_lesson(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "fercourse", "notebooks", "run", "--only", "99_nothing",
                                "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1
    assert "fercourse notebooks: error: --only 99_nothing: no such lesson" in completed.stderr


def test_cli_list_shows_parameters():
    completed = subprocess.run([sys.executable, "-m", "fercourse", "notebooks", "list"], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0
    assert "05_cnn: data='sample', quick=False" in completed.stdout
    assert "model_path=None" in completed.stdout  # None: a file named after the data and the variant


# ---- every lesson, executed once (shared fixture in conftest.py) --------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", [path.stem for path in LESSONS])
def test_lesson_runs_in_quick_mode_with_figures(executed_lessons, name):
    result = executed_lessons.results[name]
    assert result.ok, result.error
    notebook = nbformat.read(result.output, as_version=4)
    assert notebook.metadata.papermill.parameters.get("quick") is True
    note = [cell.source for cell in notebook.cells if "build-note" in cell.metadata.get("tags", [])]
    assert note and note[0].startswith("*This page was run"), name  # what ran, under the title
    injected = [cell for cell in notebook.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert all("remove-cell" in cell.metadata.tags for cell in injected), name
    values = notebook.metadata.papermill.parameters
    assert not [v for v in values.values() if isinstance(v, str) and os.path.isabs(v)], name  # machine paths
    images = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if "image/png" in output.get("data", {})]
    assert images, f"{name}: no figure in the executed lesson"
    assert all(len(base64.b64decode(image.data["image/png"])) > 1000 for image in images)


@pytest.mark.slow
def test_every_lesson_ran_once_in_order_with_its_kernel_log(executed_lessons):
    times = {name: round(result.seconds, 1) for name, result in executed_lessons.results.items()}
    print(json.dumps(times))  # reported for the record; wall time depends on the machine, so not asserted
    assert list(executed_lessons.results) == [path.stem for path in LESSONS]
    assert {name: result.error for name, result in executed_lessons.results.items() if not result.ok} == {}
    for name, result in executed_lessons.results.items():
        assert result.output == executed_lessons.out / f"{name}.ipynb" and result.output.is_file()
        assert (executed_lessons.artifacts / "logs" / f"{name}.kernel.log").is_file()


@pytest.mark.slow
def test_cnn_lesson_saves_a_loadable_model(executed_lessons):
    assert executed_lessons.results["05_cnn"].ok, executed_lessons.results["05_cnn"].error
    path = executed_lessons.artifacts / "cnn-simple.keras"  # quick mode's variant names the file
    assert path.is_file() and path.stat().st_size > 10_000
    import keras

    import fercourse.models.layers  # noqa: F401 - registers the custom classes for loading

    model = keras.models.load_model(path)
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 7)


@pytest.mark.slow
def test_augmentation_lesson_writes_a_valid_submission(executed_lessons):
    import pandas as pd

    from fercourse.data import lesson_data
    from fercourse.submission import validate_submission

    assert executed_lessons.results["06_augmentation"].ok, executed_lessons.results["06_augmentation"].error
    path = executed_lessons.artifacts / "submission.csv"
    table = pd.read_csv(path, dtype={"id": str})
    assert list(table.columns) == ["id", "emotion"]
    dataset, *_ = lesson_data("sample", quick=True, seed=0)
    assert list(table["id"]) == list(dataset.test.ids)
    assert table["emotion"].between(0, 6).all()
    assert validate_submission(path) == []


@pytest.mark.slow
def test_augmentation_lesson_writes_the_ladder_as_the_experiment_trains_it(executed_lessons):
    """Lesson 6's ladder, written in Keras, builds the networks, optimizers and losses of the recorded
    experiment `ladder` rung by rung (the lesson compares them and says so)."""
    import nbformat

    from fercourse.course.results import harvest_glue

    assert executed_lessons.results["06_augmentation"].ok, executed_lessons.results["06_augmentation"].error
    executed = executed_lessons.out / "06_augmentation.ipynb"
    assert harvest_glue(executed)["ladder_networks_match"] == "match"
    cells = {cell.get("id"): cell for cell in nbformat.read(executed, as_version=4).cells}
    table = cells["augmentation-ladder-table"].outputs[-1]["data"]["text/plain"]
    assert "AdamW" in table and "1903375" in table  # the reference network's parameters, both ways
