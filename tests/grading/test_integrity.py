"""The check after each student that their kernel changed none of the instructor's files."""

from __future__ import annotations

import os

import pytest

from fercourse.grading.plugins.integrity import changes, file_digest, take_snapshot


@pytest.fixture
def course(tmp_path):
    """A course folder with two students, a gradebook and the instructor files."""
    import sqlite3

    from nbgrader.coursedir import CourseDirectory

    root = tmp_path / "course"
    for path, text in {"nbgrader_config.py": "c = get_config()\n", "thresholds.json": "{}\n",
                       "submitted/ada/a1/a1.ipynb": "{}", "submitted/bob/a1/a1.ipynb": "{}",
                       "submitted/bob/a1/submission.csv": "id,emotion\na,3\n",
                       "autograded/bob/a1/a1.ipynb": "{}", "autograded/ada/a1/data/test.csv": "id,pixels\n",
                       "source/a1/a1.ipynb": "{}"}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    with sqlite3.connect(root / "gradebook.db") as db:  # a table shaped as nbgrader's
        db.execute("CREATE TABLE student (id VARCHAR(128) PRIMARY KEY, first_name VARCHAR(128))")
        db.executemany("INSERT INTO student VALUES (?, ?)", [("ada", "Ada"), ("bob", "Bob")])
    db.close()
    coursedir = CourseDirectory(root=str(root), db_url=db_url, course_id="course")
    return coursedir


def snapshot(coursedir):
    root = coursedir.root
    files = {"nbgrader_config.py": f"{root}/nbgrader_config.py", "thresholds.json": f"{root}/thresholds.json",
             "answer_key.pin.json": f"{root}/answer_key.pin.json"}
    return take_snapshot(coursedir, "ada", "a1", files)


def test_nothing_changed_and_the_students_own_folder_is_free(course):
    before = snapshot(course)
    own = f"{course.root}/autograded/ada/a1"
    with open(f"{own}/submission.csv", "w") as handle:  # what the kernel is meant to write
        handle.write("id,emotion\n")
    os.makedirs(f"{own}/.ipynb_checkpoints")
    assert changes(before, snapshot(course)) == []


def test_another_students_files_are_watched(course):
    before = snapshot(course)
    with open(f"{course.root}/submitted/bob/a1/submission.csv", "a") as handle:
        handle.write("b,4\n")
    with open(f"{course.root}/autograded/bob/a1/extra.py", "w") as handle:
        handle.write("")
    os.remove(f"{course.root}/autograded/bob/a1/a1.ipynb")
    found = changes(before, snapshot(course))
    assert "submitted/bob/a1/submission.csv (modified)" in found
    assert "autograded/bob/a1/extra.py (added)" in found and "autograded/bob/a1/a1.ipynb (removed)" in found


def test_the_students_own_submission_and_the_sources_are_watched(course):
    before = snapshot(course)
    with open(f"{course.root}/submitted/ada/a1/a1.ipynb", "w") as handle:
        handle.write('{"cells": []}')
    with open(f"{course.root}/source/a1/a1.ipynb", "w") as handle:
        handle.write('{"cells": []}')
    assert changes(before, snapshot(course)) == ["source/a1/a1.ipynb (modified)",
                                                 "submitted/ada/a1/a1.ipynb (modified)"]


def test_instructor_files_are_hashed(course):
    before = snapshot(course)
    with open(f"{course.root}/thresholds.json", "w") as handle:
        handle.write('{"a1": {"sample": [0.01, 0.02, 0.03]}}\n')  # same length: only the hash tells
    with open(f"{course.root}/answer_key.pin.json", "w") as handle:
        handle.write("{}")
    thresholds, pin = file_digest(f"{course.root}/thresholds.json"), file_digest(handle.name)
    assert changes(before, snapshot(course)) == [f"thresholds.json (SHA-256 now {thresholds})",
                                                 f"answer_key.pin.json (SHA-256 now {pin})"]
    assert before.digests["answer_key.pin.json"] == "missing"


def test_gradebook_rows_are_watched(course):
    import sqlite3

    before = snapshot(course)
    with sqlite3.connect(f"{course.root}/gradebook.db") as db:
        db.execute("UPDATE student SET first_name = 'Bobby' WHERE id = 'bob'")
    db.close()
    assert changes(before, snapshot(course)) == ["the gradebook's rows"]
