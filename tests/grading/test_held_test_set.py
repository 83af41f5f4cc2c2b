"""Reading an instructor-held test set (fercourse.grading.authoring.held_test_set): both forms, and the
errors an instructor sees for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from fercourse.data import load
from fercourse.data.writers import save
from fercourse.grading.authoring.held_test_set import check_not_public, read_held_test_set


def pixels(value: int) -> str:
    return " ".join([str(value)] * 2304)


def test_an_image_folder_and_a_csv_read_the_same_faces(tmp_path):
    data = load("sample", n_train=7, n_test=14, seed=5)
    save(data, tmp_path / "folders", "folders")
    held = read_held_test_set(tmp_path / "folders" / "test")
    assert held.images.shape == (14, 48, 48) and all(i.startswith("held:") for i in held.ids)
    by_face = {face.tobytes(): label for face, label in zip(data.test.images, data.test.labels)}
    assert [by_face[face.tobytes()] for face in held.images] == held.labels.tolist()
    save(data, tmp_path / "csv", "course-csv")
    from_csv = read_held_test_set(tmp_path / "csv" / "test.csv")
    assert (from_csv.images == data.test.images).all() and (from_csv.labels == data.test.labels).all()


def test_bad_held_sets_name_the_file_or_row(tmp_path):
    from PIL import Image

    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        read_held_test_set(tmp_path / "missing")
    (tmp_path / "big" / "happy").mkdir(parents=True)
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "big" / "happy" / "me.png")
    with pytest.raises(ValueError, match=r"me\.png: the image is 64x64 pixels: expected a 48x48 face crop"):
        read_held_test_set(tmp_path / "big")
    (tmp_path / "odd" / "smug").mkdir(parents=True)
    with pytest.raises(ValueError, match="unknown class folder 'smug'"):
        read_held_test_set(tmp_path / "odd")
    unlabelled = tmp_path / "unlabelled.csv"
    unlabelled.write_text(f"id,pixels\na,{pixels(1)}\n")
    with pytest.raises(ValueError, match=r"unlabelled\.csv, line 1: no 'emotion' column: expected labelled"):
        read_held_test_set(unlabelled)
    broken = tmp_path / "broken.csv"
    broken.write_text(f"emotion,pixels\n3,{pixels(1)}\n9,{pixels(2)}\n")
    with pytest.raises(ValueError, match=r"broken\.csv, line 3: field 'emotion'"):
        read_held_test_set(broken)


def test_held_faces_copied_from_the_public_data_are_refused(tmp_path):
    data = load("sample", n_train=21, n_test=7)
    copied = tmp_path / "held.csv"
    rows = [f"{label},{' '.join(map(str, face.ravel()))}" for face, label in
            zip(data.train.images[:2], data.train.labels[:2])]
    copied.write_text("emotion,pixels\n" + "\n".join(rows) + f"\n0,{pixels(3)}\n")
    held = read_held_test_set(copied)
    with pytest.raises(ValueError, match=r"2 held face\(s\) have exactly the pixels of a face in sample "
                                         r"\(00001, 00002\): those faces are public"):
        check_not_public(held, data, copied)


def test_setup_refuses_a_bad_held_set_before_writing_anything(tmp_path):
    from fercourse.grading.authoring.setup import setup_course

    course = tmp_path / "course"
    (course / "source" / "a1").mkdir(parents=True)
    (course / "source" / "a1" / "a1.ipynb").write_text("{}")
    broken = tmp_path / "held.csv"
    broken.write_text("emotion,pixels\n3,1 2 3\n")
    with pytest.raises(ValueError, match=r"held\.csv, line 2: found 3 pixels"):
        setup_course("sample", course, tmp_path / "private" / "key.csv", n_train=35, n_test=14,
                     test_set=broken)
    assert not (tmp_path / "private").exists() and not (course / "answer_key.pin.json").exists()
