"""Lesson 9 ("Be the labeller") as committed: the lessons' outline, its glued prose, its exercises.

tests/lessons/test_notebooks.py checks the parameters cell and (slow) runs every lesson, this one
included; its outline check names lessons 01-06, so the same rules are checked here for lesson 9.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from lesson_outline import assert_outline

from fercourse.course import budgets, runner

LESSON = Path(__file__).resolve().parents[2] / "notebooks" / "09_labeller.ipynb"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(LESSON, as_version=4).cells


def test_outline_and_prose_before_every_short_code_cell(cells):
    assert_outline(cells, "# Lesson 9: Be the labeller")


def test_parameters_choose_the_courses_faces(cells):
    values = runner.lesson_parameters(LESSON)
    expected = {"data": "sample", "quick": False, "seed": 0, "labelling_faces": 100, "labelling_seed": 0}
    assert expected.items() <= values.items()
    assert "num_epochs" not in values  # it trains nothing
    assert "09_labeller" in budgets.REAL_DATA_BUDGETS


def test_every_glued_name_the_prose_quotes_is_glued_by_a_cell(cells):
    source = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
    quoted = {name for cell in cells if cell.cell_type == "markdown"
              for name in re.findall(r"\{glue:text\}`([a-z0-9_]+)", cell.source)}
    glued = set(re.findall(r'glue\(f?"([a-z0-9_{}]+)"', source))
    glued |= set(re.findall(r'"((?:class|labeller)_[a-z_]+)"', source))  # names glued in a loop
    literal = {name for name in glued if "{" not in name}
    patterns = [re.compile(re.sub(r"\{[a-z_]+\}", "[a-z0-9_]+", name) + "$") for name in glued - literal]
    missing = {name for name in quoted if name not in literal and not any(p.match(name) for p in patterns)}
    assert quoted and not missing, f"quoted in prose but never glued: {sorted(missing)}"


def test_lesson_teaches_agreement_and_presents_the_simulation_as_one(cells):
    text = "\n".join(cell.source for cell in cells)
    for needle in ("labelling.labelling_set", "labeller_app(", "predict_proba(shipped", "write_labels",
                   "read_class_labels", "class_agreement", "{cite}`goodfellow2013challenges`", "65 ± 5 %",
                   "\\kappa = \\frac{\\bar P - \\bar P_e}{1 - \\bar P_e}", "simulated labeller",
                   "not measurements of people", "fear read as sad", "disgust read as angry"):
        assert needle in text, needle
    prose = [cell.source for cell in cells if cell.cell_type == "markdown"]
    solutions = [cell for cell in cells if cell.metadata.get("tags") == ["solution", "hide-cell"]]
    exercises = [source for source in prose if ":::{admonition} Exercise 9." in source]
    dropdowns = [source for source in prose if ":class: dropdown" in source]
    assert len(exercises) == 4 and len(dropdowns) == 4 and len(solutions) == 3
