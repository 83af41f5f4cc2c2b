"""The labelling app: a student labels the course's faces one at a time, then sees how they did.

Built from plain ipywidgets (Image, Button, IntProgress, Text, HTML, VBox), with no matplotlib
backend and no ``Output`` capture, so it renders the same in JupyterLab, Notebook 7 and Voila, and
can be driven from Python (``app.buttons["happy"].click()``, ``app.scores_button.click()``).

The scores compare the student's answers with FER2013's labels and with the shipped model's
answers on the same faces (or any model's, through :func:`fercourse.models.predict_proba`); each
time they are shown, the answers so far are written to the student's CSV
(:func:`fercourse.demo.labelling.write_labels`) and checked with the assignments' validator.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd

from fercourse.demo.labelling import (
    LabellerScores,
    LabellingSession,
    LabellingSet,
    score_labels,
    student_file,
    write_labels,
)
from fercourse.labels import EMOTIONS

__all__ = ["LabellerApp", "labeller_app", "model_labels"]

#: How large a 48x48 face is shown (nearest-neighbour upscaling keeps its pixels honest).
DISPLAY_PIXELS = 240


def model_labels(faces: LabellingSet, model=None) -> np.ndarray:
    """The model's answer for each face (the shipped model when ``model`` is None), via ``predict_proba``."""
    from fercourse.models import predict_proba, pretrained

    return predict_proba(pretrained() if model is None else model, faces.images).argmax(axis=1)


