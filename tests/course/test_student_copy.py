"""Student copies of the lessons: no raw MyST, solutions folded and never run, glued values written in."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fercourse.course import runner
from fercourse.course.student_copy import (
    QUIET_IMPORT,
    SOLUTION_TAG,
    glue_values,
    markdown_for_jupyter,
    read_citations,
    student_notebook,
    write_student_copies,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LESSONS = [path for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
           if runner.LESSON_PATTERN.match(path.name)]
#: What JupyterLab would print raw: MyST roles and directive fences.
RAW_MYST = re.compile(r"\{(glue|cite|doc|ref|download|admonition|note)[:a-z]*\}|^\s*:::|^\s*```\{",
                      re.MULTILINE)


def _markdown(notebook) -> str:
    """The prose of a notebook, code blocks (solutions' code) left out."""
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return re.sub(r"^```(python|bash)\n.*?^```$", "", text, flags=re.MULTILINE | re.DOTALL)


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds, names it reads), IPython's ``%``/``!`` lines left out."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    bound, read = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return bound, read


def solution_only_names(notebook) -> list[str]:
    """``"cell N reads NAME"`` for each name a non-solution code cell reads that only an earlier solution
    cell binds: what makes Run All of a student copy (solutions never run) fail with a NameError."""
    from_solutions, from_lesson, problems = set(), set(), []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        bound, read = _names(cell.source)
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            from_solutions |= bound
            continue
        problems += [f"cell {index + 1} reads {name}" for name in sorted(read & from_solutions - from_lesson)]
        from_lesson |= bound
    return problems


def test_solution_only_names_finds_a_lesson_cell_that_needs_a_solution():
    cells = [nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_code_cell("import numpy as np\ny = x + 1", metadata={"tags": [SOLUTION_TAG]}),
             nbformat.v4.new_code_cell("%matplotlib inline\nprint(x, y, np.pi)")]
    assert solution_only_names(nbformat.v4.new_notebook(cells=cells)) == ["cell 3 reads np", "cell 3 reads y"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.stem)
def test_no_lesson_cell_needs_a_solution_to_have_run(path):
    """Run All of a student copy skips the solutions: no later cell may read what only they define."""
    assert solution_only_names(nbformat.read(path, as_version=4)) == []


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.stem)
def test_solution_code_is_tagged_and_folded_in_the_book(path):
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and SOLUTION_TAG in tags:
            # hide-cell: the book folds input and output behind one click; hide-input alone shows the answer
            assert "hide-cell" in tags, f"{path.name} cell {index}: a solution must be tagged hide-cell"
            assert "Solution" in cells[index - 1].source, f"{path.name} cell {index}: no 'Solution' before it"
        if cell.cell_type == "code":
            assert "hide-input" not in tags, f"{path.name} cell {index}: hide-input alone shows the output"


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.stem)
def test_student_copy_has_no_raw_myst_and_no_solution_to_run(path):
    lesson = nbformat.read(path, as_version=4)
    copy = student_notebook(lesson, citations=read_citations(REPO_ROOT / "book" / "references.bib"))
    raw = RAW_MYST.findall(_markdown(copy))
    assert not raw, f"{path.name}: raw MyST left in the student copy: {raw}"
    solutions = [cell for cell in lesson.cells if SOLUTION_TAG in cell.metadata.get("tags", [])]
    code = [cell.source for cell in copy.cells if cell.cell_type == "code"]
    assert not any(SOLUTION_TAG in cell.metadata.get("tags", []) for cell in copy.cells
                   if cell.cell_type == "code")
    assert all(solution.source not in code for solution in solutions), "a solution stayed a code cell"
    folded = [cell.source for cell in copy.cells if cell.cell_type == "markdown"
              and cell.source.startswith("<details>") and "```python" in cell.source]
    assert len(folded) >= len(solutions)
    for solution in solutions:  # the code is still there to read, inside a folded block
        assert any(solution.source.strip() in block for block in folded)
    # every other code cell is kept as it is, in order; the first that imports Keras does it quietly
    kept = [cell.source for cell in lesson.cells if cell.cell_type == "code" and cell not in solutions]
    quiet = [index for index, source in enumerate(code) if source.startswith(QUIET_IMPORT)]
    assert [source.removeprefix(QUIET_IMPORT) for source in code] == kept
    imports_keras = [index for index, source in enumerate(kept) if re.search(r"^import (keras|tensorflow)\b",
                                                                              source, re.MULTILINE)]
    assert quiet == imports_keras[:1]
    assert nbformat.validate(copy) is None


