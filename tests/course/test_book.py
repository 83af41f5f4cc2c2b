"""The course book: sources, the guarded build, and the book built from the executed lessons."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from fercourse.course import book

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_config_never_executes_and_cites_from_the_bib():
    config = yaml.safe_load((REPO_ROOT / "book" / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["bibtex_bibfiles"] == ["references.bib"]
    bib = (REPO_ROOT / "book" / "references.bib").read_text()
    assert "@inproceedings{goodfellow2013challenges" in bib
    assert "Challenges in Representation Learning: A Report on Three Machine Learning Contests" in bib


def test_toc_lists_lessons_and_course_pages():
    toc = yaml.safe_load((REPO_ROOT / "book" / "_toc.yml").read_text())
    assert toc["root"] == "intro"
    chapters = [entry for part in toc["parts"] for entry in part["chapters"]]
    assert {"glob": "lessons/[0-9][0-9]_*"} in chapters
    files = {entry["file"] for entry in chapters if "file" in entry}
    assert files == {"setup", "assignments", "results", "ethics", "model_card", "instructor_guide",
                     "references"}
    for name in files | {"intro"}:
        assert (REPO_ROOT / "book" / f"{name}.md").is_file()


def test_landing_page_covers_what_a_newcomer_needs():
    intro = (REPO_ROOT / "book" / "intro.md").read_text()
    for needed in ("## What you will learn", "## Prerequisites", "## Getting FER2013",
                   "## Pointing the lessons at your data", "## Running the course locally",
                   "fercourse book build --data", "data = \"sample\""):
        assert needed in intro


def test_shift_headings_leaves_code_alone():
    text = "# A\n```bash\n# comment\n```\n## B\nnot # a heading"
    assert book.shift_headings(text) == "## A\n```bash\n# comment\n```\n### B\nnot # a heading"


def _book_copy(tmp_path: Path) -> Path:
    target = tmp_path / "book"
    shutil.copytree(REPO_ROOT / "book", target, ignore=shutil.ignore_patterns("_build", "lessons"))
    (target / "lessons").mkdir()
    return target


def _executed_lesson(path: Path, outputs: list) -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 / 0", execution_count=1)
    cell.outputs = outputs
    notebook.cells = [nbformat.v4.new_markdown_cell("# Lesson 1"), cell]
    nbformat.write(notebook, path)


def test_build_refuses_without_lessons(tmp_path):
    with pytest.raises(book.BookError, match="no executed lessons; run `fercourse notebooks run` first"):
        book.build_book(_book_copy(tmp_path))


def test_build_refuses_a_lesson_with_an_error(tmp_path):
    folder = _book_copy(tmp_path)
    _executed_lesson(folder / "lessons" / "01_eda.ipynb",
                     [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                             traceback=[])])
    with pytest.raises(book.BookError, match=r"01_eda.ipynb: cell 1 holds an error \(ZeroDivisionError"):
        book.build_book(folder)


def test_build_refuses_an_unexecuted_lesson(tmp_path):
    folder = _book_copy(tmp_path)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(1)")]
    nbformat.write(notebook, folder / "lessons" / "01_eda.ipynb")
    with pytest.raises(book.BookError, match="cell 0 was never executed"):
        book.build_book(folder)


@pytest.mark.slow
def test_warnings_fail_the_build(tmp_path):
    folder = _book_copy(tmp_path)
    _executed_lesson(folder / "lessons" / "01_eda.ipynb", [])
    (folder / "references.md").write_text("# References\n\nSee {cite}`no_such_key`.\n\n"
                                          "```{bibliography}\n```\n")
    with pytest.raises(book.BookError, match="jupyter-book build failed"):
        book.build_book(folder)


def _course_with_results(root: Path) -> Path:
    from fercourse.course.results import record_result

    (root / "notebooks").mkdir(parents=True)
    shutil.copytree(REPO_ROOT / "book", root / "book", ignore=shutil.ignore_patterns("_build", "lessons"))
    record_result("model/shipped", {"title": "Shipped model", "kind": "model", "split": "test",
                                    "metrics": {"n": 3589, "tta": "shift", "accuracy": 0.6458}},
                  root / "results" / "fer2013.json")
    return root


def test_fragments_quote_the_books_own_checkout(tmp_path):
    course = _course_with_results(tmp_path / "course")
    written = book.write_fragments(course / "book")
    assert [path.name for path in written] == ["_results.md", "_results_models.md", "_results_lessons.md",
                                               "_model_card.md", "_autograder.md"]
    results, models, lessons, card, guide = (path.read_text() for path in written)
    assert "| Shipped model | - | 0.646 |" in models and "{cite}`tang2013deep`" in models
    assert "| Shipped model | test | 3589 | shift | 0.646 |" in results
    assert lessons.startswith("The lessons have not been run on real FER2013 in this checkout yet")
    assert card.startswith("```{note}\nThe model card (`MODEL_CARD.md`) is not in this checkout.")
    (course / "MODEL_CARD.md").write_text("# Model card\n\n## Scores\n")
    card = book.write_fragments(course / "book")[3].read_text()
    assert card == "*From `MODEL_CARD.md` in the repository.*\n\n## Model card\n\n### Scores\n"
    assert guide.startswith("```{note}\nThe autograder's own guide (`autograder/README.md`) is not in this")


def test_fragments_of_a_lone_book_copy_say_what_is_missing(tmp_path):
    results, *_ = (path.read_text() for path in book.write_fragments(_book_copy(tmp_path)))
    assert results.startswith("```{note}\nNo real-FER2013 figures are recorded in this checkout yet")
    course = _course_with_results(tmp_path / "course")
    results, *_ = (path.read_text() for path in book.write_fragments(tmp_path / "book", course=course))
    assert "| Shipped model |" in results


def test_cli_course_option_builds_that_checkouts_book(tmp_path):
    course = _course_with_results(tmp_path / "course")
    completed = subprocess.run([sys.executable, "-m", "fercourse", "book", "build", "--no-run", "--checkout",
                                str(course)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert completed.returncode == 1
    assert f"{course.resolve() / 'book' / 'lessons'}: no executed lessons" in completed.stderr


def test_cli_help_and_missing_lessons(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "fercourse", "book", "build", "--help"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
    assert "--no-run" in completed.stdout and "--quick" in completed.stdout and "--data" in completed.stdout
    assert "--course DIR" in completed.stdout and "--only NAME" in completed.stdout


# ---- the book built from the shared quick run (conftest.py) -----------------------------------

@pytest.mark.slow
def test_book_has_every_lesson_page_with_images(built_book, executed_lessons):
    html = built_book.parent
    assert built_book.name == "index.html" and built_book.is_file()
    for name in executed_lessons.results:
        page = html / "lessons" / f"{name}.html"
        assert page.is_file(), f"no page for {name}"
        sources = re.findall(r'<img[^>]+src="([^"]+)"', page.read_text())
        assert sources, f"{name}: no image on the page"
        for source in sources:
            assert not source.startswith("http"), f"{name}: remote image {source}"
            assert (page.parent / source).resolve().stat().st_size > 1000


@pytest.mark.slow
def test_book_pages_link_and_cite(built_book):
    html = built_book.parent
    intro = (html / "intro.html").read_text()
    assert "lessons/01_eda.html" in intro and "lessons/05_cnn.html" in intro
    references = (html / "references.html").read_text()
    assert "challenges in representation learning" in references.lower() and "Goodfellow" in references
    eda = (html / "lessons" / "01_eda.html").read_text()
    assert "references.html#id" in eda or "goodfellow2013challenges" in eda  # the {cite} became a link
    for page in ("results.html", "instructor_guide.html"):
        assert (html / page).is_file()
    # browsers ask for /favicon.ico on a first visit: a 404 there is a console error
    assert (html / "favicon.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    cnn = re.sub(r"<[^>]+>", "", (html / "lessons" / "05_cnn.html").read_text())
    assert "Training recipes on real FER2013" in cnn
    assert "fercourse train --data /path/to/fer2013 --recipe" in cnn
    guide = re.sub(r"<[^>]+>", "", (html / "instructor_guide.html").read_text())  # code is highlighted
    assert "fercourse data prepare" in guide
