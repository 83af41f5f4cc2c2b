"""A class's labels together: read every student's CSV, Fleiss' kappa, humans against the model.

:func:`read_class_labels` reads a folder (or a list) of the CSVs the labelling app writes (one per
student, ``id,emotion``), checks each with the assignments' validator against the labelling set's
ids and keeps the valid ones; every problem names the file and the line. :func:`fleiss_kappa`
measures how far the students agree beyond what chance would give, :func:`fleiss_kappa_per_class`
how far they agree on each emotion, and :func:`class_agreement` sets the class's majority answer
per face beside FER2013's label and the model's. ``fercourse labels agreement`` prints all of it.

Fleiss' kappa, for :math:`N` faces each labelled by :math:`n` raters into :math:`k` classes, with
:math:`n_{ij}` the raters who put face :math:`i` in class :math:`j`:

.. math::

    P_i = \\frac{\\sum_j n_{ij}^2 - n}{n(n-1)},\\quad \\bar P = \\frac{1}{N}\\sum_i P_i,\\quad
    p_j = \\frac{1}{Nn}\\sum_i n_{ij},\\quad \\bar P_e = \\sum_j p_j^2,\\quad
    \\kappa = \\frac{\\bar P - \\bar P_e}{1 - \\bar P_e},\\qquad
    \\kappa_j = 1 - \\frac{\\sum_i n_{ij}(n - n_{ij})}{N n (n-1)\\, p_j (1 - p_j)}.

:math:`\\kappa_j` is Fleiss' kappa for emotion :math:`j` alone (that emotion against all the
others); :math:`\\kappa` is their average weighted by :math:`p_j(1-p_j)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fercourse.demo.labelling import LabellingSet
from fercourse.errors import InputError
from fercourse.labels import EMOTIONS, NUM_CLASSES

__all__ = ["CONFUSION_PAIRS", "ClassAgreement", "ClassLabels", "class_agreement", "class_files",
           "confusion_pairs", "fleiss_kappa", "fleiss_kappa_per_class", "per_class_agreement",
           "rating_counts", "read_class_labels"]

#: The confusions the lesson asks students to measure on themselves: (FER2013's label, the answer).
CONFUSION_PAIRS = (("fear", "sad"), ("sad", "fear"), ("disgust", "angry"), ("angry", "disgust"))
#: More files than this in a class folder is refused (a class, not a file dump).
MAX_STUDENTS = 2000


def fleiss_kappa(counts) -> float:
    """Fleiss' kappa of an (items, classes) table of rating counts, every item rated equally often.

    Returns NaN when chance agreement is already perfect (every rating in one class), where
    kappa is undefined.

    Examples
    --------
    >>> round(fleiss_kappa([[3, 0, 0], [0, 3, 0], [1, 1, 1], [2, 1, 0]]), 4)  # 11/41
    0.2683
    >>> fleiss_kappa([[2, 0], [0, 2]])
    1.0
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] < 1 or (counts < 0).any():
        raise InputError(f"counts of shape {counts.shape}: expected an (items, classes) table of counts >= 0")
    raters = counts.sum(axis=1)
    if not np.all(raters == raters[0]):
        row = int(np.flatnonzero(raters != raters[0])[0])
        raise InputError(f"item {row} has {raters[row]:g} ratings and item 0 has {raters[0]:g}: "
                         "Fleiss' kappa needs every item rated by the same number of raters")
    n = raters[0]
    if n < 2:
        raise InputError(f"{n:g} rating per item: agreement needs at least two raters")
    per_item = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    shares = counts.sum(axis=0) / counts.sum()
    chance = float((shares ** 2).sum())
    if np.isclose(chance, 1.0):
        return float("nan")
    return float((per_item.mean() - chance) / (1.0 - chance))


def fleiss_kappa_per_class(counts) -> np.ndarray:
    """Fleiss' kappa of each class alone (that class against all others), from an (items, classes) table.

    NaN for a class nobody chose, or the only class anybody chose, where it is undefined. Averaged
    with weights :math:`p_j(1-p_j)` the values give :func:`fleiss_kappa`.

    Examples
    --------
    >>> counts = [[3, 0, 0], [0, 3, 0], [1, 1, 1], [2, 1, 0]]
    >>> np.round(fleiss_kappa_per_class(counts), 4).tolist()  # 1/3, 11/35, -1/11
    [0.3333, 0.3143, -0.0909]
    """
    counts = np.asarray(counts, dtype=float)
    fleiss_kappa(counts)  # the same checks: a table of counts, every item rated equally, two raters
    items, n = counts.shape[0], counts[0].sum()
    shares = counts.sum(axis=0) / counts.sum()
    spread = items * n * (n - 1) * shares * (1 - shares)
    disagreement = (counts * (n - counts)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, 1 - disagreement / np.where(spread > 0, spread, 1), np.nan)


