"""The outline rule every lesson keeps, checked by the tests of the lessons added after 01-06."""

from __future__ import annotations

OUTLINE = ("## Setup", "## Parameters", "## Data", "## Model", "## Evaluate", "## Summary", "## Exercises")


def assert_outline(cells, title: str) -> None:
    """A ``# Lesson N: ...`` title with its goal, the outline's sections in order, and prose before
    every code cell of fewer than 16 lines."""
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith(title)
    assert "**Goal:**" in cells[0].source
    headings = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    positions = [headings.find(section) for section in OUTLINE]
    assert -1 not in positions and positions == sorted(positions)
    for before, cell in zip(cells, cells[1:]):
        if cell.cell_type == "code":
            assert before.cell_type == "markdown", cell.source[:60]
            assert cell.source.count("\n") < 16, cell.source[:60]
