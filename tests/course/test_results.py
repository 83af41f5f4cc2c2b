"""The generated real-FER2013 results file, the lesson cache and the real-data book build's plumbing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest

from fercourse.cli import main
from fercourse.course import book, results
from fercourse.course.budgets import REAL_DATA_BUDGETS, real_data_budget
from fercourse.course.lesson_cache import (
    LessonCache,
    data_fingerprint,
    imported_modules,
    lesson_key,
    lesson_modules,
    modules_fingerprint,
)
from fercourse.course.runner import discover_lessons, lesson_parameters
from fercourse.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[2]


def _model_entry(accuracy=0.6458, left_out=0):
    return {"title": "Shipped model", "kind": "model", "data": "fer2013", "split": "test",
            "command": "fercourse evaluate pretrained --data fer2013 --split test --tta shift",
            "metrics": {"n": 3589 - left_out, "left_out": left_out, "tta": "shift", "accuracy": accuracy,
                        "macro_f1": 0.62, "per_class_recall": {"disgust": 0.5}}}


def test_record_then_load_keeps_every_entry_with_date_and_versions(tmp_path):
    path = tmp_path / "results" / "fer2013.json"
    results.record_result("model/shipped", _model_entry(), path)
    results.record_result("model/shipped-dedup", _model_entry(0.64, left_out=280), path)
    results.record_result("model/shipped", _model_entry(0.65), path)  # measured again: replaced
    loaded = results.load_results(path)
    assert list(loaded["entries"]) == ["model/shipped", "model/shipped-dedup"]
    entry = loaded["entries"]["model/shipped"]
    assert entry["metrics"]["accuracy"] == 0.65
    assert entry["measured"] == time.strftime("%Y-%m-%d") and entry["versions"]["keras"]
    assert results.result_value("model/shipped-dedup", "accuracy", path) == 0.64
    assert results.result_value("model/none", "accuracy", path, default="n/a") == "n/a"
    assert not list(path.parent.glob("*.tmp"))


def test_rendered_tables_show_the_recorded_figures(tmp_path):
    path = tmp_path / "fer2013.json"
    results.record_result("model/shipped-dedup", _model_entry(0.6441, left_out=280), path)
    loaded = results.load_results(path)
    table = results.render_markdown(loaded, "model")
    row = "| Shipped model | test (without 280 also in train) | 3309 | shift | 0.644 | 0.620 | 0.500 |"
    assert row in table
    assert "fercourse evaluate pretrained --data fer2013 --split test --tta shift" in table
    assert "have not been run on real FER2013" in results.render_markdown(loaded, "lesson")
    # another recorded model (an earlier shipped run) belongs to the all-model table, not this section
    earlier = {**_model_entry(0.6461), "title": "Reference recipe, seed 0"}
    results.record_result("model/reference-seed0", earlier, path)
    table = results.render_markdown(results.load_results(path), "model")
    assert row in table and "Reference recipe, seed 0" not in table


def test_a_damaged_results_file_is_named_with_what_is_wrong(tmp_path):
    path = tmp_path / "fer2013.json"
    path.write_text('{"entries": {"model/x": {"title": "x", "kind": "model", "measured": "2026-12-03"}}}')
    with pytest.raises(InputError, match=r"fer2013.json: entry 'model/x': field 'metrics' must be"):
        results.load_results(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match=r"fer2013.json: not valid JSON \(line 1"):
        results.load_results(path)
    with pytest.raises(InputError, match="kind 'table'; expected one of model, lesson"):
        results.validate_entry("x", {"title": "x", "kind": "table", "measured": "today"})


def test_book_fragments_render_the_checkouts_results_file(tmp_path):
    course = tmp_path / "course"
    (course / "notebooks").mkdir(parents=True)
    (course / "book").mkdir()
    (course / "book" / "_config.yml").write_text("title: x\n")
    written = {path.name: path for path in book.write_fragments(course / "book")}
    assert "No real-FER2013 figures are recorded" in written["_results.md"].read_text()
    results.record_result("model/shipped", _model_entry(), course / "results" / "fer2013.json")
    written = {path.name: path for path in book.write_fragments(course / "book")}
    assert "| Shipped model | test | 3589 | shift | 0.646 |" in written["_results.md"].read_text()


def _tiny_lesson(folder, body="x = 0.25", prose=("# Tiny lesson",)):
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                 "display_name": "Python 3"},
                                                  "language_info": {"name": "python"}})
    notebook.cells = [
        *(nbformat.v4.new_markdown_cell(text) for text in prose),
        nbformat.v4.new_code_cell("data = 'sample'\nquick = False\nnum_epochs = 2",
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(f"from fercourse.glue import glue\n{body}\nglue('share', x * num_epochs, "
                                  "display=False)\nglue('name', 'happy', display=False)"),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / "01_tiny.ipynb")
    return folder / "01_tiny.ipynb"


def test_cache_key_follows_cells_parameters_and_data(tmp_path):
    lesson = _tiny_lesson(tmp_path / "notebooks")
    data = tmp_path / "faces"
    (data / "train" / "happy").mkdir(parents=True)
    (data / "train" / "happy" / "1.png").write_bytes(b"a")
    key = lesson_key(lesson, {"num_epochs": 2}, str(data))
    assert key == lesson_key(lesson, {"num_epochs": 2}, str(data))
    assert key != lesson_key(lesson, {"num_epochs": 3}, str(data))
    (data / "train" / "happy" / "2.png").write_bytes(b"b")
    assert key != (key := lesson_key(lesson, {"num_epochs": 2}, str(data)))
    _tiny_lesson(tmp_path / "notebooks", prose=("# Tiny lesson, revised", "A new paragraph."))
    assert key == lesson_key(lesson, {"num_epochs": 2}, str(data))  # prose decides no output
    _tiny_lesson(tmp_path / "notebooks", body="x = 0.5")
    assert key != lesson_key(lesson, {"num_epochs": 2}, str(data))
    assert data_fingerprint("sample") == "sample"


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_cache_key_covers_only_the_modules_a_lesson_reaches(tmp_path):
    """A lesson importing the data code reruns when the data code or what it imports (lazily too)
    changes, not when grading code it never reaches changes."""
    root = _package(tmp_path / "fercourse", {
        "__init__.py": "from fercourse.labels import EMOTIONS\n",
        "labels.py": "EMOTIONS = ['angry']\n",
        "data/__init__.py": "from .sources import load\n",
        "data/sources.py": "def load():\n    from fercourse.files import read\n    return read()\n",
        "files.py": "def read():\n    return 1\n",
        "grading/__init__.py": '"""Grading."""\nimport nbgrader\n',
        "models/__init__.py": "def pretrained():\n    return files('fercourse.models') / 'weights'\n",
        "models/weights/model.keras": "weights",
    })
    reached = imported_modules(["fercourse.data"], root)
    assert reached == {"fercourse", "fercourse.labels", "fercourse.data", "fercourse.data.sources",
                       "fercourse.files"}
    before = modules_fingerprint(reached, root)
    edited = '"""Grading, with a better docstring."""\nimport nbgrader\n'
    (root / "grading" / "__init__.py").write_text(edited)
    assert modules_fingerprint(reached, root) == before
    (root / "files.py").write_text("def read():\n    return 2\n")  # reached only by a lazy import
    assert modules_fingerprint(reached, root) != before

    with_model = imported_modules(["fercourse.models"], root)
    shipped = modules_fingerprint(with_model, root)
    (root / "models" / "weights" / "model.keras").write_text("retrained")  # package data the module reads
    assert modules_fingerprint(with_model, root) != shipped
    assert modules_fingerprint(reached, root) == modules_fingerprint(reached, root)


def test_no_lesson_reaches_the_grading_cli_or_course_code():
    """So editing those reruns no lesson in the cached real-data build."""
    for lesson in discover_lessons(REPO_ROOT / "notebooks"):
        reached = lesson_modules(nbformat.read(lesson, as_version=4))
        assert "fercourse.data" in reached, lesson.name
        outside = sorted(name for name in reached
                         if name.split(".")[1:2] in (["grading"], ["cli"], ["course"]))
        assert outside == [], (lesson.name, outside)


def test_cache_entry_is_dropped_when_a_saved_file_changed(tmp_path):
    executed, model = tmp_path / "01_tiny.ipynb", tmp_path / "cnn.keras"
    executed.write_text("{}")
    model.write_bytes(b"weights")
    store = LessonCache(tmp_path / "cache")
    store.put("01_tiny", "k1", executed, seconds=12.0, outputs=[model, tmp_path / "never-written.csv"])
    assert store.get("01_tiny", "k1")["seconds"] == 12.0
    assert store.get("01_tiny", "k2") is None
    model.write_bytes(b"other weights")
    assert store.get("01_tiny", "k1") is None


def test_real_data_budgets_cover_every_lesson_within_150_minutes():
    lessons = discover_lessons(REPO_ROOT / "notebooks")
    assert sorted(REAL_DATA_BUDGETS) == [path.stem for path in lessons]
    assert sum(budget.minutes for budget in REAL_DATA_BUDGETS.values()) <= 150
    for lesson in lessons:  # a budget naming a parameter the lesson no longer declares would do nothing
        assert set(real_data_budget(lesson.stem)) <= set(lesson_parameters(lesson)), lesson.stem


def _toy_course(tmp_path: Path) -> tuple[Path, Path]:
    """A course checkout holding the tiny lesson, and a one-class image folder to run it on."""
    course = tmp_path / "course"
    _tiny_lesson(course / "notebooks")
    (course / "book").mkdir()
    (course / "book" / "_config.yml").write_text("title: x\n")
    faces = tmp_path / "faces"
    (faces / "train" / "happy").mkdir(parents=True)
    return course, faces


@pytest.mark.slow
def test_real_data_run_caches_lessons_and_records_what_they_glue(tmp_path, capsys):
    """The publishing build's path on a toy lesson: budgets injected, second run cached, values recorded."""
    course, faces = _toy_course(tmp_path)
    arguments = ["notebooks", "run", "--checkout", str(course), "--data", str(faces), "--record",
                 "-p", "num_epochs", "4"]

    assert main(arguments) == 0
    recorded = results.load_results(course / "results" / "fer2013.json")["entries"]["lesson/01_tiny"]
    assert recorded["values"] == {"share": 1.0, "name": "happy"}
    assert recorded["budget"] == {"num_epochs": 4} and recorded["title"] == "Tiny lesson"
    executed = course / "book" / "lessons" / "01_tiny.ipynb"
    assert "`num_epochs = 4`" in nbformat.read(executed, as_version=4).cells[1].source
    assert len(list((course / "artifacts" / "faces-full" / "cache").glob("01_tiny.*.ipynb"))) == 1

    executed.unlink()
    capsys.readouterr()
    assert main(arguments) == 0  # unchanged: copied back from the cache
    assert executed.is_file()
    assert "01_tiny: unchanged, reused the cached run" in capsys.readouterr().err
    assert json.loads((course / "results" / "fer2013.json").read_text())["entries"]["lesson/01_tiny"]

    # The prose rewritten, the code not: reused, and the page shows the new prose beside the outputs
    _tiny_lesson(course / "notebooks", prose=("# Tiny lesson", "The share is {glue:text}`share`."))
    capsys.readouterr()
    assert main(arguments) == 0
    assert "01_tiny: unchanged, reused the cached run" in capsys.readouterr().err
    cells = nbformat.read(executed, as_version=4).cells
    assert [cell.cell_type for cell in cells] == ["markdown", "markdown", "markdown", "code", "code", "code"]
    assert "`num_epochs = 4`" in cells[1].source and cells[2].source == "The share is {glue:text}`share`."
    assert "injected-parameters" in cells[4].metadata.tags and "num_epochs = 4" in cells[4].source
    assert cells[5].outputs and results.harvest_glue(executed) == {"share": 1.0, "name": "happy"}

    assert main([*arguments[:-1], "5"]) == 0  # another budget: runs again
    values = results.load_results(course / "results" / "fer2013.json")["entries"]["lesson/01_tiny"]["values"]
    assert values["share"] == 1.25


