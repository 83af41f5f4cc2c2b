"""``fercourse grade new``: a new autograded assignment from the course's notebook template.

The template is the shape a1 and a2 share, built here with nbformat so that every cell carries
its nbgrader metadata: intro, imports, one ``parameters`` cell, loading the released data, the
task cells (reference solutions between ``### BEGIN SOLUTION``/``### END SOLUTION``) each
followed by a graded check, the ``submission_format`` and ``accuracy_tiers`` cells that the
autograder scores outside the kernel (:mod:`fercourse.grading.preprocessors`), for Keras a
``saved_model_predicts`` cell (the submitted model must explain the CSV,
:mod:`fercourse.grading.model_check`), and one written answer graded by hand.

:func:`new_assignment` writes ``source/NAME/NAME.ipynb``, adds NAME to the config's
``exclude_overwriting`` (and ``SnapshotSubmission.model_files`` for Keras) and a placeholder
entry to ``thresholds.json`` that autograde refuses until ``fercourse grade calibrate`` fills it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fercourse.errors import InputError
from fercourse.grading.course_files import (
    edit_config,
    read_thresholds_table,
    write_thresholds_table,
)
from fercourse.grading.preprocessors import ACCURACY_CELL, FORMAT_CELL

KINDS = ("sklearn", "keras")
MODEL_FILE = "model.keras"  #: what a Keras assignment's students submit with the notebook
SUBMISSION_FILE = "submission.csv"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CONFIG_EXCLUDE = "c.Autograde.exclude_overwriting"
_CONFIG_MODELS = "c.SnapshotSubmission.model_files"
DATA_DIR_LINE = 'data_dir = "data"  # train.csv (id,emotion,pixels) and test.csv (id,pixels)'

# The cells scored outside the kernel: what they say in the notebook is replaced at autograde.
FORMAT_SOURCE = '''"""Checks that submission.csv follows the contract: header id,emotion, one integer label
0-6 per test id.

At autograde this cell is judged on the submission.csv you submitted, outside this notebook."""
problems = validate_submission("submission.csv", f"{data_dir}/test.csv")
assert problems == [], "submission.csv is not valid:\\n" + "\\n".join(problems)
print("submission.csv is valid")'''
ACCURACY_SOURCE = '''"""Accuracy of submission.csv on the hidden test labels: one point per accuracy tier
cleared (three tiers).

