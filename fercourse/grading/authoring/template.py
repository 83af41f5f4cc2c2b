"""``fercourse grade new``: a new autograded assignment, copied from the course's template notebooks.

As nbgrader's quickstart copies its example course, ``grade new`` copies a template file from
``templates/`` next to this module: ``sklearn.ipynb`` (a scikit-learn classifier on flat pixels) or
``keras.ipynb`` (a compiled Keras model on ``(48, 48, 1)`` images trained once with ``fit_or_load``
and submitted as ``model.keras``). Both are the shape a1 and a2 share, every cell with its
nbgrader metadata: intro, imports, one ``parameters`` cell, loading the released data, the task
cells (reference solutions between ``### BEGIN SOLUTION``/``### END SOLUTION``) each followed by a
graded check, the ``submission_format`` and ``accuracy_tiers`` cells that the autograder scores
outside the kernel (:mod:`fercourse.grading.plugins.preprocessors`), for Keras a
``saved_model_predicts`` cell (the submitted model must explain the CSV,
:mod:`fercourse.grading.plugins.model_check`), and one written answer graded by hand. The only
substitutions are ``{{name}}`` (the assignment) and ``{{title}}``. Edit the template files to
change every future assignment.

:func:`new_assignment` writes ``source/NAME/NAME.ipynb``, registers NAME in the course's
``assignments.json`` (the files students submit; the model file for Keras) and adds a placeholder
entry to ``thresholds.json`` that autograde refuses until ``fercourse grade calibrate`` fills it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from fercourse.errors import InputError
from fercourse.grading.authoring.course_files import (
    add_assignment,
    read_thresholds_table,
    write_thresholds_table,
)
from fercourse.grading.instructor_files import ASSIGNMENTS_FILE, THRESHOLDS_FILE, read_assignments

KINDS = ("sklearn", "keras")
MODEL_FILE = "model.keras"  #: what a Keras assignment's students submit with the notebook
SUBMISSION_FILE = "submission.csv"
TEMPLATES = Path(__file__).parent / "templates"
"""The template notebooks, one per kind (``<kind>.ipynb``)."""
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class NewAssignment:
    """What :func:`new_assignment` wrote."""

    notebook: Path
    assignments: Path
    thresholds: Path
    kind: str
    submitted_files: tuple[str, ...]
    points: int


def check_name(name: str) -> str:
    """``name`` when it can be an assignment (folder, notebook and nbgrader name); else ``InputError``.

    Parameters
    ----------
    name : str

    Returns
    -------
    str

    Examples
    --------
    >>> check_name("a3_mlp")
    'a3_mlp'
    """
    if not _NAME.match(name):
        raise InputError(f"assignment name {name!r}: expected lower-case letters, digits and underscores, "
                         "starting with a letter, at most 40 characters (e.g. a3_mlp)")
    return name


def render_template(name: str, kind: str = "sklearn", title: str | None = None) -> str:
    """The template notebook of ``kind`` for assignment ``name``, as the text of an ``.ipynb`` file.

    Parameters
    ----------
    name : str
        The assignment (checked by :func:`check_name`).
    kind : str
        ``"sklearn"`` or ``"keras"``.
    title : str, optional
        The notebook's title (default: ``name`` with spaces).

    Returns
    -------
    str

    Examples
    --------
    >>> import nbformat
    >>> notebook = nbformat.reads(render_template("a9_demo", "keras"), as_version=4)
    >>> [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if c.metadata["nbgrader"]["grade"]]
    ['model_architecture', 'saved_model_predicts', 'submission_format', 'accuracy_tiers', 'written_answer']
    """
    if kind not in KINDS:
        raise InputError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    check_name(name)
    title = title or name.replace("_", " ")
    text = (TEMPLATES / f"{kind}.ipynb").read_text(encoding="utf-8")
    # the name is letters, digits and underscores; the title is put in as a JSON string's content
    return text.replace("{{name}}", name).replace("{{title}}", json.dumps(title)[1:-1])


def new_assignment(name: str, course: str | Path = "autograder", *, kind: str = "sklearn",
                   title: str | None = None) -> NewAssignment:
    """Write ``course/source/NAME/NAME.ipynb`` from the template and register NAME in the course files.

    Adds NAME to ``assignments.json`` (the files students submit; for ``kind="keras"`` also the
    model file the grader checks) and ``"NAME": {"sample": null, "fer2013": null}`` to
    ``thresholds.json`` (autograde refuses it until ``fercourse grade calibrate`` writes tiers).
    Every check runs before anything is written.

    Parameters
    ----------
    name : str
        The assignment's name.
    course : path-like
        The nbgrader course folder.
    kind : str
        ``"sklearn"`` or ``"keras"``.
    title : str, optional
        The notebook's title.

    Returns
    -------
    NewAssignment

    Raises
    ------
    InputError
        NAME exists (folder, assignments or thresholds entry) or is not a valid name.
    """
    import nbformat

    course = Path(course)
    assignments, thresholds = course / ASSIGNMENTS_FILE, course / THRESHOLDS_FILE
    check_name(name)
    for path in (assignments, thresholds):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing: expected an nbgrader course folder (like autograder/) "
                                    f"with {ASSIGNMENTS_FILE} and {THRESHOLDS_FILE}")
    folder = course / "source" / name
    if folder.exists():
        raise InputError(f"{folder} already exists: not overwriting assignment {name!r} (pick another "
                         "name or remove the folder)")
    text = render_template(name, kind, title)
    submitted = (SUBMISSION_FILE, MODEL_FILE) if kind == "keras" else (SUBMISSION_FILE,)
    table = read_thresholds_table(thresholds)
    if name in table:
        raise InputError(f"{thresholds} already has an entry {name!r}: remove it first")
    if name in read_assignments(assignments):
        raise InputError(f"{assignments} already has an entry {name!r}: remove it first")

    folder.mkdir(parents=True)
    path = folder / f"{name}.ipynb"
    path.write_text(text, encoding="utf-8")
    add_assignment(assignments, name, submitted, MODEL_FILE if kind == "keras" else None)
    table[name] = {"sample": None, "fer2013": None}
    write_thresholds_table(thresholds, table)
    notebook = nbformat.reads(text, as_version=4)
    points = sum(c.metadata["nbgrader"].get("points", 0) for c in notebook.cells)
    return NewAssignment(path, assignments, thresholds, kind, submitted, points)
