"""The public/private split and the class leaderboard, from known verdicts (no nbgrader run)."""

from __future__ import annotations

import csv
import io
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fercourse.grading.instructor_files import split_path
from fercourse.grading.records.leaderboard import render_csv, render_html, standings, write_leaderboard
from fercourse.grading.records.pseudonyms import pseudonym
from fercourse.grading.records.split import PublicPrivateSplit
from fercourse.grading.records.verdicts import write_verdict

IDS = [f"t{i:04d}" for i in range(2000)]
DUE = datetime(2026, 12, 1, 12, 0)
NOW = datetime(2026, 12, 3, 15, 30)


@pytest.mark.parametrize("fraction", [0.5, 0.3, 0.9])
def test_split_is_disjoint_covering_and_the_stated_fraction(fraction):
    split = PublicPrivateSplit.from_ids(IDS, salt="course-2026", public_fraction=fraction)
    assert split.public.isdisjoint(split.private) and split.public | split.private == set(IDS)
    assert len(split.public) == round(fraction * len(IDS))
    # a hash order, not the ids' order: both parts reach across the whole id range
    assert {i[:2] for i in split.public} == {i[:2] for i in split.private} == {"t0", "t1"}


def test_split_is_deterministic_per_salt_and_independent_of_order(tmp_path):
    one = PublicPrivateSplit.from_ids(IDS, salt="course-2026")
    assert PublicPrivateSplit.from_ids(list(reversed(IDS)), salt="course-2026") == one
    other = PublicPrivateSplit.from_ids(IDS, salt="course-2027")
    assert 0.4 < len(one.public & other.public) / len(one.public) < 0.6  # another salt, another split
    assert one.pseudonym_secret != other.pseudonym_secret and "course-2026" not in one.to_json()
    path = split_path(tmp_path / "answer_key.csv")
    digest = one.write(path)
    assert path.name == "answer_key.split.json" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert PublicPrivateSplit.read(path, digest) == one
    with pytest.raises(ValueError, match="has SHA-256 .* but the course pins 0+: it was edited"):
        PublicPrivateSplit.read(path, "0" * 64)
    with pytest.raises(ValueError, match=r"does not match the answer key: 1 ids are in neither part \['x'\]"):
        one.check_covers([*IDS, "x"])
    with pytest.raises(ValueError, match="public fraction 1.0: expected a number strictly between 0 and 1"):
        PublicPrivateSplit.from_ids(IDS, salt="s", public_fraction=1.0)


def record(student, public, private, status="scored", n_public=50, n_private=50):
    """A verdict as the grader writes it; ``public``/``private`` are correct rows."""
    def part(correct, n):
        return {"n": n, "correct": correct, "accuracy": correct / n} if status == "scored" else None

    return {"student": student, "assignment": "a1", "notebook": "a1", "status": status, "reason": None,
            "pseudonym": pseudonym(student, "secret"), "split": "public/private",
            "public": part(public, n_public), "private": part(private, n_private)}


# public order: ada 45 > bo = cy 40 > dee 30; private: dee 48 > cy 44 > ada 30 = bo 30; eve invalid
VERDICTS = {"ada": (45, 30), "bo": (40, 30), "cy": (40, 44), "dee": (30, 48)}


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """An nbgrader gradebook: a1 due on DUE, bo and eve submitted late (made once: it takes seconds)."""
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    # a new gradebook runs nbgrader's `alembic`, which lives next to this Python
    search_path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{search_path}"
    submitted = {"ada": DUE - timedelta(hours=2), "bo": DUE + timedelta(hours=3), "cy": DUE,
                 "dee": DUE - timedelta(days=1), "eve": DUE + timedelta(days=3)}
    try:
        with Gradebook(f"sqlite:///{path}", "fercourse") as book:
            book.add_assignment("a1", duedate=DUE)
            for student, moment in submitted.items():
                book.add_student(student)
                book.add_submission("a1", student, timestamp=moment)
    finally:
        os.environ["PATH"] = search_path
    return path


@pytest.fixture
def course(tmp_path, gradebook):
    """A course folder with five students' verdicts and the gradebook above."""
    import shutil

    root = tmp_path / "course"
    (root / "source" / "a1").mkdir(parents=True)
    (root / "source" / "a2").mkdir(parents=True)
    shutil.copyfile(gradebook, root / "gradebook.db")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{root / 'gradebook.db'}'\n"
        "c.CourseDirectory.course_id = 'fercourse'\n")
    for student, (public, private) in VERDICTS.items():
        folder = root / "autograded" / student / "a1"
        folder.mkdir(parents=True)
        write_verdict(folder, "a1", record(student, public, private))
    (root / "autograded" / "eve" / "a1").mkdir(parents=True)
    write_verdict(root / "autograded" / "eve" / "a1", "a1", record("eve", 0, 0, status="invalid"))
    return root


def table(board):
    return [(row.rank, row.name, row.correct, row.late) for row in board.rows]