@pytest.mark.slow
def test_running_lessons_on_real_data_writes_no_results_file_unless_asked(tmp_path, capsys):
    course, faces = _toy_course(tmp_path)
    assert main(["notebooks", "run", "--checkout", str(course), "--data", str(faces)]) == 0
    assert (course / "book" / "lessons" / "01_tiny.ipynb").is_file()
    assert not (course / "results").exists()
    assert main(["notebooks", "run", "--checkout", str(course), "--data", "sample", "--record"]) == 1
    assert "--record: only a run on real data" in capsys.readouterr().err


def test_record_refuses_the_sample(capsys):
    assert main(["evaluate", "pretrained", "--data", "sample", "--record", "model/x"]) == 1
    assert "the built-in sample's scores are smoke tests" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.fer2013
def test_book_build_on_a_real_fer2013_slice(fer2013_slice, tmp_path, capsys):
    """`fercourse book build --data FER2013` on a small slice of the real faces: the lessons run at the
    real-data budgets, say so on their page, record what they glue, and a rebuild reuses them."""
    import shutil

    faces = fer2013_slice
    course = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "notebooks", course / "notebooks")
    shutil.copytree(REPO_ROOT / "book", course / "book", ignore=shutil.ignore_patterns("_build", "lessons"))
    arguments = ["book", "build", "--checkout", str(course), "--data", str(faces), "--record",
                 "--only", "01", "02"]

    assert main(arguments) == 0, capsys.readouterr().err
    html = (course / "book" / "_build" / "html" / "lessons" / "02_baselines.html").read_text()
    assert "This page was run on <code" in html and "fer2013-slice" in html
    recorded = results.load_results(course / "results" / "fer2013.json")["entries"]
    assert {"lesson/01_eda", "lesson/02_baselines"} <= set(recorded)
    assert all(recorded[key]["data"] == "fer2013-slice" and recorded[key]["values"]
               for key in ("lesson/01_eda", "lesson/02_baselines"))
    results_page = (course / "book" / "_build" / "html" / "results.html").read_text()
    assert "fer2013-slice" in results_page and "The lessons have not been run" not in results_page

    capsys.readouterr()
    assert main(arguments) == 0
    err = capsys.readouterr().err
    assert "01_eda: unchanged, reused the cached run" in err and "02_baselines: unchanged" in err


