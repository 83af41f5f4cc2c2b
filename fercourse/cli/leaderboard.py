"""``fercourse grade leaderboard``: the class's public or final standings as a static HTML page and a CSV."""

from __future__ import annotations

import argparse


def register_grade_command(commands) -> None:
    """Add ``leaderboard`` to the ``fercourse grade`` group."""
    leaderboard = commands.add_parser(
        "leaderboard", help="rank the class on an assignment: static HTML page + CSV (public or --final)",
        description="Rank the class on ASSIGNMENT from the verdicts the grader recorded outside the student "
                    "kernels (autograded/<student>/ASSIGNMENT/.fercourse-verdict-*.json): accuracy on the "
                    "public test rows (what feedback shows), or on the private rows with --final. Equal "
                    "accuracy shares a rank; late submissions (gradebook timestamp after the due date) are "
                    "marked; submissions without a valid submission.csv are listed unranked. Writes --out "
                    "(one HTML file, no scripts or external resources: opens offline) and a CSV next to it.")
    leaderboard.add_argument("assignment", help="assignment name, e.g. a1_baselines")
    leaderboard.add_argument("--course", default="autograder",
                             help="the nbgrader course folder (default autograder)")
    leaderboard.add_argument("--final", action="store_true",
                             help="rank on the private test rows (after the deadline; never shown in "
                                  "feedback)")
    leaderboard.add_argument("--pseudonyms", action="store_true",
                             help="show each student's stable pseudonym (e.g. calm-otter-417; keyed by the "
                                  "offering's secret) instead of the student id, and no submission times")
    leaderboard.add_argument("--out", default="leaderboard.html",
                             help="HTML file to write; the CSV goes next to it (default leaderboard.html)")
    leaderboard.set_defaults(handler=run_leaderboard)


def run_leaderboard(args: argparse.Namespace) -> int:
    from fercourse.grading.leaderboard import standings, write_leaderboard

    board = standings(args.course, args.assignment, final=args.final, pseudonyms=args.pseudonyms)
    page, table = write_leaderboard(board, args.out)
    ranked = [row for row in board.rows if row.rank is not None]
    late = sum(row.late for row in board.rows)
    print(f"{board.label} standings of {board.assignment}: {len(ranked)} ranked, "
          f"{len(board.rows) - len(ranked)} unranked, {late} late; accuracy on {board.n_scored_rows} "
          f"{'private' if board.final else 'public' if board.split else 'test'} rows")
    if ranked:
        print(f"top: {ranked[0].name} {ranked[0].accuracy:.4f}")
    print(f"page: {page}\ncsv:  {table}")
    return 0