def test_public_and_final_standings_rank_with_ties_and_late_marks(course):
    public = standings(course, "a1", now=NOW)
    assert table(public) == [(1, "ada", 45, False), (2, "bo", 40, True), (2, "cy", 40, False),
                             (4, "dee", 30, False), (None, "eve", None, True)]
    assert public.rows[1].seconds_late == 3 * 3600 and public.due == DUE
    final = standings(course, "a1", final=True, now=NOW)
    assert table(final) == [(1, "dee", 48, False), (2, "cy", 44, False), (3, "ada", 30, False),
                            (3, "bo", 30, True), (None, "eve", None, True)]
    assert (public.n_scored_rows, final.n_scored_rows, final.label) == (50, 50, "final")

    page = render_html(final)
    assert "<title>Leaderboard: a1 (final)</title>" in page and "2026-12-03 15:30 UTC" in page
    assert "accuracy on the 50 private test rows" in page and "<script" not in page
    assert "http" not in page.replace('name="viewport"', "")  # nothing to fetch: opens offline
    body = page[page.index("<tbody>"):]
    where = [body.index(f"<td>{name}") for name in ("dee", "cy", "ada", "bo", "eve")]
    assert where == sorted(where)
    assert '<td class="number">0.9600</td>' in page and "late (3.0 h)" in page
    assert "not ranked: no valid submission.csv" in page
    rows = list(csv.DictReader(io.StringIO(render_csv(public))))
    assert [(r["rank"], r["name"], r["accuracy"], r["late"]) for r in rows] == [
        ("1", "ada", "0.900000", "no"), ("2", "bo", "0.800000", "yes"), ("2", "cy", "0.800000", "no"),
        ("4", "dee", "0.600000", "no"), ("", "eve", "", "yes")]
    assert rows[0]["submitted_at"] == "2026-12-01 10:00 UTC" and rows[4]["status"] == "invalid"


def test_pseudonyms_replace_every_student_id(course, tmp_path):
    board = standings(course, "a1", pseudonyms=True, now=NOW)
    ranks = {"ada": 1, "bo": 2, "cy": 2, "dee": 4, "eve": None}
    assert {row.name: row.rank for row in board.rows} == {pseudonym(s, "secret"): r for s, r in ranks.items()}
    page, table_path = write_leaderboard(board, tmp_path / "out" / "board.html")
    assert table_path.name == "board.csv"
    for text in (page.read_text(), table_path.read_text()):
        assert not any(f">{s}<" in text or f"\n{s}," in text or f",{s}," in text for s in [*VERDICTS, "eve"])
        assert "2026-12-01 10:00" not in text  # submission times could tell who is who
    assert "<th>Pseudonym</th>" in page.read_text()


def test_clear_errors_for_unknown_assignment_no_verdicts_and_final_without_split(course, tmp_path):
    with pytest.raises(ValueError, match=r"unknown assignment 'a3' in .*: expected one of a1, a2"):
        standings(course, "a3")
    with pytest.raises(ValueError, match=r"no verdicts for a2 yet in .*autograded: autograde it first"):
        standings(course, "a2")
    old = record("ada", 45, 0)
    old.update(split="none", private=None)
    write_verdict(course / "autograded" / "ada" / "a1", "a1", old)
    with pytest.raises(ValueError, match="come from 2 different course setups"):
        standings(course, "a1")
    for student in ("bo", "cy", "dee"):
        write_verdict(course / "autograded" / student / "a1", "a1", old | {"student": student})
    assert [row.rank for row in standings(course, "a1").rows][:4] == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="need the private test rows, but its verdicts were graded without a "
                                         "public/private split"):
        standings(course, "a1", final=True)
    with pytest.raises(ValueError, match=r"--out .*board.txt: expected an .html file name"):
        write_leaderboard(standings(course, "a1"), tmp_path / "board.txt")


def test_cli_writes_page_and_csv(course, tmp_path, capsys):
    from fercourse.cli import main

    out = tmp_path / "lb" / "leaderboard.html"
    assert main(["grade", "leaderboard", "a1", "--course", str(course), "--final", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "final standings of a1: 4 ranked, 1 unranked, 2 late; accuracy on 50 private rows" in printed
    assert "top: dee 0.9600" in printed and out.is_file() and out.with_suffix(".csv").is_file()
    assert main(["grade", "leaderboard", "nope", "--course", str(course)]) == 1
    assert "fercourse grade: error: unknown assignment 'nope'" in capsys.readouterr().err


def test_history_shows_each_resubmissions_public_accuracy_and_nothing_private(course, tmp_path):
    from fercourse.grading.records.history import append_history, history_path, read_history

    def graded(student, public, private, sha, status="scored"):
        append_history(course, {**record(student, public, private, status=status), "submission_sha256": sha,
                                "graded_at": "2026-12-01T10:00:00+00:00"})

    graded("ada", 20, 49, "s1")
    graded("ada", 0, 0, "s2", status="invalid")
    graded("ada", 45, 30, "s3")
    graded("ada", 45, 30, "s3")  # the same file graded again (--force): not a new submission
    graded("bo", 40, 30, "b1")
    assert [len(entries) for entries in read_history(course, "a1").values()] == [3, 1]
    assert "49" not in history_path(course, "a1").read_text()  # the log keeps no private score
    board = standings(course, "a1", now=NOW)
    assert {row.name: row.history for row in board.rows if row.history} == {"ada": (0.4, None, 0.9),
                                                                           "bo": (0.8,)}
    rows = {r["name"]: r["history"] for r in csv.DictReader(io.StringIO(render_csv(board)))}
    assert (rows["ada"], rows["bo"], rows["cy"]) == ("0.4000;-;0.9000", "0.8000", "")
    page = render_html(board)
    assert "<td class=\"history\">0.4000 \u2192 - \u2192 0.9000</td>" in page and "0.9800" not in page
    final = render_html(standings(course, "a1", final=True, pseudonyms=True, now=NOW))
    assert "0.4000 \u2192 - \u2192 0.9000" in final and ">ada<" not in final  # public history, pseudonymised
    history_path(course, "a1").write_text("not json\n")
    with pytest.raises(ValueError, match=r"\.fercourse-history-a1\.jsonl.*line 1 is not a history entry"):
        standings(course, "a1")