def test_lesson_overview_quotes_the_recorded_values_in_words(tmp_path):
    path = tmp_path / "fer2013.json"
    entry = {"title": "Lesson 4: Recurrent networks over image rows", "kind": "lesson", "data": "fer2013",
             "budget": {"num_epochs": 6}, "seconds": 300.0, "machine": "x86_64, 2 CPUs",
             "values": {"lstm_val_accuracy": 0.3851, "gru_attention_val_accuracy": 0.3979,
                        "attention_peak_row": 40}}
    results.record_result("lesson/04_recurrent", entry, path)
    page = results.render_markdown(results.load_results(path), "lesson")
    row = ("| Lesson 4: Recurrent networks over image rows | `num_epochs = 6` | 5.0 min "
           "| validation accuracy: LSTM 0.385, GRU with attention 0.398 |")
    assert row in page  # the attention headline needs attention_peak_ratio, which was not recorded
    assert "ran for 5 min in all on `fer2013`" in page
    dropdown = page[page.index(":::{admonition} Every value Lesson 4 recorded"):]
    assert ":class: dropdown" in dropdown and "| `attention_peak_row` | 40 |" in dropdown
    assert dropdown.rstrip().endswith(":::")


def test_every_recorded_lesson_fills_its_overview_lines():
    # The committed results file against the overview templates: a lesson that renames a glued value,
    # or a template with a typo, would silently drop its line from the Results page.
    entries = results.load_results(REPO_ROOT / "results" / "fer2013.json")["entries"]
    lessons = {key.split("/", 1)[1]: entry["values"] for key, entry in entries.items()
               if key.startswith("lesson/")}
    assert {"07_demo", "09_labeller"} <= set(lessons)
    for stem, values in lessons.items():
        assert stem in results.HEADLINES, f"{stem} is recorded but has no overview line"
        assert len(results.lesson_headlines(stem, values)) == len(results.HEADLINES[stem]), stem


