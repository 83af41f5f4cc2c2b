"""Lesson 8 ("Numbers you can trust") as committed: the lessons' outline, its glued prose, its budget.

tests/test_notebooks.py checks the parameters cell and (slow) runs every lesson, this one included;
its outline check names lessons 01-06, so the same rules are checked here for lesson 8.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from lesson_outline import assert_outline

from fercourse.course import runner

LESSON = Path(__file__).resolve().parents[2] / "notebooks" / "08_trust.ipynb"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(LESSON, as_version=4).cells


def test_outline_and_prose_before_every_short_code_cell(cells):
    assert_outline(cells, "# Lesson 8: ")


def test_parameters_are_the_lessons_shared_ones(cells):
    values = runner.lesson_parameters(LESSON)
    assert {"data": "sample", "quick": False, "seed": 0}.items() <= values.items()
    assert {"num_epochs", "num_trials", "forest_trees", "robustness_faces"} <= set(values)


def test_every_glued_name_the_prose_quotes_is_glued_by_a_cell(cells):
    source = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
    quoted = {name for cell in cells if cell.cell_type == "markdown"
              for name in re.findall(r"\{glue:text\}`([a-z0-9_]+)", cell.source)}
    glued = set(re.findall(r'glue\(f?"([a-z0-9_{}]+)"', source))
    literal = {name for name in glued if "{" not in name}
    patterns = [re.compile(re.sub(r"\{[a-z_]+\}", "[a-z0-9_]+", name) + "$") for name in glued - literal]
    missing = {name for name in quoted if name not in literal and not any(p.match(name) for p in patterns)}
    assert quoted and not missing, f"quoted in prose but never glued: {sorted(missing)}"


def test_lesson_measures_each_mistake_with_the_package_helpers(cells):
    text = "\n".join(cell.source for cell in cells)
    for needle in ("seen_in_train", "find_duplicates", "oversample", "train_val_split", "folder_to_canonical",
                   "FOLDER_ORDER", "perturb.robustness", "plot_robustness", "pretrained()",
                   "sqrt{2 \\ln k}", "What each mistake is worth"):
        assert needle in text, needle
    prose = [cell.source for cell in cells if cell.cell_type == "markdown"]
    solutions = [cell for cell in cells if "solution" in cell.metadata.get("tags", [])]
    exercises = [source for source in prose if ":::{admonition} Exercise 8." in source]
    dropdowns = [source for source in prose if ":class: dropdown" in source]
    assert len(exercises) == 4 and len(dropdowns) == 4 and len(solutions) == 3