def test_glued_values_are_written_in_with_their_source():
    executed = nbformat.v4.new_notebook()
    glued = nbformat.v4.new_code_cell("glue(...)")
    glued.outputs = [nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "0.61234",
                              "application/papermill.record/text/html": "0.61234"},
        metadata={"scrapbook": {"name": "test_accuracy", "mime_prefix": "application/papermill.record/"}}),
        nbformat.v4.new_output("display_data", data={"application/papermill.record/text/plain": "'bn'"},
                               metadata={"scrapbook": {"name": "variant", "mime_prefix": ""}})]
    executed.cells = [
        nbformat.v4.new_markdown_cell("*This page was run on the built-in synthetic sample.*",
                                      metadata={"tags": ["build-note"]}),
        glued,
        nbformat.v4.new_markdown_cell("The {glue:text}`variant` network scored "
                                      "{glue:text}`test_accuracy:.3f`."),
    ]
    assert glue_values(executed) == {"test_accuracy": "0.61234", "variant": "'bn'"}
    copy = student_notebook(executed, glue=glue_values(executed),
                            glue_source="the course's run on the sample")
    text = copy.cells[-1].source
    assert text.startswith("The **bn** network scored **0.612**.")
    assert "the course's run on the sample" in text and "Your run computes its own" in text
    assert copy.cells[0].outputs == []  # the build note is dropped, outputs too
    # without a value the prose names what the run computes
    assert markdown_for_jupyter("scored {glue:text}`test_accuracy:.3f`") == "scored `test_accuracy`"


def test_written_solution_becomes_a_closed_details_block():
    text = markdown_for_jupyter(":::{admonition} Solution\n:class: dropdown\nUse `oversample`.\n\n"
                                "```python\nx = 1\n```\n:::")
    assert text.startswith("<details><summary><b>Solution</b> (click to show)</summary>")
    assert "```python\nx = 1\n```" in text and text.endswith("</details>") and "open" not in text


def test_citations_read_from_the_books_bib():
    citations = read_citations(REPO_ROOT / "book" / "references.bib")
    assert citations["goodfellow2013challenges"] == "Goodfellow et al. (2013)"
    assert citations["euaiact2024"] == "European Parliament and Council of the European Union (2024)"
    assert markdown_for_jupyter("{cite:t}`goodfellow2013challenges` found", citations=citations) == \
        "Goodfellow et al. (2013) found"
    assert markdown_for_jupyter("noisy {cite:p}`goodfellow2013challenges`", citations=citations) == \
        "noisy (Goodfellow et al., 2013)"


def test_cli_exports_every_lesson(tmp_path):
    completed = subprocess.run([sys.executable, "-c", "import sys; from fercourse.cli import main; "
                                "sys.exit(main(sys.argv[1:]))", "student", "export", "--checkout",
                                str(REPO_ROOT), "--lessons", str(REPO_ROOT / "notebooks"), "--out",
                                str(tmp_path)], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert sorted(path.name for path in tmp_path.glob("*.ipynb")) == [path.name for path in LESSONS]
    assert f"jupyter lab {tmp_path}" in completed.stdout


def test_export_refuses_a_folder_without_lessons(tmp_path):
    with pytest.raises(FileNotFoundError, match="no lessons"):
        write_student_copies(tmp_path, tmp_path / "out")


def test_glue_runs_without_myst_nb(monkeypatch, capsys):
    """A student's `pip install fercourse` has no myst-nb: the lessons' glue calls must still run."""
    from fercourse.glue import glue

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now raises ImportError
    assert glue("test_accuracy", 0.61, display=False) is None
    glue("test_accuracy", 0.61)  # display=True shows the value, as myst-nb's glue does
    assert "0.61" in capsys.readouterr().out


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.stem)
def test_student_copy_names_no_maintainers_folder(path):
    """A student copy shows no path of the course machines' folder layout (../shared/fer2013, /work/...)."""
    copy = student_notebook(nbformat.read(path, as_version=4))
    text = "\n".join(cell.source for cell in copy.cells)
    assert not re.findall(r"(?:\.\./)+shared/|/work/", text), path.name


def test_the_note_on_glued_values_sits_under_the_paragraph_that_quotes_them():
    lesson = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Classes moved: {glue:text}`moved_count`.\n\n## Trap 2: imbalance\n\nCount the images.")])
    text = student_notebook(lesson).cells[0].source
    assert text.index("Names in code font") < text.index("## Trap 2") < text.index("Count the images")
    assert "fercourse: note" not in text
    exercise = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "## Exercises\n\n:::{admonition} Exercise 1.1\nBeat {glue:text}`floor:.2f`.\n:::\n")])
    text = student_notebook(exercise, glue={"floor": "0.25"}).cells[0].source
    assert text.rstrip().endswith("in the code cells above.</sub>") and "Beat **0.25**." in text