@pytest.mark.slow
def test_a_changed_lesson_trains_anew_instead_of_loading_the_earlier_runs_model(tmp_path, capsys):
    """fit_or_load would load the model the lesson's previous version saved; the cached build deletes it."""
    course = tmp_path / "course"
    lesson = _tiny_lesson(course / "notebooks")
    notebook = nbformat.read(lesson, as_version=4)
    notebook.cells[1].source += "\nmodel_path = 'model.txt'"
    notebook.cells.append(nbformat.v4.new_code_cell(
        "from pathlib import Path\ntrained = not Path(model_path).exists()\n"
        "if trained:\n    Path(model_path).write_text(str(num_epochs))\n"
        "glue('trained', int(trained), display=False)\n"
        "glue('model_epochs', int(Path(model_path).read_text()), display=False)"))
    nbformat.write(notebook, lesson)
    (course / "book").mkdir()
    (course / "book" / "_config.yml").write_text("title: x\n")
    faces = tmp_path / "faces"
    (faces / "train" / "happy").mkdir(parents=True)
    arguments = ["notebooks", "run", "--checkout", str(course), "--data", str(faces), "--record",
                 "-p", "num_epochs"]

    def recorded():
        entries = results.load_results(course / "results" / "fer2013.json")["entries"]
        return entries["lesson/01_tiny"]["values"]

    assert main([*arguments, "4"]) == 0
    assert (recorded()["trained"], recorded()["model_epochs"]) == (1, 4)
    capsys.readouterr()
    assert main([*arguments, "5"]) == 0  # another budget: the 4-epoch model must not be loaded
    assert (recorded()["trained"], recorded()["model_epochs"]) == (1, 5)
    assert "removed model_path = " in capsys.readouterr().err
    assert main([*arguments, "5"]) == 0  # unchanged: the cached page, with its model kept
    assert (course / "artifacts" / "faces-full" / "cnn.keras").read_text() == "5"  # the injected path


