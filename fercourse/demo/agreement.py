"""A class's labels together: read every student's CSV, Fleiss' kappa, humans against the model.

:func:`read_class_labels` reads a folder of the CSVs the labelling app writes (one per student,
``id,emotion``), checks each with the assignments' validator against the labelling set's ids and
keeps the valid ones; every problem names the file and the line. :func:`fleiss_kappa` measures
how far the students agree beyond what chance would give, and :func:`class_agreement` sets the
class's majority answer per face beside FER2013's label and the model's.

Fleiss' kappa, for :math:`N` faces each labelled by :math:`n` raters into :math:`k` classes, with
:math:`n_{ij}` the raters who put face :math:`i` in class :math:`j`:

.. math::

    P_i = \\frac{\\sum_j n_{ij}^2 - n}{n(n-1)},\\quad \\bar P = \\frac{1}{N}\\sum_i P_i,\\quad
    p_j = \\frac{1}{Nn}\\sum_i n_{ij},\\quad \\bar P_e = \\sum_j p_j^2,\\quad
    \\kappa = \\frac{\\bar P - \\bar P_e}{1 - \\bar P_e}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fercourse.demo.labelling import LabellingSet
from fercourse.errors import InputError
from fercourse.labels import EMOTIONS, NUM_CLASSES

__all__ = ["CONFUSION_PAIRS", "ClassAgreement", "ClassLabels", "class_agreement", "confusion_pairs",
           "fleiss_kappa", "rating_counts", "read_class_labels"]

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


def read_class_labels(folder: str | Path, faces: LabellingSet) -> ClassLabels:
    """Read and check every ``*.csv`` in ``folder`` against the labelling set's ids.

    A file that is a link, too large or not a valid ``id,emotion`` file covering every face once
    is left out; its problems (naming the file and line) are in ``problems``.

    Raises
    ------
    FileNotFoundError
        ``folder`` is missing or holds no CSV.
    ValueError
        No file is valid (the message lists every problem).
    """
    from fercourse.errors import DataError
    from fercourse.submission import check_submission_bytes, read_bounded

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (expected the students' labels_<name>.csv files)")
    paths = sorted(folder.glob("*.csv"))
    if not paths:
        raise FileNotFoundError(f"{folder}: no .csv file (expected one labels_<name>.csv per student)")
    if len(paths) > MAX_STUDENTS:
        raise InputError(f"{folder}: {len(paths)} CSV files, over the {MAX_STUDENTS} a class can hold")
    students, rows, problems = [], [], []
    for path in paths:
        if path.is_symlink() or not path.is_file():
            problems.append(f"{path.name}: a link or not a plain file: expected the CSV itself")
            continue
        try:
            checked = check_submission_bytes(read_bounded(path), faces.ids, name=path.name)
        except DataError as error:
            problems.append(f"{path.name}: {error.reason}")
            continue
        if not checked.valid:
            problems.extend(checked.problems)
            continue
        students.append(path.stem.removeprefix("labels_"))
        rows.append([checked.predictions[face] for face in faces.ids])
    if not students:
        raise InputError(f"{folder}: no valid labels file among {len(paths)}:\n" + "\n".join(problems))
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
    """

    kappa: float
    students: pd.Series
    faces: pd.DataFrame
    summary: pd.Series
    pairs: pd.DataFrame


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
                                           name="accuracy"), table, summary, pairs)
