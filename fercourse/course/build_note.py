"""The note under an executed lesson's title saying what produced its outputs, and the hidden parameters cell.

A lesson page built on the sample must not be read as FER2013 results, and one built on real data
must say which budget produced it: :func:`describe_build` writes that sentence, and
:func:`mark_injected_cell` puts it under the title and hides papermill's injected-parameters cell.
"""

from __future__ import annotations

import os
from pathlib import Path

from fercourse.config import is_sample

BUILD_NOTE_TAG = "build-note"
#: Parameters that are paths, not budget, and stay out of the note.
PATH_PARAMETERS = ("data", "quick", "model_path", "submission_path")


def describe_build(values: dict[str, object]) -> str:
    """One markdown line saying what data and budget produced a lesson's outputs.

    Examples
    --------
    >>> describe_build({"data": "sample", "quick": True, "num_epochs": 8})
    '*This page was run on the built-in synthetic sample, in quick mode (`num_epochs = 8`): its \
figures show the method, not FER2013 results.*'
    >>> describe_build({"data": "../../shared/fer2013", "num_epochs": 30})
    '*This page was run on `fer2013` with `num_epochs = 30`.*'
    >>> describe_build({})
    "*This page was run with the lesson's own parameters.*"
    """
    data = values.get("data")
    if data is None:
        where = "with the lesson's own parameters"
    elif is_sample(data):
        where = "on the built-in synthetic sample"
    else:
        where = f"on `{Path(str(data)).name}`"
    budget = ", ".join(f"`{name} = {value!r}`" for name, value in values.items()
                       if name not in PATH_PARAMETERS)
    if values.get("quick"):
        where += f", in quick mode ({budget})" if budget else ", in quick mode"
    elif budget:
        where += f" with {budget}"
    caveat = ": its figures show the method, not FER2013 results" if is_sample(data) else ""
    return f"*This page was run {where}{caveat}.*"


def mark_injected_cell(executed: str | os.PathLike, values: dict[str, object]) -> None:
    """Hide papermill's injected-parameters cell in an executed lesson and say, under the title,
    what the run used (:func:`describe_build`). The book shows the note, never the cell."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    notebook.cells = [cell for cell in notebook.cells if BUILD_NOTE_TAG not in cell.metadata.get("tags", [])]
    note = nbformat.v4.new_markdown_cell(describe_build(values), metadata={"tags": [BUILD_NOTE_TAG]})
    notebook.cells.insert(1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0, note)
    nbformat.write(notebook, executed)


__all__ = ["BUILD_NOTE_TAG", "describe_build", "mark_injected_cell"]
