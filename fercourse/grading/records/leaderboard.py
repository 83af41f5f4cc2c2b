"""The class leaderboard, Kaggle style: ``fercourse grade leaderboard NAME [--final] --out page.html``.

Ranks the class from the verdicts the grader recorded outside the student kernels
(:mod:`fercourse.grading.records.verdicts`): by accuracy on the **public** test rows while the assignment
runs, on the **private** rows with ``final=True`` (:mod:`fercourse.grading.records.split`). Equal accuracy
(the same number of correct rows: every submission is scored on the same rows) shares a rank, the
next rank skipping as many places (1, 2, 2, 4). Late submissions are ranked and marked, with how late
they were, from nbgrader's gradebook (the submission's timestamp against the due date, extensions
included). Submissions without a valid ``submission.csv``, or whose accuracy points were withheld,
are listed below the ranking, unranked. With ``pseudonyms=True`` students appear under their
stable pseudonym (:mod:`fercourse.grading.records.pseudonyms`) and their ids appear nowhere on the page or
in the CSV.

The page is one static HTML file (inline style, no script, no external resources: it opens offline
in any browser) with a CSV of the same rows next to it.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from fercourse.errors import InputError
from fercourse.grading.records.history import public_accuracies, read_history
from fercourse.grading.records.pseudonyms import unique_pseudonyms
from fercourse.grading.records.verdicts import read_verdicts

NOT_RANKED = {"invalid": "not ranked: no valid submission.csv",
              "withheld": "not ranked: accuracy points withheld (see the feedback)"}
Lateness = dict[str, tuple[float, "datetime | None"]]
"""student -> (seconds late, submission time) from the gradebook."""
CSV_FIELDS = ("rank", "name", "accuracy", "correct", "n", "late", "hours_late", "submitted_at", "status",
              "history")


@dataclass(frozen=True)
class Row:
    """One student's line: ``rank`` None for an unranked submission."""

    rank: int | None
    name: str
    accuracy: float | None
    correct: int | None
    n: int | None
    late: bool
    seconds_late: float
    submitted_at: datetime | None
    status: str
    #: public accuracy of each of the student's submissions, oldest first (None: not scored)
    history: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Standings:
    """The ranked class for one assignment, public or final."""

    assignment: str
    final: bool
    pseudonyms: bool
    rows: tuple[Row, ...]
    n_scored_rows: int
    n_other_rows: int
    split: bool
    due: datetime | None
    generated: datetime

    @property
    def label(self) -> str:
        """``final`` or ``public``."""
        return "final" if self.final else "public"


def competition_ranks(correct: list[int]) -> list[int]:
    """Ranks for scores sorted best first: ties share a rank, the next rank skips (1, 2, 2, 4).

    Examples
    --------
    >>> competition_ranks([90, 85, 85, 70, 70, 70, 60])
    [1, 2, 2, 4, 4, 4, 7]
    """
    ranks = []
    for index, value in enumerate(correct):
        ranks.append(ranks[-1] if index and value == correct[index - 1] else index + 1)
    return ranks


def rank_verdicts(records: dict[str, dict], *, final: bool, pseudonyms: bool,
                  lateness: Lateness | None = None,
                  histories: dict[str, tuple[float | None, ...]] | None = None) -> list[Row]:
    """Rows, ranked best first then the unranked, from ``student -> verdict record``.

    ``lateness`` maps a student to (seconds late, submission time) from the gradebook; students
    missing from it count as on time. ``histories`` maps a student to the public accuracies of
    their submissions (:mod:`fercourse.grading.records.history`).
    """
    part = "private" if final else "public"
    lateness = lateness or {}
    names = (unique_pseudonyms({s: r["pseudonym"] for s, r in records.items()}) if pseudonyms
             else {s: s for s in records})
    rows = []
    for student, record in records.items():
        seconds_late, submitted = lateness.get(student, (0.0, None))
        scores = record.get(part) if record.get("status") == "scored" else None
        rows.append(Row(None, names[student], scores and scores["accuracy"], scores and scores["correct"],
                        scores and scores["n"], seconds_late > 0, seconds_late, submitted,
                        record.get("status", "invalid"), (histories or {}).get(student, ())))
    ranked = sorted((r for r in rows if r.correct is not None), key=lambda r: (-r.correct, r.name))
    unranked = sorted((r for r in rows if r.correct is None), key=lambda r: r.name)
    ranks = competition_ranks([r.correct for r in ranked])
    return [replace(row, rank=rank) for rank, row in zip(ranks, ranked)] + unranked


