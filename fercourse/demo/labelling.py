"""Be the labeller: the faces a class labels, one student's labelling session, its scores and its CSV.

The faces
---------
:func:`labelling_set` picks the faces once per course: ``count`` faces (100 by default) of the
validation split every trainer uses (:func:`fercourse.data.splits.validation_split`: a stratified
tenth of Training, seed 0, the faces the shipped model was *not* trained on), drawn stratified by
FER2013's label with ``seed`` (:data:`LABELLING_SEED`, 0 by default) and shown in an order shuffled
with the same seed. The same data source, ``count`` and ``seed`` give every student the same faces
in the same order; an instructor who wants a fresh set for a new class changes the seed for everyone.

The ids a student sees (in the CSV, in the app's state) are opaque: :func:`face_ids` turns each
face's source id into ``face-`` and ten hex digits of a SHA-256 of the id and the seed. A source id
can give the answer away: FER2013's image folders make ids like ``angry/Training_123``, and a file
name or a sample id such as ``train-00042`` is one look-up away from its label. The digest depends
on nothing but the source id and the seed, so every student of a course gets the same ids and a
class's CSVs line up. It hides the label from a reader, not from a determined student: anyone can
recompute it from the source ids, as anyone with FER2013 can find a face's label by its pixels.

The labels a student gives are written in the course's submission format (``id,emotion``, integers
0-6 in canonical order) by :func:`fercourse.submission.write_submission` and checked by the same
validator the assignments use (:func:`fercourse.submission.check_submission_bytes`), against the
ids of the labelling set: a file that misses a face, repeats one or names an unknown id says so.

Examples
--------
>>> import numpy as np
>>> faces = LabellingSet(np.zeros((3, 48, 48), np.uint8), np.array([3, 2, 4]), ("a", "b", "c"), "toy", 0)
>>> session = LabellingSession(faces)
>>> session.label("happy"); session.skip(); session.label(4); session.position
1
>>> session.label("sad"); session.done, session.answers
(True, [3, 4, 4])
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fercourse.errors import InputError
from fercourse.labels import EMOTIONS, NUM_CLASSES, to_index

__all__ = ["LABELLING_FACES", "LABELLING_SEED", "LabellerScores", "LabellingSession", "LabellingSet",
           "face_ids", "labelling_set", "score_labels", "simulated_labels", "student_file", "write_labels"]

#: How many faces a student labels by default.
LABELLING_FACES = 100
#: The seed that picks and orders them (one per course: every student of the course uses it).
LABELLING_SEED = 0
#: The emotion a simulated labeller picks half the time it is wrong (an assumption of the simulation).
SIMULATED_CONFUSIONS = {"angry": "disgust", "disgust": "angry", "fear": "sad", "happy": "neutral",
                        "sad": "fear", "surprise": "fear", "neutral": "sad"}


@dataclass(frozen=True)
class LabellingSet:
    """The faces a class labels, in the order they are shown.

    Attributes
    ----------
    images : np.ndarray
        (n, 48, 48) uint8 faces.
    labels : np.ndarray
        FER2013's label of each face (canonical order); never shown while labelling.
    ids : tuple of str
        Each face's opaque id (:func:`face_ids`): the ``id`` column of the students' CSVs.
    source : str
        Where the faces came from.
    seed : int
        The seed that picked and ordered them.
    """

    images: np.ndarray
    labels: np.ndarray
    ids: tuple[str, ...]
    source: str
    seed: int

    def __len__(self) -> int:
        return len(self.ids)


#: Part of every face id's digest, so that the ids are this course's own (see :func:`face_ids`).
ID_SALT = "fercourse-labelling"


def face_ids(source_ids, seed: int = LABELLING_SEED) -> tuple[str, ...]:
    """The ids students see for faces with these source ids: ``face-`` and 10 hex digits of a digest.

    The digest is SHA-256 of :data:`ID_SALT`, ``seed`` and the source id, so the id says nothing a
    reader can use (neither the label folder of ``angry/Training_123`` nor a name to look up) and
    is the same for every student who labels the face with the same seed.

    Raises
    ------
    ValueError
        Two source ids give the same id (never seen; it would mix two faces' answers).

    Examples
    --------
    >>> face_ids(["angry/Training_123", "train-00001"], seed=0)
    ('face-a229022361', 'face-78dee4ca33')
    """
    source_ids = [str(source_id) for source_id in source_ids]
    ids = tuple("face-" + hashlib.sha256(f"{ID_SALT}|{seed}|{source_id}".encode()).hexdigest()[:10]
                for source_id in source_ids)
    if len(set(ids)) != len(ids):
        repeated = next(face for face in ids if ids.count(face) > 1)
        sources = [source for source, face in zip(source_ids, ids) if face == repeated]
        raise InputError(f"source ids {', '.join(sources)} share the face id {repeated}: expected distinct "
                         "ids (are the source ids repeated?)")
    return ids


def labelling_set(data="sample", count: int = LABELLING_FACES, seed: int = LABELLING_SEED) -> LabellingSet:
    """The course's labelling faces: ``count`` validation faces chosen and ordered with ``seed``.

    Parameters
    ----------
    data : str or fercourse.data.Dataset
        ``"sample"``, ``"fer2013"``, a path (see :func:`fercourse.data.load`) or a loaded dataset.
    count : int
        Faces to label (100 by default; fewer when the validation split is smaller).
    seed : int
        Picks and orders the faces: one value per course, so a class labels the same faces.

    Returns
    -------
    LabellingSet
    """
    from fercourse.data import Dataset, load
    from fercourse.data.splits import stratified_subsample, validation_split

    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError(f"count is {count!r}: expected a whole number of faces, at least 1")
    dataset = data if isinstance(data, Dataset) else load(data, progress=False)
    _, val = validation_split(dataset)
    rows = np.random.default_rng(seed).permutation(stratified_subsample(val, count, seed))
    return LabellingSet(val.X[rows], val.y[rows], face_ids(val.ids[rows], seed), dataset.source, seed)


class LabellingSession:
    """One student's progress through a :class:`LabellingSet`: answers, the face shown, going back.

    ``label`` records an answer for the face shown and moves to the next face without one;
    ``skip`` moves on and leaves the face for later (it comes round again after the last face);
    ``back`` returns to the face shown before, whose answer can then be changed.
    """

    def __init__(self, faces: LabellingSet) -> None:
        self.faces = faces
        self.answers: list[int | None] = [None] * len(faces)
        self.position = 0
        self._shown: list[int] = []

    @property
    def labelled(self) -> int:
        return sum(answer is not None for answer in self.answers)

    @property
    def done(self) -> bool:
        return self.labelled == len(self.answers)

    def label(self, emotion: int | str) -> None:
        """Answer ``emotion`` (a name or 0-6) for the face shown, then show the next unlabelled one."""
        self.answers[self.position] = to_index(emotion)
        self._move_on()

    def skip(self) -> None:
        """Leave the face shown unlabelled for now and show the next unlabelled one."""
        self._move_on()

    def back(self) -> None:
        """Show the face shown before this one (nothing happens at the first face)."""
        if self._shown:
            self.position = self._shown.pop()

    def _move_on(self) -> None:
        self._shown.append(self.position)
        n = len(self.answers)
        for step in range(1, n + 1):
            candidate = (self.position + step) % n
            if self.answers[candidate] is None:
                self.position = candidate
                return
        # Every face has an answer: stay on the last one so that Back still works.

    def labelled_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows of the faces answered, their answers), in the order of the labelling set."""
        rows = np.array([k for k, answer in enumerate(self.answers) if answer is not None], dtype=int)
        return rows, np.array([self.answers[k] for k in rows], dtype=int)


@dataclass(frozen=True)
class LabellerScores:
    """A labeller's answers set against FER2013's labels, and the model's on the same faces.

    ``confusion`` and ``model_confusion`` count faces: rows FER2013's label, columns the answer.
    """

    faces: int
    accuracy: float
    model_accuracy: float
    agreement_with_model: float
    confusion: pd.DataFrame
    model_confusion: pd.DataFrame


def score_labels(y_true, y_labeller, y_model) -> LabellerScores:
    """Score a labeller and the model on the same faces.

    Examples
    --------
    >>> scores = score_labels([3, 4, 2, 1], [3, 2, 2, 0], [3, 4, 4, 0])
    >>> scores.accuracy, scores.model_accuracy, scores.agreement_with_model
    (0.5, 0.5, 0.5)
    >>> int(scores.confusion.loc["disgust", "angry"])
    1
    """
    from fercourse.evaluate import confusion

    y_true, y_labeller, y_model = (np.asarray(values, dtype=int) for values in (y_true, y_labeller, y_model))
    if not len(y_true) == len(y_labeller) == len(y_model):
        raise InputError(f"got {len(y_true)} true labels, {len(y_labeller)} answers and {len(y_model)} model "
                         "labels: expected one of each per face")
    if len(y_true) == 0:
        raise InputError("no face labelled yet: label at least one face to see a score")
    return LabellerScores(len(y_true), float(np.mean(y_labeller == y_true)),
                          float(np.mean(y_model == y_true)), float(np.mean(y_labeller == y_model)),
                          confusion(y_true, y_labeller), confusion(y_true, y_model))


def student_file(folder: str | Path, student: str) -> Path:
    """Where ``student``'s labels go: ``folder/labels_<student>.csv`` (letters, digits, ``-`` and ``_``).

    Examples
    --------
    >>> student_file("class", "Ada Lovelace").as_posix()
    'class/labels_Ada_Lovelace.csv'
    """
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", str(student).strip()).strip("_")
    if not name:
        raise InputError(f"student name {student!r}: expected letters or digits (it names the CSV file)")
    return Path(folder) / f"labels_{name}.csv"


def write_labels(path: str | Path, faces: LabellingSet, session: LabellingSession) -> list[str]:
    """Write the answers so far as a submission CSV and check it with the assignments' validator.

    Returns
    -------
    list of str
        The validator's problems: empty when every face has an answer; otherwise it names the
        missing ids (the file is still written, with the faces answered so far).
    """
    from fercourse.submission import check_submission_bytes, read_bounded, write_submission

    rows, answers = session.labelled_rows()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_submission(path, [faces.ids[k] for k in rows], answers)
    return check_submission_bytes(read_bounded(path), faces.ids, name=path.name).problems


def simulated_labels(y_true, *, accuracy: float = 0.65, confused_share: float = 0.5,
                     seed: int = 0) -> np.ndarray:
    """Labels from a *simulated* labeller, for running the lesson without clicks.

    The simulation gives FER2013's label with probability ``accuracy``; otherwise, with probability
    ``confused_share``, the emotion :data:`SIMULATED_CONFUSIONS` pairs with it, else one of the
    six wrong emotions at random. These are assumptions written into the simulation: its labels show the
    lesson's computations working, and say nothing about how people label faces.

    Examples
    --------
    >>> labels = simulated_labels(np.full(2000, 2), accuracy=0.6, confused_share=1.0, seed=1)
    >>> sorted(set(labels.tolist())), round(float(np.mean(labels == 2)), 1)
    ([2, 4], 0.6)
    """
    y_true = np.asarray(y_true, dtype=int)
    if not 0.0 <= accuracy <= 1.0 or not 0.0 <= confused_share <= 1.0:
        raise InputError(f"accuracy {accuracy} and confused_share {confused_share}: "
                         "expected shares in [0, 1]")
    rng = np.random.default_rng(seed)
    partner = np.array([EMOTIONS.index(SIMULATED_CONFUSIONS[name]) for name in EMOTIONS])
    others = (y_true + rng.integers(1, NUM_CLASSES, len(y_true))) % NUM_CLASSES
    wrong = np.where(rng.random(len(y_true)) < confused_share, partner[y_true], others)
    return np.where(rng.random(len(y_true)) < accuracy, y_true, wrong)
