"""Helpers shared by the autograder end-to-end tests: read scores and outputs of an autograded course."""

from __future__ import annotations


def grades(course, assignment: str, notebook: str, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", "fercourse") as gradebook:
        submission = gradebook.find_submission_notebook(notebook, assignment, student)
        return {grade.name: grade.score for grade in submission.grades}


def cell_text(course, student: str, assignment: str, grade_id: str) -> str:
    import nbformat

    notebook = nbformat.read(course.root / "autograded" / student / assignment / f"{assignment}.ipynb", 4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return "\n".join(str(o.get("text", "")) + str(o.get("evalue", ""))
                             + "".join(o.get("traceback", []))
                             + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)
    raise KeyError(grade_id)


def marked_processes(marker: str) -> list[int]:
    """Host processes whose command line holds ``marker`` (a daemon a student's kernel started)."""
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found