The autograder scores the submission.csv you submitted, outside this notebook; the tiers are not
published."""
from pathlib import Path

assert Path("submission.csv").is_file(), "write submission.csv first"
### BEGIN HIDDEN TESTS
from fercourse.grading import scored_outside_kernel

print(scored_outside_kernel("accuracy_tiers"))
### END HIDDEN TESTS'''


@dataclass(frozen=True)
class NewAssignment:
    """What :func:`new_assignment` wrote."""

    notebook: Path
    config: Path
    thresholds: Path
    kind: str
    submitted_files: tuple[str, ...]
    points: int


def _meta(grade_id: str, *, solution: bool = False, points: int | None = None, locked: bool | None = None,
          task: bool = False) -> dict:
    """nbgrader's cell metadata (schema 3): graded when ``points`` is given."""
    meta = {"grade": points is not None, "grade_id": grade_id,
            "locked": (not solution) if locked is None else locked, "schema_version": 3,
            "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _solution(body: str, before: str = "", after: str = "") -> str:
    """A solution cell: ``body`` between the markers that ``nbgrader generate_assignment`` strips."""
    indent = re.match(r"\s*", body).group(0)
    parts = [before, f"{indent}### BEGIN SOLUTION\n{body}\n{indent}### END SOLUTION", after]
    return "\n".join(part for part in parts if part)


def build_notebook(name: str, kind: str = "sklearn", title: str | None = None):
    """The template notebook for a new assignment (an ``nbformat`` v4 notebook; not written).

    ``kind`` ``"sklearn"``: a scikit-learn classifier on flat pixels. ``"keras"``: a compiled Keras
    model on ``(48, 48, 1)`` images trained once with ``fit_or_load`` and submitted as
    ``model.keras``. The reference solutions are small working ones (an SGD classifier; a
    one-hidden-layer network): replace them, the intro and the written question with your task.

    Examples
    --------
    >>> notebook = build_notebook("a9_demo", "keras")
    >>> [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if c.metadata["nbgrader"]["grade"]]
    ['model_architecture', 'saved_model_predicts', 'submission_format', 'accuracy_tiers', 'written_answer']
    """
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    if kind not in KINDS:
        raise InputError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    check_name(name)
    title = title or name.replace("_", " ")
    keras = kind == "keras"
    files = f"`{SUBMISSION_FILE}` and `{MODEL_FILE}`" if keras else f"`{SUBMISSION_FILE}`"

    def md(grade_id: str, text: str):
        return new_markdown_cell(text, metadata=_meta(grade_id))

    def code(grade_id: str, text: str, **meta):
        return new_code_cell(text, metadata=_meta(grade_id, **meta))

    first_points = ("the model (1), a saved model that predicts (1)" if keras else "the model (1)")
    cells = [md(f"{name}_intro", f"""# {title}

**Goal:** TODO: one or two sentences on what students build and what they learn from it (which lesson
it follows). Predictions go in `{SUBMISSION_FILE}` (columns `id,emotion`, one row per test id, emotion an
integer 0-6: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral).

Points: {first_points}, a valid `{SUBMISSION_FILE}` (1), test-set accuracy in three hidden tiers (3)
and a written answer (1, graded by hand). Fill in the cells marked `YOUR CODE HERE`; do not rename the
functions.""")]
    if keras:
        cells += [
            code(f"{name}_imports", """import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import keras
import numpy as np

from fercourse import set_seed
from fercourse.data import load
from fercourse.models import fit_or_load, model_input
from fercourse.submission import validate_submission, write_submission"""),
            code(f"{name}_parameters", f"""{DATA_DIR_LINE}
model_path = "{MODEL_FILE}"  # submit this file with the notebook
num_epochs = 10
batch_size = 64
seed = 0"""),
            code(f"{name}_load", """set_seed(seed)
data = load(data_dir)
x_train, y_train = model_input("cnn", data.train.X), data.train.y  # images (n, 48, 48, 1) in [0, 1]
x_test = model_input("cnn", data.test.X)
x_train.shape, x_test.shape"""),
            md(f"{name}_model_intro", """## 1. The model

TODO: say what to build and why. The model takes the images as they are, shaped `(48, 48, 1)`
(the autograder feeds your saved model exactly that), and outputs 7 class probabilities."""),
            code("make_model", _solution("""    model = keras.Sequential([
        keras.Input((48, 48, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(7, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model""", before='''def make_model():
    """Return a compiled Keras model for (48, 48, 1) images with 7 softmax outputs."""'''), solution=True),
            code(f"{name}_model_run", """candidate = make_model()
candidate.summary(line_length=90)"""),
            code("model_architecture", '''"""Checks make_model: image input (48, 48, 1), 7 class
probabilities, compiled."""
assert tuple(candidate.input_shape) == (None, 48, 48, 1), candidate.input_shape
assert tuple(candidate.output_shape) == (None, 7), candidate.output_shape
assert candidate.optimizer is not None and candidate.loss is not None, "compile the model"
### BEGIN HIDDEN TESTS
assert candidate.count_params() > 0
### END HIDDEN TESTS''', points=1),
            md(f"{name}_train_intro", f"""## 2. Train once, then load

The first run trains and saves `{MODEL_FILE}`; every later run (and the autograder) loads it.
Delete the file to train again."""),
            code(f"{name}_train", """model, history = fit_or_load(model_path, make_model, x_train, y_train,
                             epochs=num_epochs, batch_size=batch_size,
                             validation_split=0.1, verbose=2)
print("trained now" if history is not None else f"loaded {model_path}")"""),
            code("saved_model_predicts", '''"""Checks the saved model: the file exists and predicts one
probability row per test face."""
assert Path(model_path).is_file(), f"{model_path} is missing"
probabilities = model.predict(x_test[:8], verbose=0)
assert probabilities.shape == (8, 7), probabilities.shape
assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)''', points=1),
            md(f"{name}_predict_intro", "## 3. Predict the test set"),
            code("predict_test_set", _solution(
                "predictions = model.predict(x_test, batch_size=256, verbose=0).argmax(axis=1)",
                after='write_submission("submission.csv", data.test.ids, predictions)'), solution=True),
        ]
    else:
        cells += [
            code(f"{name}_imports", """import numpy as np

from fercourse.data import as_flat, load
from fercourse.models import build_baseline
from fercourse.submission import validate_submission, write_submission"""),
            code(f"{name}_parameters", f"""{DATA_DIR_LINE}
seed = 0"""),
            code(f"{name}_load", """data = load(data_dir)
X_train, y_train = as_flat(data.train.X), data.train.y  # 2,304 floats in [0, 1] per face
X_test = as_flat(data.test.X)
X_train.shape, X_test.shape"""),
            md(f"{name}_model_intro", """## 1. The model

TODO: say what to build and why. `make_model` returns an unfitted scikit-learn classifier."""),
            code("make_model", _solution('    return build_baseline("sgd", random_state=seed)',
                                         before='''def make_model():
    """Return an unfitted scikit-learn classifier for flat pixels (n, 2304) and labels 0-6."""'''),
                 solution=True),
            code(f"{name}_model_run", """model = make_model().fit(X_train, y_train)
model"""),
            code("model_fitted", '''"""Checks the fitted model: it predicts one label 0-6 per face."""
labels = model.predict(X_train[:8])
assert labels.shape == (8,), labels.shape
assert set(np.asarray(labels).tolist()) <= set(range(7)), labels
### BEGIN HIDDEN TESTS
assert set(np.asarray(model.predict(X_test[:50])).tolist()) <= set(range(7))
### END HIDDEN TESTS''', points=1),
            md(f"{name}_predict_intro", "## 2. Predict the test set"),
            code("predict_test_set", _solution("predictions = model.predict(X_test)",
                                               after='write_submission("submission.csv", data.test.ids, '
                                                     'predictions)'), solution=True),
        ]
    cells += [
        code(FORMAT_CELL, FORMAT_SOURCE, points=1),
        code(ACCURACY_CELL, ACCURACY_SOURCE, points=3),
        md(f"{name}_question", """## Written answer

TODO: one question about the method, answered in a few sentences below (graded by hand)."""),
        new_markdown_cell("TODO: a model answer for the graders (the release replaces it with YOUR ANSWER "
                          "HERE).", metadata=_meta("written_answer", solution=True, points=1)),
        md(f"{name}_submit", f"""## Submit

Check your file before you submit (the same check the autograder makes):

```
fercourse submission validate submission.csv --test data/test.csv
```

Submit this notebook **and** {files}. The autograder re-runs the notebook, but the accuracy points
come from the `{SUBMISSION_FILE}` you submitted, scored against labels you never see."""
           + (f" They count only when the submitted `{MODEL_FILE}` predicts that file." if keras else "")),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                       "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    cells[2].metadata["tags"] = ["parameters"]
    return notebook


def check_name(name: str) -> str:
    """``name`` when it can be an assignment (folder, notebook and nbgrader name); else ``InputError``."""
    if not _NAME.match(name):
        raise InputError(f"assignment name {name!r}: expected lower-case letters, digits and underscores, "
                         "starting with a letter, at most 40 characters (e.g. a3_mlp)")
    return name


def new_assignment(name: str, course: str | Path = "autograder", *, kind: str = "sklearn",
                   title: str | None = None) -> NewAssignment:
    """Write ``course/source/NAME/NAME.ipynb`` from the template and register NAME in the course files.

    Adds NAME to ``c.Autograde.exclude_overwriting`` in ``nbgrader_config.py`` (the files students
    submit) and, for ``kind="keras"``, to ``c.SnapshotSubmission.model_files``; adds
    ``"NAME": {"sample": null, "fer2013": null}`` to ``thresholds.json`` (autograde refuses it until
    ``fercourse grade calibrate`` writes tiers). Every check runs before anything is written.

    Raises
    ------
    InputError
        NAME exists (folder, config or thresholds entry), is not a valid name, or the config does not
        have the expected shape.
    """
    from fercourse.grading.course_files import add_to_config_dict

    course = Path(course)
    config, thresholds = course / "nbgrader_config.py", course / "thresholds.json"
    check_name(name)
    for path in (config, thresholds):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing: expected an nbgrader course folder (like autograder/) "
                                    "with nbgrader_config.py and thresholds.json")
    folder = course / "source" / name
    if folder.exists():
        raise InputError(f"{folder} already exists: not overwriting assignment {name!r} (pick another "
                         "name or remove the folder)")
    notebook = build_notebook(name, kind, title)
    submitted = (SUBMISSION_FILE, MODEL_FILE) if kind == "keras" else (SUBMISSION_FILE,)
    table = read_thresholds_table(thresholds)
    if name in table:
        raise InputError(f"{thresholds} already has an entry {name!r}: remove it first")
    text = config.read_text(encoding="utf-8")  # check both edits before writing anything
    text = add_to_config_dict(text, _CONFIG_EXCLUDE, name, list(submitted), where=str(config))
    if kind == "keras":
        add_to_config_dict(text, _CONFIG_MODELS, name, MODEL_FILE, where=str(config))

    import nbformat

    folder.mkdir(parents=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    edit_config(config, _CONFIG_EXCLUDE, name, list(submitted))
    if kind == "keras":
        edit_config(config, _CONFIG_MODELS, name, MODEL_FILE)
    table[name] = {"sample": None, "fer2013": None}
    write_thresholds_table(thresholds, table)
    points = sum(c.metadata["nbgrader"].get("points", 0) for c in notebook.cells)
    return NewAssignment(path, config, thresholds, kind, submitted, points)
