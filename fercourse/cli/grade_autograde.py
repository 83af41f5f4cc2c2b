"""``fercourse grade autograde``: nbgrader autograde of a whole class, in parallel or on a Dask cluster."""

from __future__ import annotations

import argparse
import json
import sys

from fercourse.config import ANSWER_KEY_ENV


def register_subcommand(commands) -> None:
    """Add ``autograde`` to the ``fercourse grade`` command group."""
    autograde = commands.add_parser(
        "autograde", help="autograde every submission of an assignment in parallel (or on a Dask cluster)",
        description="Autograde ASSIGNMENT for every submitted student: each student is one task that runs "
                    "nbgrader's own autograde (sandbox, outside-the-kernel scoring, integrity checks) in a "
                    "scratch course of its own, on --workers local processes or on the workers of a Dask "
                    "cluster (--scheduler). This process alone writes the gradebook and places the "
                    "autograded folders where nbgrader puts them, so generate_feedback, export and "
                    "formgrader work as after `nbgrader autograde`. A failed task is retried once, then "
                    "reported by student. Submissions graded already and unchanged since are skipped "
                    "unless --force. The answer key's path comes from "
                    f"{ANSWER_KEY_ENV}, as for nbgrader autograde.",
        epilog=f"Example: {ANSWER_KEY_ENV}=~/fercourse-private/answer_key.csv fercourse grade autograde "
               "a2_cnn --course autograder --workers 4 (instructor guide, section Large classes)")
    autograde.add_argument("assignment", help="the assignment to grade, e.g. a1_baselines")
    autograde.add_argument("--course", default="autograder",
                           help="the nbgrader course folder (default autograder)")
    autograde.add_argument("--student", default="*", metavar="GLOB",
                           help="only students whose id matches this glob, as nbgrader's --student "
                                "(default: all)")
    where = autograde.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="submissions graded at once on this machine (default: the number of cores)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a Dask distributed scheduler, e.g. tcp://10.0.0.5:8786: tasks run on its "
                            "workers (needs fercourse[cluster]; see the guide for what workers need)")
    autograde.add_argument("--force", action="store_true",
                           help="grade every matching submission again, even unchanged ones")
    autograde.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                           help="per-cell limit for the student notebooks (default: the course's "
                                "c.Execute.timeout)")
    autograde.add_argument("--json", action="store_true",
                           help="print the summary and every student's outcome as JSON")
    autograde.set_defaults(handler=run_autograde)


def run_autograde(args: argparse.Namespace) -> int:
    from fercourse.grading.parallel import autograde

    extra = (f"--Execute.timeout={args.timeout}",) if args.timeout is not None else ()
    summary = autograde(args.course, args.assignment, students=args.student, workers=args.workers,
                        scheduler=args.scheduler, force=args.force, nbgrader_args=extra,
                        log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print("\n".join(summary.lines()))
    return 1 if summary.count("failed") else 0
