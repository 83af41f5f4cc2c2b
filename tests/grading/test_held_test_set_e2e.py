"""End to end: a course set up with an instructor-held test set (``grade setup --test-set``).

The built-in sample plays the public dataset (its test faces: the public part, released as a
setup without a held set releases them) and faces generated with another seed play the
instructor's own faces (an image folder of ``<emotion>/`` subfolders: the private part). a1
submissions built from the key show that the tiers count the private rows only, that feedback
shows the public accuracy, that the leaderboards rank the two parts, and that ``grade review``
flags an implausible accuracy without changing its points.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from grading_helpers import cell_text

from fercourse.grading._testing import A1_QUICK_SOLUTIONS

pytestmark = pytest.mark.slow

A1 = "a1_baselines"
N_TRAIN, N_TEST, N_HELD = 700, 140, 60


def submission(key_rows: dict[str, int], public: set[str], public_right: float,
               private_right: float) -> bytes:
    """A CSV right on the first ``public_right`` of the public ids and ``private_right`` of the private."""
    labels = {test_id: (label + 1) % 7 for test_id, label in key_rows.items()}
    for ids, share in ((sorted(i for i in key_rows if i in public), public_right),
                       (sorted(i for i in key_rows if i not in public), private_right)):
        labels.update({test_id: key_rows[test_id] for test_id in ids[:round(len(ids) * share)]})
    return ("id,emotion\n" + "".join(f"{i},{labels[i]}\n" for i in key_rows)).encode()


def test_held_faces_are_the_graded_private_part_end_to_end(tmp_path, capsys):
    from fercourse.cli import main
    from fercourse.data import load
    from fercourse.data.writers import release_ids, save
    from fercourse.grading._testing import CALIBRATION_SALT, gradebook_totals, make_course, nbgrader, submit
    from fercourse.grading.instructor_files import split_path
    from fercourse.grading.records.split import PublicPrivateSplit

    held_source = load("sample", n_train=7, n_test=N_HELD, seed=11)
    save(held_source, tmp_path / "held", "folders")  # held/test/<emotion>/*.png: the instructor's faces
    course = make_course(tmp_path, n_train=N_TRAIN, n_test=N_TEST, test_set=tmp_path / "held" / "test")

    # The public part is the sample's test set with the ids and pixels it has without a held set.
    sample = load("sample", n_train=N_TRAIN, n_test=N_TEST)
    split = PublicPrivateSplit.read(split_path(course.key))
    assert split.public == set(release_ids(CALIBRATION_SALT, "test", sample.test.ids).tolist())
    assert (len(split.public), len(split.private), split.tiers_on) == (N_TEST, N_HELD, "private")
    released = load(course.data_dir(A1), cache=False).test
    public_rows = np.isin(released.ids, sorted(split.public))
    assert len(released) == N_TEST + N_HELD
    faces = {face.tobytes() for face in sample.test.images}
    assert all(face.tobytes() in faces for face in released.images[public_rows])
    assert not any(face.tobytes() in faces for face in released.images[~public_rows])

    nbgrader(course, "generate_assignment", A1)
    key_rows = {line.split(",")[0]: int(line.split(",")[1]) for line in course.key.read_text().split()[1:]}
    files = {"lookup": submission(key_rows, split.public, 1.0, 0.0),  # copied the public labels
             "leak": submission(key_rows, split.public, 1.0, 1.0),  # implausible everywhere
             "fair": submission(key_rows, split.public, 0.3, 0.4)}
    for student, content in files.items():
        submit(course, student, A1, files={"submission.csv": content}, replace=A1_QUICK_SOLUTIONS)
    nbgrader(course, "autograde", A1, key=True)

    # The tiers count the held faces only: public accuracy earns nothing by itself.
    totals = gradebook_totals(course.root, A1)
    assert totals == {"lookup": 3.0, "leak": 6.0, "fair": 6.0}  # 3 in-kernel points + tiers
    lookup = cell_text(course, "lookup", A1, "accuracy_tiers")
    assert f"public accuracy 1.00 on the {N_TEST} public test rows, 0 of 3 tiers cleared (the tiers " \
           f"count the {N_HELD} private test rows, faces held by your instructor" in lookup
    assert "accuracy 0.00" not in lookup and "accuracy 0.70" not in lookup  # neither private nor all rows

    pages = {}
    for label, extra in (("public", []), ("final", ["--final"])):
        out = tmp_path / f"{label}.html"
        arguments = ["grade", "leaderboard", A1, "--course", str(course.root), "--out", str(out), *extra]
        assert main(arguments) == 0
        with out.with_suffix(".csv").open() as handle:
            pages[label] = [(r["rank"], r["name"], r["accuracy"], r["n"]) for r in csv.DictReader(handle)]
    assert pages["public"] == [("1", "leak", "1.000000", "140"), ("1", "lookup", "1.000000", "140"),
                               ("3", "fair", "0.300000", "140")]
    assert pages["final"] == [("1", "leak", "1.000000", "60"), ("2", "fair", "0.400000", "60"),
                              ("3", "lookup", "0.000000", "60")]

    capsys.readouterr()
    report = tmp_path / "review.csv"
    assert main(["grade", "review", A1, "--course", str(course.root), "--out", str(report)]) == 0
    out = capsys.readouterr().out
    assert "review of a1_baselines: 2 of 3 graded submissions need a look (ceiling 0.85" in out
    assert "  leak: implausible (accuracy 1.0000, 3 of 3 tiers kept): accuracy above the ceiling 0.85: " \
           "all 1.0000 on 200 rows; public 1.0000 on 140 rows; private 1.0000 on 60 rows" in out
    assert "  lookup: implausible (accuracy 0.7000, 0 of 3 tiers kept): accuracy above the ceiling 0.85: " \
           "public 1.0000 on 140 rows" in out and "fair" not in out
    with report.open() as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"leak", "lookup"} and rows["leak"]["points"] == "3"
    assert gradebook_totals(course.root, A1) == totals  # flagged, never changed