def face_png(image: np.ndarray, pixels: int = DISPLAY_PIXELS) -> bytes:
    """One 48x48 face as PNG bytes, enlarged to ``pixels`` square."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    face = Image.fromarray(np.asarray(image, dtype=np.uint8))
    face.resize((pixels, pixels), Image.NEAREST).save(buffer, "png")
    return buffer.getvalue()


class LabellerApp(widgets.VBox):
    """The labelling app (see :func:`labeller_app`).

    Attributes
    ----------
    session : LabellingSession
        The answers so far.
    buttons : dict of str to ipywidgets.Button
        One per emotion, in canonical order.
    back_button, skip_button, scores_button : ipywidgets.Button
    student : ipywidgets.Text
        The student's name; it names the CSV (``labels_<name>.csv`` in ``folder``).
    results : ipywidgets.VBox
        The scores, once asked for (or once every face has an answer).
    """

    def __init__(self, faces: LabellingSet, model_answers, *, folder: str | Path = ".",
                 student: str = "") -> None:
        self.faces = faces
        self.model_answers = np.asarray(model_answers, dtype=int)
        if len(self.model_answers) != len(faces):
            raise ValueError(f"{len(self.model_answers)} model answers for {len(faces)} faces: "
                             "expected one per face")
        self.folder = Path(folder)
        self.session = LabellingSession(faces)
        self.last_scores: LabellerScores | None = None
        self.face = widgets.Image(format="png", layout=widgets.Layout(width=f"{DISPLAY_PIXELS}px"))
        self.face.add_class("fercourse-face")
        self.progress = widgets.IntProgress(min=0, max=len(faces), description="labelled")
        self.status = widgets.HTML()
        self.status.add_class("fercourse-progress")
        self.buttons = {name: widgets.Button(description=name, layout=widgets.Layout(width="88px"))
                        for name in EMOTIONS}
        for name, button in self.buttons.items():
            button.on_click(lambda _button, name=name: self._answer(name))
        self.back_button = widgets.Button(description="Back", icon="arrow-left")
        self.skip_button = widgets.Button(description="Skip", icon="arrow-right",
                                          tooltip="come back to it later")
        self.back_button.on_click(lambda _button: self._move(self.session.back))
        self.skip_button.on_click(lambda _button: self._move(self.session.skip))
        self.student = widgets.Text(value=student, description="Your name", placeholder="names your CSV")
        self.scores_button = widgets.Button(description="Show my scores", button_style="primary")
        self.scores_button.on_click(lambda _button: self.show_scores())
        self.results = widgets.VBox(layout=widgets.Layout(margin="8px 0 0 0"))
        self.results.add_class("fercourse-results")
        intro = widgets.HTML("<b>Which emotion does this face show?</b> Click one; Skip leaves a face for "
                             "later, Back returns to the face before.")
        super().__init__([intro, widgets.HBox([self.face, widgets.VBox([self.progress, self.status])]),
                          widgets.HBox(list(self.buttons.values())),
                          widgets.HBox([self.back_button, self.skip_button]),
                          widgets.HBox([self.student, self.scores_button]), self.results])
        self._show_face()

    def __repr__(self) -> str:
        # What a static page (the book) shows in place of the live widgets.
        return "Labelling app: run this notebook in JupyterLab, Notebook 7 or Voila to label faces"

    def _answer(self, name: str) -> None:
        finished_before = self.session.done
        self.session.label(name)
        self._show_face()
        if self.session.done and not finished_before:
            self.show_scores()

    def _move(self, step) -> None:
        step()
        self._show_face()

    def _show_face(self) -> None:
        position, session = self.session.position, self.session
        self.face.value = face_png(self.faces.images[position])
        self.progress.value = session.labelled
        answer = session.answers[position]
        given = f"; your answer: <b>{EMOTIONS[answer]}</b>" if answer is not None else ""
        self.status.value = (f"<p>face {position + 1} of {len(self.faces)}{given}<br>"
                             f"{session.labelled} of {len(self.faces)} labelled</p>")

    def show_scores(self) -> LabellerScores | None:
        """Score the answers so far, write the CSV, and show both (also what the Scores button does)."""
        rows, answers = self.session.labelled_rows()
        if len(rows) == 0:
            self.results.children = [_html("Label at least one face first.", "fercourse-message")]
            return None
        scores = score_labels(self.faces.labels[rows], answers, self.model_answers[rows])
        self.last_scores = scores
        tables = widgets.HBox([_table("You (rows: FER2013's label)", scores.confusion),
                               _table("The model on the same faces", scores.model_confusion)],
                              layout=widgets.Layout(flex_flow="row wrap"))
        self.results.children = [_html(_summary(scores, len(self.faces)), "fercourse-scores"), tables,
                                 self._save()]
        return scores

    def _save(self) -> widgets.HTML:
        try:
            path = student_file(self.folder, self.student.value or "me")
            problems = write_labels(path, self.faces, self.session)
        except (OSError, ValueError) as error:
            return _html(f"Could not write your labels: {html.escape(str(error))}", "fercourse-message",
                         error=True)
        text = f"Your labels are in <code>{html.escape(str(path))}</code>"
        if problems:
            text += " (not complete yet: " + html.escape("; ".join(problems)) + ")"
        else:
            text += ", a valid <code>id,emotion</code> file: hand it in for the class's agreement."
        return _html(text, "fercourse-saved")


def _summary(scores: LabellerScores, total: int) -> str:
    return (f"<p>On the <b>{scores.faces}</b> faces you labelled (of {total}): your accuracy against "
            f"FER2013's labels <b>{scores.accuracy:.0%}</b>; the model's <b>{scores.model_accuracy:.0%}</b>; "
            f"you and the model agree on <b>{scores.agreement_with_model:.0%}</b>.</p>")


def _html(text: str, css_class: str, *, error: bool = False) -> widgets.HTML:
    widget = widgets.HTML(f'<p style="color: {"#b00020" if error else "inherit"}">{text}</p>')
    widget.add_class(css_class)
    return widget


def _table(title: str, matrix: pd.DataFrame) -> widgets.HTML:
    widget = widgets.HTML(f"<p><b>{html.escape(title)}</b></p>" + matrix.to_html(border=0),
                          layout=widgets.Layout(margin="0 24px 0 0"))
    widget.add_class("fercourse-confusion")
    return widget


def labeller_app(faces: LabellingSet, *, model=None, answers=None, folder: str | Path = ".",
                 student: str = "") -> LabellerApp:
    """Build the labelling app for a labelling set.

    Parameters
    ----------
    faces : LabellingSet
        The course's faces (:func:`fercourse.demo.labelling.labelling_set`).
    model : keras.Model or fitted classifier, optional
        The model to compare with (the shipped one when both ``model`` and ``answers`` are None).
    answers : array-like, optional
        The model's answers, when already computed (:func:`model_labels`).
    folder : path-like
        Where the student's CSV goes.
    student : str
        The name the CSV starts with (the student can change it in the app).

    Returns
    -------
    LabellerApp
        An ipywidgets ``VBox``: display it as the last expression of a notebook cell.
    """
    if answers is None:
        answers = model_labels(faces, model)
    return LabellerApp(faces, answers, folder=folder, student=student)