def rating_counts(labels) -> np.ndarray:
    """(faces, 7) counts from a (raters, faces) array of labels 0-6.

    Examples
    --------
    >>> rating_counts([[0, 3], [0, 4]]).tolist()
    [[2, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0]]
    """
    labels = np.asarray(labels, dtype=int)
    return np.stack([np.bincount(column, minlength=NUM_CLASSES) for column in labels.T])


@dataclass(frozen=True)
class ClassLabels:
    """The valid CSVs of a class: ``labels[s, f]`` is student ``students[s]``'s answer for face ``f``
    (in the labelling set's order); ``problems`` lists every file left out and why."""

    students: list[str]
    labels: np.ndarray
    problems: list[str]


def class_files(source) -> list[Path]:
    """The CSV files of a class: every ``*.csv`` in a folder (sorted), or the files of a list as given.

    Raises
    ------
    FileNotFoundError
        The folder, or a listed file, is missing; or the folder holds no CSV.
    ValueError
        More than :data:`MAX_STUDENTS` files.
    """
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: no such folder (expected the students' labels_<name>.csv "
                                    "files)")
        paths = sorted(folder.glob("*.csv"))
        if not paths:
            raise FileNotFoundError(f"{folder}: no .csv file (expected one labels_<name>.csv per student)")
        where = str(folder)
    else:
        paths = [Path(path) for path in source]
        for path in paths:
            if not path.exists() and not path.is_symlink():
                raise FileNotFoundError(f"{path}: no such file (expected a student's labels_<name>.csv)")
        if not paths:
            raise FileNotFoundError("no labels file given (expected one labels_<name>.csv per student)")
        where = f"{len(paths)} files"
    if len(paths) > MAX_STUDENTS:
        raise InputError(f"{where}: {len(paths)} CSV files, over the {MAX_STUDENTS} a class can hold")
    return paths


def read_class_labels(source, faces: LabellingSet) -> ClassLabels:
    """Read and check every ``*.csv`` in a folder, or each file of a list, against the faces' ids.

    A file that is a link, too large or not a valid ``id,emotion`` file covering every face once
    is left out, and so is a second file for the same student name (``labels_<name>.csv``, from
    another folder); their problems (naming the file and line) are in ``problems``.

    Parameters
    ----------
    source : path-like or list of path-like
        A folder holding one CSV per student, or the CSV files themselves.
    faces : LabellingSet
        The course's faces (:func:`fercourse.demo.labelling.labelling_set`).

    Raises
    ------
    FileNotFoundError
        The folder or a listed file is missing, or the folder holds no CSV.
    ValueError
        No file is valid (the message lists every problem).
    """
    from fercourse.errors import DataError
    from fercourse.submission import check_submission_bytes, read_bounded

    paths = class_files(source)
    students, rows, problems, seen = [], [], [], {}
    for path in paths:
        if path.is_symlink() or not path.is_file():
            problems.append(f"{path.name}: a link or not a plain file: expected the CSV itself")
            continue
        student = path.stem.removeprefix("labels_")
        if student in seen:
            problems.append(f"{path}: a second file for student {student!r} (the first is {seen[student]}): "
                            "left out")
            continue
        try:
            checked = check_submission_bytes(read_bounded(path), faces.ids, name=path.name)
        except DataError as error:
            problems.append(f"{path.name}: {error.reason}")
            continue
        if not checked.valid:
            problems.extend(checked.problems)
            continue
        seen[student] = path
        students.append(student)
        rows.append([checked.predictions[face] for face in faces.ids])
    if not students:
        where = source if isinstance(source, (str, Path)) else f"{len(paths)} files"
        raise InputError(f"{where}: no valid labels file among {len(paths)}:\n" + "\n".join(problems))
    return ClassLabels(students, np.array(rows, dtype=int), problems)


def confusion_pairs(y_true, y_answer) -> pd.Series:
    """For each pair of :data:`CONFUSION_PAIRS`, the share of faces FER2013 calls the first emotion
    that were answered as the second (NaN where no face has the first label).

    Examples
    --------
    >>> float(confusion_pairs([2, 2, 4, 1], [4, 2, 4, 0])["fear read as sad"])
    0.5
    """
    y_true, y_answer = np.asarray(y_true, dtype=int), np.asarray(y_answer, dtype=int)
    shares = {}
    for label, answer in CONFUSION_PAIRS:
        faces = y_true == EMOTIONS.index(label)
        shares[f"{label} read as {answer}"] = (float(np.mean(y_answer[faces] == EMOTIONS.index(answer)))
                                               if faces.any() else float("nan"))
    return pd.Series(shares)


