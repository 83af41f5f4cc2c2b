"""Lesson 9's labelling app and class mode: the faces, a student's session and CSV, Fleiss' kappa.

The app is driven from Python here (clicks are ``button.click()``); test_browser_labeller.py clicks
it in a real browser.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from fercourse.data.splits import validation_split
from fercourse.demo.agreement import (
    class_agreement,
    confusion_pairs,
    fleiss_kappa,
    fleiss_kappa_per_class,
    per_class_agreement,
    rating_counts,
    read_class_labels,
)
from fercourse.demo.labeller import LabellerApp, model_labels
from fercourse.demo.labelling import (
    LabellingSession,
    LabellingSet,
    face_ids,
    labelling_set,
    simulated_labels,
    student_file,
    write_labels,
)
from fercourse.labels import ALIASES, EMOTIONS
from fercourse.submission import validate_submission, write_submission


def toy_faces(labels=(3, 2, 4, 1, 0, 6)) -> LabellingSet:
    images = np.arange(len(labels) * 48 * 48, dtype=np.uint8).reshape(len(labels), 48, 48)
    return LabellingSet(images, np.array(labels), tuple(f"face-{k}" for k in range(len(labels))), "toy", 0)


# Fleiss' kappa -------------------------------------------------------------------------------------

def test_fleiss_kappa_matches_a_hand_computed_example():
    # 4 faces, 3 raters, 3 classes. By hand: P_i = (sum n_ij^2 - 3) / 6 = 1, 1, 0, 1/3, so P = 7/12;
    # class shares 6/12, 5/12, 1/12, so P_e = (36 + 25 + 1) / 144 = 31/72;
    # kappa = (7/12 - 31/72) / (1 - 31/72) = (42 - 31) / (72 - 31) = 11/41.
    counts = [[3, 0, 0], [0, 3, 0], [1, 1, 1], [2, 1, 0]]
    assert fleiss_kappa(counts) == pytest.approx(11 / 41, abs=1e-12)


def test_fleiss_kappa_perfect_chance_and_systematic_disagreement():
    assert fleiss_kappa([[4, 0], [0, 4], [4, 0]]) == pytest.approx(1.0)
    # Two raters who never agree on a face, each class used half the time: P = 0, P_e = 1/2.
    assert fleiss_kappa([[1, 1], [1, 1]]) == pytest.approx(-1.0)
    assert np.isnan(fleiss_kappa([[3, 0], [3, 0]]))  # every rating in one class: undefined


def test_fleiss_kappa_refuses_unequal_raters_naming_the_item():
    with pytest.raises(ValueError, match="item 2 has 2 ratings and item 0 has 3"):
        fleiss_kappa([[3, 0], [1, 2], [1, 1]])
    with pytest.raises(ValueError, match="at least two raters"):
        fleiss_kappa([[1, 0], [0, 1]])


def test_per_class_kappa_by_hand_and_its_weighted_mean_is_fleiss_kappa():
    counts = np.array([[3, 0, 0], [0, 3, 0], [1, 1, 1], [2, 1, 0]])
    # By hand, kappa_j = 1 - sum_i n_ij (3 - n_ij) / (N n (n-1) p_j q_j) with N n (n-1) = 24:
    # class 0: 1 - 4 / (24 * 1/2 * 1/2) = 1/3; class 1: 1 - 4 / (24 * 5/12 * 7/12) = 11/35;
    # class 2: 1 - 2 / (24 * 1/12 * 11/12) = -1/11.
    per_class = fleiss_kappa_per_class(counts)
    assert per_class == pytest.approx([1 / 3, 11 / 35, -1 / 11])
    shares = counts.sum(axis=0) / counts.sum()
    weights = shares * (1 - shares)
    assert np.sum(weights * per_class) / np.sum(weights) == pytest.approx(fleiss_kappa(counts))
    padded = fleiss_kappa_per_class(np.pad(counts, ((0, 0), (0, 4))))
    assert np.isnan(padded[3:]).all() and padded[:3] == pytest.approx(per_class)  # nobody chose 3-6


def test_per_class_agreement_counts_recall_and_pairs():
    labels = [[0, 0, 3, 2], [0, 2, 3, 2], [0, 0, 4, 2]]  # 3 students, 4 faces
    table = per_class_agreement(labels, [0, 0, 3, 2], [0, 2, 3, 4])
    assert table.index.tolist()[:4] == ["angry", "disgust", "fear", "happy"]
    angry = table.loc["angry"]
    # Angry faces 0 and 1: 5 of 6 answers angry; majority angry on both; model 1 of 2;
    # pairs alike: face 0 all 3 pairs, face 1 one pair of 3, so (1 + 1/3) / 2.
    assert angry["faces"] == 2 and angry["students"] == pytest.approx(5 / 6)
    assert angry["class majority"] == 1.0 and angry["model"] == 0.5
    assert angry["pair agreement"] == pytest.approx(2 / 3)
    assert table.loc["happy", "students"] == pytest.approx(2 / 3) and table.loc["fear", "model"] == 0.0
    assert table.loc["disgust", "faces"] == 0 and np.isnan(table.loc["disgust", "students"])
    assert table["kappa"].tolist()[:1] == pytest.approx(
        fleiss_kappa_per_class(rating_counts(labels))[:1].tolist())
    assert np.isnan(per_class_agreement([[0, 3]], [0, 3], [0, 3])["pair agreement"]).all()  # one student


def test_rating_counts_and_kappa_from_labels():
    labels = np.array([[0, 1, 0, 0], [0, 1, 1, 0], [0, 1, 2, 1]])  # 3 students, 4 faces
    counts = rating_counts(labels)
    assert counts.shape == (4, 7) and counts[0, 0] == 3 and counts[3].tolist()[:2] == [2, 1]
    # The same counts as the hand example, padded to seven classes: the unused ones change nothing.
    assert fleiss_kappa(counts) == pytest.approx(11 / 41)


# The labelling set and one student's session ----------------------------------------------------------

def test_labelling_set_is_fixed_per_seed_and_drawn_from_validation(small_sample):
    first = labelling_set(small_sample, count=30, seed=0)
    again = labelling_set(small_sample, count=30, seed=0)
    other = labelling_set(small_sample, count=30, seed=1)
    assert first.ids == again.ids and np.array_equal(first.images, again.images)
    assert len(first) == 30 and first.images.shape == (30, 48, 48) and first.ids != other.ids
    train, val = validation_split(small_sample)
    by_id = dict(zip(face_ids(val.ids, seed=0), val.y.tolist()))  # the course's ids of every validation face
    assert [by_id[face] for face in first.ids] == first.labels.tolist()
    assert not set(first.ids) & set(face_ids(train.ids, seed=0))
    assert list(first.ids) != sorted(first.ids)  # shown shuffled, not in file order
    with pytest.raises(ValueError, match="count is 0"):
        labelling_set(small_sample, count=0)


# The ids a student sees ----------------------------------------------------------------------------------

def labels_read_off_ids(ids, dataset) -> dict[str, int]:
    """The attack: what a student who only reads the ids (in their CSV or the app's state) learns.

    An id gives its face's label away when a word of it names an emotion (FER2013's image folders
    make ids like ``angry/Training_123``), or when it, or its last part, is the id or file name of a
    face of the dataset the student has loaded (the sample's ``train-00042``, FER2013's
    ``Training_123.jpg``, which ``find`` locates in its emotion's folder).
    """
    known = {}
    for split in dataset.splits.values():
        for source_id, label in zip(split.ids.astype(str).tolist(), split.labels.tolist()):
            known[source_id] = known[source_id.rsplit("/", 1)[-1]] = label
    found = {}
    for face in ids:
        named = [ALIASES[word] for word in re.split(r"[^a-z]+", face.lower()) if word in ALIASES]
        if named:
            found[face] = EMOTIONS.index(named[0])
        elif face in known or face.rsplit("/", 1)[-1] in known:
            found[face] = known.get(face, known.get(face.rsplit("/", 1)[-1]))
    return found


def test_the_attack_reads_labels_off_source_ids(small_sample):
    # The attack works where it should, so its silence below means something.
    assert labels_read_off_ids(["sad/Training_1", "fearful-7"], small_sample) == {"sad/Training_1": 4,
                                                                                   "fearful-7": 2}
    source, labels = small_sample.train.ids[:3].tolist(), small_sample.train.labels[:3].tolist()
    assert labels_read_off_ids(source, small_sample) == dict(zip(source, labels))


def test_sample_face_ids_give_no_label_away(small_sample, tmp_path):
    faces = labelling_set(small_sample, count=30)
    assert labels_read_off_ids(faces.ids, small_sample) == {}
    session = LabellingSession(faces)
    for _ in range(len(faces)):
        session.label("happy")
    write_labels(tmp_path / "labels_ana.csv", faces, session)
    written = [line.split(",")[0] for line in (tmp_path / "labels_ana.csv").read_text().splitlines()[1:]]
    assert written == list(faces.ids) and labels_read_off_ids(written, small_sample) == {}
    # Opaque, and still the same for every student of a course: a function of the face and the seed only.
    assert all(re.fullmatch(r"face-[0-9a-f]{10}", face) for face in faces.ids)
    assert face_ids(["train-00001"], seed=0) == ("face-78dee4ca33",)


@pytest.mark.fer2013
def test_fer2013_face_ids_give_no_label_away(fer2013_root):
    from fercourse.data import load

    fer2013 = load(fer2013_root, progress=False)
    faces = labelling_set(fer2013)
    assert len(faces) == 100 and faces.source == labelling_set(fer2013).source
    assert labels_read_off_ids(faces.ids, fer2013) == {}
    assert faces.ids == labelling_set(fer2013).ids  # every student of the course gets the same ids


def test_session_skip_comes_back_and_back_allows_a_change():
    session = LabellingSession(toy_faces([3, 2, 4]))
    session.skip()
    session.label("fear")
    session.label("sad")
    assert session.position == 0 and session.answers == [None, 2, 4]  # the skipped face comes round
    session.back()
    assert session.position == 2
    session.label("angry")
    assert session.answers == [None, 2, 0] and not session.done
    session.label("happy")
    assert session.done and session.labelled == 3
    with pytest.raises(ValueError):
        session.label("bored")


def test_write_labels_uses_the_submission_format_and_validator(tmp_path):
    faces = toy_faces()
    session = LabellingSession(faces)
    for answer in ("happy", "sad", "sad"):
        session.label(answer)
    path = student_file(tmp_path, "Ada L.")
    problems = write_labels(path, faces, session)
    assert path.name == "labels_Ada_L.csv"
    assert path.read_text() == "id,emotion\nface-0,3\nface-1,4\nface-2,4\n"
    assert problems == ["labels_Ada_L.csv: 3 test ids are missing (face-3, face-4, face-5)"]
    for answer in ("disgust", "angry", "neutral"):
        session.label(answer)
    assert write_labels(path, faces, session) == []
    key = tmp_path / "key.csv"
    write_submission(key, faces.ids, faces.labels)
    assert validate_submission(path, key) == []  # the assignments' own check agrees


def test_simulated_labels_follow_their_stated_assumptions():
    truth = np.repeat(np.arange(7), 400)
    labels = simulated_labels(truth, accuracy=0.65, seed=0)
    assert np.mean(labels == truth) == pytest.approx(0.65, abs=0.03)
    fear = truth == 2
    # Wrong half the time toward the paired emotion (sad), else any of the six wrong ones.
    assert np.mean(labels[fear] == 4) == pytest.approx(0.35 * (0.5 + 0.5 / 6), abs=0.04)


# Class mode ---------------------------------------------------------------------------------------------

def write_class(folder, faces, answers_by_student):
    folder.mkdir()
    for student, answers in answers_by_student.items():
        write_submission(student_file(folder, student), faces.ids, answers)


def test_class_mode_reads_valid_files_and_names_bad_ones(tmp_path):
    faces = toy_faces()
    folder = tmp_path / "class"
    write_class(folder, faces, {"ana": [3, 2, 4, 0, 0, 6], "bo": [3, 4, 4, 0, 0, 6],
                                "cy": [3, 4, 4, 1, 1, 4]})
    (folder / "labels_dee.csv").write_text("id,emotion\nface-0,happy\nface-1,2\n")
    (folder / "labels_eve.csv").write_text("id;emotion\n")
    os.symlink(folder / "labels_ana.csv", folder / "labels_link.csv")
    read = read_class_labels(folder, faces)
    assert read.students == ["ana", "bo", "cy"]
    assert read.labels.shape == (3, 6) and read.labels[2].tolist() == [3, 4, 4, 1, 1, 4]
    text = "\n".join(read.problems)
    assert "labels_dee.csv: 1 row with a class name instead of its integer label" in text and "line 2" in text
    assert "labels_dee.csv: 4 test ids are missing (face-2, face-3, face-4, face-5)" in text
    assert "labels_eve.csv, line 1: values are separated by semicolons" in text
    assert "labels_link.csv: a link or not a plain file" in text


def test_class_mode_reads_a_list_of_files_and_leaves_out_a_second_file_per_student(tmp_path):
    faces = toy_faces()
    write_class(tmp_path / "a", faces, {"ana": [3, 2, 4, 0, 0, 6], "bo": [3, 4, 4, 0, 0, 6]})
    write_class(tmp_path / "b", faces, {"ana": [0, 0, 0, 0, 0, 0]})
    files = [tmp_path / "a" / "labels_ana.csv", tmp_path / "a" / "labels_bo.csv",
             tmp_path / "b" / "labels_ana.csv"]
    read = read_class_labels(files, faces)
    assert read.students == ["ana", "bo"] and read.labels[0].tolist() == [3, 2, 4, 0, 0, 6]
    second = f"{files[2]}: a second file for student 'ana' (the first is {files[0]}): left out"
    assert read.problems == [second]
    with pytest.raises(FileNotFoundError, match="labels_cy.csv: no such file"):
        read_class_labels([files[0], tmp_path / "labels_cy.csv"], faces)
    with pytest.raises(FileNotFoundError, match="no labels file given"):
        read_class_labels([], faces)


def test_class_mode_errors_for_an_empty_or_all_bad_folder(tmp_path):
    faces = toy_faces()
    with pytest.raises(FileNotFoundError, match="no such folder"):
        read_class_labels(tmp_path / "missing", faces)
    (tmp_path / "class").mkdir()
    with pytest.raises(FileNotFoundError, match="no .csv file"):
        read_class_labels(tmp_path / "class", faces)
    (tmp_path / "class" / "labels_x.csv").write_text("id,emotion\nface-0,9\n")
    with pytest.raises(ValueError, match=r"no valid labels file among 1:\nlabels_x.csv: 1 row with a label "
                                         r"outside 0-6 \(line 2: '9'\)"):
        read_class_labels(tmp_path / "class", faces)


def test_class_agreement_majority_model_and_confusion_pairs(tmp_path):
    faces = toy_faces([3, 2, 4, 1, 0, 6])
    write_class(tmp_path / "class", faces, {"ana": [3, 2, 4, 0, 0, 6], "bo": [3, 4, 4, 0, 0, 6],
                                            "cy": [3, 4, 4, 1, 1, 4]})
    read = read_class_labels(tmp_path / "class", faces)
    model = np.array([3, 2, 2, 0, 0, 6])
    result = class_agreement(read, faces, model)
    assert result.kappa == pytest.approx(fleiss_kappa(rating_counts(read.labels)))
    assert result.faces["class majority"].tolist() == ["happy", "sad", "sad", "angry", "angry", "neutral"]
    assert result.faces["majority and model differ"].tolist() == [False, True, True, False, False, False]
    assert result.faces["votes"].tolist() == pytest.approx([1, 2 / 3, 1, 2 / 3, 2 / 3, 2 / 3])
    assert result.students.round(4).to_dict() == {"ana": 0.8333, "bo": 0.6667, "cy": 0.5}
    assert result.summary["class majority"] == pytest.approx(4 / 6)
    assert result.summary["model"] == pytest.approx(4 / 6)
    assert result.pairs.loc["fear read as sad", "students"] == pytest.approx(2 / 3)
    assert result.pairs.loc["disgust read as angry", "model"] == 1.0
    assert result.per_class.loc["sad", "students"] == 1.0 and result.per_class.loc["fear", "model"] == 1.0
    assert np.isnan(confusion_pairs([3], [3])["fear read as sad"])


# The app, driven from Python ---------------------------------------------------------------------------

def test_app_clicks_produce_scores_and_the_students_csv(tmp_path):
    faces = toy_faces([3, 2, 4, 1])
    app = LabellerApp(faces, [3, 4, 4, 0], folder=tmp_path, student="ana")
    assert "face 1 of 4" in app.status.value and bytes(app.face.value).startswith(b"\x89PNG")
    app.buttons["happy"].click()
    app.skip_button.click()
    app.buttons["sad"].click()
    assert app.progress.value == 2 and "face 4 of 4" in app.status.value
    app.scores_button.click()
    scores = app.last_scores
    assert scores.faces == 2 and scores.accuracy == 1.0 and scores.model_accuracy == 1.0
    saved = app.results.children[-1].value
    assert "labels_ana.csv" in saved and "2 test ids are missing (face-1, face-3)" in saved
    app.back_button.click()
    assert "face 3 of 4" in app.status.value and "your answer: <b>sad</b>" in app.status.value
    app.buttons["fear"].click()  # changes face 3's answer, then shows the next face without one
    app.buttons["angry"].click()  # face 4; then the skipped face 2 comes round
    assert "face 2 of 4" in app.status.value and app.results.children[0].value.count("2</b> faces") == 1
    app.buttons["sad"].click()  # the last face: the scores show by themselves
    scores = app.last_scores
    assert app.session.done and scores.faces == 4 and "4</b> faces" in app.results.children[0].value
    assert scores.accuracy == 0.25 and scores.model_accuracy == 0.5 and scores.agreement_with_model == 0.75
    assert (tmp_path / "labels_ana.csv").read_text() == "id,emotion\nface-0,3\nface-1,4\nface-2,2\nface-3,0\n"
    assert "a valid <code>id,emotion</code> file" in app.results.children[-1].value
    matrix = scores.confusion
    assert matrix.loc["disgust", "angry"] == matrix.loc["fear", "sad"] == matrix.loc["sad", "fear"] == 1


def test_model_labels_go_through_the_one_prediction_path(small_sample):
    from fercourse.data import as_flat
    from fercourse.models import build_baseline, predict_proba

    faces = labelling_set(small_sample, count=20)
    forest = build_baseline("random_forest", random_state=0, n_estimators=5)
    forest.fit(as_flat(small_sample.train.X), small_sample.train.y)
    assert model_labels(faces, forest).tolist() == predict_proba(forest, faces.images).argmax(axis=1).tolist()