def course_gradebook(course: Path) -> tuple[str, str]:
    """(db_url, course_id) from the course's ``nbgrader_config.py`` (nbgrader's defaults otherwise)."""
    from traitlets.config.loader import PyFileConfigLoader

    config_file = course / "nbgrader_config.py"
    db_url, course_id = f"sqlite:///{course / 'gradebook.db'}", "default_course"
    if config_file.is_file():
        config = PyFileConfigLoader(config_file.name, str(course)).load_config()
        directory = config.get("CourseDirectory", {})
        db_url = directory.get("db_url", db_url)
        course_id = directory.get("course_id", course_id)
    return db_url, course_id


def gradebook_lateness(course: Path, assignment: str,
                       students: list[str]) -> tuple[Lateness, datetime | None]:
    """Per student (seconds late, submission time), and the assignment's due date, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    db_url, course_id = course_gradebook(course)
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).is_file():
        return {}, None
    out: Lateness = {}
    with Gradebook(db_url, course_id) as gradebook:
        try:
            due = gradebook.find_assignment(assignment).duedate
        except MissingEntry:
            return {}, None
        for student in students:
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                continue
            out[student] = (float(submission.total_seconds_late), submission.timestamp)
    return out, due


def known_assignments(course: Path) -> list[str]:
    """Assignment names of a course: the folders of ``source/`` and ``autograded/<student>/``."""
    names = {p.name for p in (course / "source").glob("*") if p.is_dir()}
    names |= {p.name for p in (course / "autograded").glob("*/*") if p.is_dir()}
    return sorted(names)


def standings(course: str | Path, assignment: str, *, final: bool = False, pseudonyms: bool = False,
              now: datetime | None = None) -> Standings:
    """The class's standings for ``assignment`` from the verdicts under ``course/autograded/``.

    Raises
    ------
    FileNotFoundError
        ``course`` is not a folder.
    InputError
        Unknown assignment, no verdicts yet, verdicts from different setups, or ``final`` for
        verdicts graded without a public/private split; the message says what to run.
    """
    course = Path(course).resolve()
    if not course.is_dir():
        raise FileNotFoundError(f"{course}: no such course folder (expected the nbgrader course, e.g. "
                                "autograder/)")
    known = known_assignments(course)
    if assignment not in known:
        raise InputError(f"unknown assignment {assignment!r} in {course}: expected one of "
                         f"{', '.join(known) or '(none: the course has no source/ folders)'}")
    records = read_verdicts(course / "autograded", assignment)
    if not records:
        raise InputError(f"no verdicts for {assignment} yet in {course / 'autograded'}: autograde it "
                         f"first (FERCOURSE_ANSWER_KEY=KEY nbgrader autograde {assignment}); submissions "
                         "autograded before fercourse recorded verdicts need autograding again (--force)")
    scored = {s: r for s, r in records.items() if r.get("status") == "scored"}
    setups = {(r.get("split"), (r.get("public") or {}).get("n"), (r.get("private") or {}).get("n"))
              for r in scored.values()}
    if len(setups) > 1:
        raise InputError(f"the verdicts of {assignment} come from {len(setups)} different course setups "
                         f"(split, public rows, private rows: {sorted(setups, key=str)}): autograde every "
                         f"submission again after the last `fercourse grade setup` (nbgrader autograde "
                         f"{assignment} --force)")
    split, n_public, n_private = next(iter(setups)) if setups else ("public/private", 0, 0)
    if final and split != "public/private":
        raise InputError(f"the final standings of {assignment} need the private test rows, but its verdicts "
                         "were graded without a public/private split (a course set up before fercourse "
                         "wrote one): re-run `fercourse grade setup` with the same source and --salt (the "
                         f"same ids and key; it adds the split), then `nbgrader autograde {assignment} "
                         "--force`")
    lateness, due = gradebook_lateness(course, assignment, sorted(records))
    histories = {student: public_accuracies(entries)
                 for student, entries in read_history(course, assignment).items()}
    rows = rank_verdicts(records, final=final, pseudonyms=pseudonyms, lateness=lateness, histories=histories)
    scored_rows, other_rows = (n_private, n_public) if final else (n_public, n_private or 0)
    return Standings(assignment, final, pseudonyms, tuple(rows), scored_rows or 0, other_rows or 0,
                     split == "public/private", due, now or datetime.now(timezone.utc))


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def history_text(history: tuple[float | None, ...], separator: str = " \u2192 ") -> str:
    """A student's public accuracies, oldest first (``-`` for a submission that was not scored).

    Examples
    --------
    >>> history_text((0.25, None, 0.3125))
    '0.2500 \u2192 - \u2192 0.3125'
    """
    return separator.join("-" if value is None else f"{value:.4f}" for value in history)


def render_csv(board: Standings) -> str:
    """The standings as CSV (``rank`` empty for an unranked row; ``name`` a pseudonym when asked, and
    then no submission times, which could tell who is who; ``history`` the public accuracy of each
    submission, oldest first, separated by ``;``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in board.rows:
        writer.writerow([row.rank or "", row.name, "" if row.accuracy is None else f"{row.accuracy:.6f}",
                         "" if row.correct is None else row.correct, row.n or "", "yes" if row.late else "no",
                         f"{row.seconds_late / 3600:.2f}" if row.late else "",
                         "" if board.pseudonyms else _when(row.submitted_at), row.status,
                         history_text(row.history, ";")])
    return out.getvalue()


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 56rem; padding: 0 1rem; color: #1d2430; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.label { display: inline-block; padding: .1rem .5rem; border-radius: .3rem; color: #fff; font-size: .9rem;
         background: #2a6fb0; vertical-align: middle; }
.label.final { background: #a33b20; }
p.about { color: #4a5463; margin-top: .4rem; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid #d9dde3; }
th { background: #f1f3f6; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
td.history { color: #4a5463; font-size: .9rem; font-variant-numeric: tabular-nums; }
tr.unranked td { color: #6b7480; }
.late { display: inline-block; padding: 0 .4rem; border-radius: .3rem; background: #f6d7a7; color: #6a3d00;
        font-size: .85rem; }
footer { margin-top: 1.5rem; color: #6b7480; font-size: .85rem; }
"""


def render_html(board: Standings) -> str:
    """The standings as one self-contained HTML page (inline style only; no script, no external resource)."""
    e = html.escape
    who, when_header = ("Pseudonym", "Note") if board.pseudonyms else ("Student", "Submitted")
    if not board.split:
        about = f"Accuracy on all {board.n_scored_rows} hidden test rows (this course has no private part)."
    elif board.final:
        about = (f"Final standings: accuracy on the {board.n_scored_rows} private test rows, which no "
                 f"feedback showed. The public standings used the other {board.n_other_rows} rows.")
    else:
        about = (f"Public standings: accuracy on the {board.n_scored_rows} public test rows, as in your "
                 f"feedback. The final standings use the other {board.n_other_rows} (private) rows.")
    lines = []
    for row in board.rows:
        late = (f' <span class="late" title="submitted {_hours(row.seconds_late)} after the due date">late '
                f"({_hours(row.seconds_late)})</span>" if row.late else "")
        if row.rank is None:
            note = NOT_RANKED.get(row.status, row.status)
            lines.append(f'<tr class="unranked"><td class="number">&ndash;</td><td>{e(row.name)}{late}</td>'
                         f'<td class="number">&ndash;</td><td>{e(note)}</td>'
                         f'<td class="history">{e(history_text(row.history))}</td></tr>')
        else:
            when = "" if board.pseudonyms else _when(row.submitted_at)  # times could tell who is who
            lines.append(f'<tr><td class="number">{row.rank}</td><td>{e(row.name)}{late}</td>'
                         f'<td class="number">{row.accuracy:.4f}</td><td>{e(when)}</td>'
                         f'<td class="history">{e(history_text(row.history))}</td></tr>')
    due = f" Due {e(_when(board.due))}; late submissions are marked." if board.due else ""
    title = f"Leaderboard: {board.assignment} ({board.label})"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{e(board.assignment)} <span class="label {board.label}">{board.label}</span></h1>
<p class="about">{e(about)}{due}</p>
<table id="leaderboard">
<thead><tr><th class="number">Rank</th><th>{who}</th><th class="number">Accuracy</th><th>{when_header}</th>
<th title="public accuracy of each submission, oldest first">History (public)</th></tr></thead>
<tbody>
{chr(10).join(lines)}
</tbody>
</table>
<footer>{len([r for r in board.rows if r.rank])} ranked, {len(board.rows)} submissions. Generated
{e(_when(board.generated))} by <code>fercourse grade leaderboard</code>. Equal accuracy shares a rank.
History: the public accuracy of each graded submission, oldest first (&ndash;: not scored).
</footer>
</body>
</html>
"""


def write_leaderboard(board: Standings, out: str | Path) -> tuple[Path, Path]:
    """Write the HTML page to ``out`` and the CSV next to it (same name, ``.csv``); returns both paths."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out {out}: expected an .html file name (the CSV is written next to it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(board), encoding="utf-8")
    table = out.with_suffix(".csv")
    table.write_text(render_csv(board), encoding="utf-8")
    return out, table


__all__ = ["Row", "Standings", "competition_ranks", "history_text", "rank_verdicts", "render_csv",
           "render_html", "standings", "write_leaderboard"]