@dataclass(frozen=True)
class ClassAgreement:
    """What a class's labels show (see :func:`class_agreement`).

    Attributes
    ----------
    kappa : float
        Fleiss' kappa over the students.
    students : pd.Series
        Each student's accuracy against FER2013's labels.
    faces : pd.DataFrame
        Per face: id, FER2013's label, the class's majority answer and its share of the votes,
        the model's answer, and whether majority and model disagree.
    summary : pd.Series
        Accuracy of the average student, the class majority and the model; majority-model agreement.
    pairs : pd.DataFrame
        :func:`confusion_pairs` for all the students' answers together and for the model.
    per_class : pd.DataFrame
        :func:`per_class_agreement`: per emotion, the faces FER2013 gives it, how often the
        students, their majority and the model answer it on them, how far the students agree.
    """

    kappa: float
    students: pd.Series
    faces: pd.DataFrame
    summary: pd.Series
    pairs: pd.DataFrame
    per_class: pd.DataFrame


def per_class_agreement(labels, truth, model_labels) -> pd.DataFrame:
    """Per emotion (rows, canonical order): agreement with FER2013's label and among the students.

    Parameters
    ----------
    labels : array-like
        (students, faces) answers 0-6.
    truth, model_labels : array-like
        FER2013's label and the model's answer per face.

    Returns
    -------
    pd.DataFrame
        ``faces``: faces FER2013 labels with the emotion; ``students``, ``class majority`` and
        ``model``: the share of those faces answered with it (recall; for ``students`` over every
        student's answers); ``pair agreement``: on those faces, the share of pairs of students who
        answered alike (:math:`\\bar P` of the faces; NaN with one student); ``kappa``:
        :func:`fleiss_kappa_per_class` of the emotion as an answer, over all faces. NaN where
        undefined (no face with the label, fewer than two students).

    Examples
    --------
    >>> table = per_class_agreement([[0, 0, 3], [0, 2, 3]], [0, 0, 3], [0, 2, 2])
    >>> table.loc["angry", ["faces", "students", "class majority", "model", "pair agreement"]].tolist()
    [2.0, 0.75, 1.0, 0.5, 0.5]
    """
    labels = np.asarray(labels, dtype=int)
    truth, model_labels = np.asarray(truth, dtype=int), np.asarray(model_labels, dtype=int)
    counts = rating_counts(labels)
    majority = counts.argmax(axis=1)
    raters = len(labels)
    # P_i per face: the share of pairs of students who answered it alike.
    pairs = ((counts ** 2).sum(axis=1) - raters) / (raters * (raters - 1)) if raters > 1 else None
    kappas = fleiss_kappa_per_class(counts) if raters > 1 else np.full(NUM_CLASSES, np.nan)
    rows = []
    for emotion in range(NUM_CLASSES):
        on = truth == emotion  # the faces FER2013 labels with this emotion

        def recall(answers, on=on, emotion=emotion) -> float:
            return float(np.mean(answers[..., on] == emotion)) if on.any() else float("nan")

        agree = float(pairs[on].mean()) if pairs is not None and on.any() else float("nan")
        rows.append({"faces": int(on.sum()), "students": recall(labels), "class majority": recall(majority),
                     "model": recall(model_labels), "pair agreement": agree, "kappa": float(kappas[emotion])})
    return pd.DataFrame(rows, index=pd.Index(EMOTIONS, name="emotion"))


def class_agreement(class_labels: ClassLabels, faces: LabellingSet, model_labels) -> ClassAgreement:
    """Agreement among the students, and where their majority and the model part ways.

    The majority answer of a face is its most frequent one; a tie goes to the emotion first in
    canonical order.
    """
    labels, truth = class_labels.labels, np.asarray(faces.labels, dtype=int)
    model_labels = np.asarray(model_labels, dtype=int)
    if labels.shape[1] != len(truth) or len(model_labels) != len(truth):
        raise InputError(f"{labels.shape[1]} answers per student, {len(model_labels)} model labels and "
                         f"{len(truth)} faces: expected one of each per face")
    counts = rating_counts(labels)
    majority = counts.argmax(axis=1)
    names = np.array(EMOTIONS)
    table = pd.DataFrame({"id": list(faces.ids), "FER2013": names[truth], "class majority": names[majority],
                          "votes": counts.max(axis=1) / len(labels), "model": names[model_labels]})
    table["majority and model differ"] = majority != model_labels
    summary = pd.Series({"students (mean accuracy)": float(np.mean(labels == truth)),
                         "class majority": float(np.mean(majority == truth)),
                         "model": float(np.mean(model_labels == truth)),
                         "majority agrees with model": float(np.mean(majority == model_labels))})
    pairs = pd.DataFrame({"students": confusion_pairs(np.tile(truth, len(labels)), labels.ravel()),
                          "model": confusion_pairs(truth, model_labels)})
    kappa = fleiss_kappa(counts) if len(labels) >= 2 else float("nan")
    return ClassAgreement(kappa, pd.Series(np.mean(labels == truth, axis=1), index=class_labels.students,
                                           name="accuracy"), table, summary, pairs,
                          per_class_agreement(labels, truth, model_labels))