def _record_many(path: str, prefix: str, count: int, start) -> None:
    start.wait(120)  # both processes write at once, not one after the other
    for number in range(count):
        results.record_result(f"model/{prefix}-{number}", _model_entry(), path)


def test_two_processes_recording_at_once_lose_no_entry(tmp_path):
    """A long experiment and a real-data book build record into one file at the same time: each
    write reads the file, adds its entry and writes it back, so without a lock one process's entry
    can be overwritten by the other's older copy."""
    import multiprocessing

    path = tmp_path / "results" / "fer2013.json"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [context.Process(target=_record_many, args=(str(path), prefix, 100, start))
               for prefix in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    entries = results.load_results(path)["entries"]
    assert len(entries) == 200, f"{200 - len(entries)} of 200 entries lost"
    assert sorted(path.parent.iterdir()) == [path.parent / ".fer2013.json.lock", path]


def test_current_prose_is_refused_when_the_code_cells_differ(tmp_path):
    from fercourse.course.lesson_cache import with_current_prose

    ran = _tiny_lesson(tmp_path / "ran")
    now = _tiny_lesson(tmp_path / "now", body="x = 0.5", prose=("# Tiny lesson, revised",))
    assert not with_current_prose(ran, now, tmp_path / "out.ipynb")
    assert not (tmp_path / "out.ipynb").exists()
    now = _tiny_lesson(tmp_path / "now", prose=("# Tiny lesson, revised",))
    assert with_current_prose(ran, now, tmp_path / "out.ipynb")
    assert nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].source == "# Tiny lesson, revised"
