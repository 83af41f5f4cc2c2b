"""End to end: real nbgrader autograde of a1 submissions with known public and private accuracies, the
feedback they get back, and the public and final leaderboard pages ranked from the recorded verdicts.

The submissions' CSVs are built from the answer key and its split so that the public and the final
order differ: ``ace`` is perfect on the public rows and poor on the private ones, ``bea`` and ``cal``
(the same CSV: a tie) the other way round, ``dot``'s file is not valid. ``cal`` submitted after the
due date. The notebooks run the quick a1 solutions (seconds each): the points that matter here are
scored outside the kernel.
"""

from __future__ import annotations

import csv
import html
import re

import pytest

from fercourse.grading._testing import A1_QUICK_SOLUTIONS

pytestmark = pytest.mark.slow

A1 = "a1_baselines"


def submission(key_rows: dict[str, int], public: set[str], public_right: float,
               private_right: float) -> bytes:
    """A CSV right on the first ``public_right`` of the public ids and ``private_right`` of the private."""
    wrong = {test_id: (label + 1) % 7 for test_id, label in key_rows.items()}
    labels = dict(wrong)
    for ids, share in ((sorted(i for i in key_rows if i in public), public_right),
                       (sorted(i for i in key_rows if i not in public), private_right)):
        labels.update({test_id: key_rows[test_id] for test_id in ids[:round(len(ids) * share)]})
    return ("id,emotion\n" + "".join(f"{i},{labels[i]}\n" for i in key_rows)).encode()


def test_feedback_shows_public_accuracy_and_leaderboards_rank_the_verdicts(tmp_path):
    from fercourse.cli import main
    from fercourse.grading._testing import make_course, nbgrader, submit
    from fercourse.grading.instructor_files import split_path
    from fercourse.grading.records.split import PublicPrivateSplit

    course = make_course(tmp_path, n_train=700, n_test=140)
    nbgrader(course, "generate_assignment", A1)
    nbgrader(course, "db", "assignment", "add", A1, "--duedate=2026-12-01 12:00:00 UTC")
    key_rows = {line.split(",")[0]: int(line.split(",")[1]) for line in course.key.read_text().split()[1:]}
    split = PublicPrivateSplit.read(split_path(course.key))
    assert (len(split.public), len(split.private)) == (70, 70)
    tie = submission(key_rows, split.public, 0.6, 0.9)
    files = {"ace": submission(key_rows, split.public, 1.0, 0.3), "bea": tie, "cal": tie,
             "dot": tie.replace(b",", b";")}
    for student, content in files.items():
        submit(course, student, A1, files={"submission.csv": content}, replace=A1_QUICK_SOLUTIONS)
    (course.submitted("cal", A1) / "timestamp.txt").write_text("2026-12-02 09:30:00.000000 UTC")
    (course.submitted("ace", A1) / "timestamp.txt").write_text("2026-12-01 11:00:00.000000 UTC")
    nbgrader(course, "autograde", A1, key=True)
    nbgrader(course, "generate_feedback", A1)

    feedback = {s: (course.root / "feedback" / s / A1 / f"{A1}.html").read_text() for s in files}
    assert "public accuracy 1.00 on the 70 public test rows, 3 of 3 tiers cleared" in feedback["ace"]
    assert "public accuracy 0.60 on the 70 public test rows" in feedback["bea"]
    for student, private, overall in (("ace", 0.3, 0.65), ("bea", 0.9, 0.75)):
        for hidden in (private, overall):  # neither the private nor the all-rows accuracy (the notebook's
            # own "validation accuracy 0.9000" line is the student's validation split, not a test figure)
            shown = re.search(rf"(?<!validation )accuracy {hidden:.2f}", feedback[student])
            assert shown is None, (student, hidden)
    assert not [p for p in (course.root / "feedback").rglob("*") if p.is_file() and p.suffix != ".html"]
    # what to work on, from the public rows: ace is right on every public row, bea on 60% of them
    assert "What to work on (measured on the 70 public test rows only):" in feedback["bea"]
    assert "no weak spot stands out" in feedback["ace"] and "per-class recall: angry 1.00" in feedback["ace"]
    taught = html.unescape(feedback["bea"]).split("What to work on")[1]
    assert "confusion matrix (rows: true emotion" in taught and "\nhints:\n- " in taught
    assert "private" not in taught

    pages = {}
    for label, flags in (("public", []), ("final", ["--final"])):
        out = tmp_path / f"{label}.html"
        arguments = ["grade", "leaderboard", A1, "--course", str(course.root), "--out", str(out), *flags]
        assert main(arguments) == 0
        with out.with_suffix(".csv").open() as handle:
            pages[label] = [(r["rank"], r["name"], r["accuracy"], r["late"]) for r in csv.DictReader(handle)]
        assert f"{A1} <span class=\"label {label}\">{label}</span>" in out.read_text()
    assert pages["public"] == [("1", "ace", "1.000000", "no"), ("2", "bea", "0.600000", "no"),
                               ("2", "cal", "0.600000", "yes"), ("", "dot", "", "no")]
    assert pages["final"] == [("1", "bea", "0.900000", "no"), ("1", "cal", "0.900000", "yes"),
                              ("3", "ace", "0.300000", "no"), ("", "dot", "", "no")]

    # ace resubmits a worse file, graded by `fercourse grade autograde`: the board keeps both, in order
    from fercourse.grading.coordinator.parallel import autograde

    submit(course, "ace", A1, files={"submission.csv": submission(key_rows, split.public, 0.5, 0.5)},
           replace=A1_QUICK_SOLUTIONS)
    summary = autograde(course.root, A1, students="ace", workers=1, key=course.key, log=None)
    assert summary.count("graded") == 1
    out = tmp_path / "again.html"
    assert main(["grade", "leaderboard", A1, "--course", str(course.root), "--out", str(out)]) == 0
    with out.with_suffix(".csv").open() as handle:
        history = {r["name"]: r["history"] for r in csv.DictReader(handle)}
    assert history == {"ace": "1.0000;0.5000", "bea": "0.6000", "cal": "0.6000", "dot": "-"}
    assert "1.0000 \u2192 0.5000" in out.read_text()
