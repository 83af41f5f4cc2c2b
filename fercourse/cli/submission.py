"""``fercourse submission``: validate a submission CSV against test.csv, score it against a key."""

from __future__ import annotations

import argparse
import json
import sys

from fercourse.cli import add_command_group

CONTRACT = ("A submission is a UTF-8 CSV with the header 'id,emotion' and one row per test id; emotion is an "
            "integer 0-6 (0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral). Class names, "
            "a byte-order mark, other delimiters, extra columns and 3.0-style labels are rejected; spaces "
            "around values, CRLF line ends and blank lines are tolerated.")


def register(subparsers) -> None:
    commands = add_command_group(subparsers, "submission",
                                 description="Check a submission CSV against the course contract, or "
                                             "score it against an answer key. " + CONTRACT)

    validate = commands.add_parser(
        "validate", help="list every problem with a submission (exit 0 when valid, 1 otherwise)",
        description="Check SUBMISSION against the contract and the ids of --test. Prints 'valid' and exits "
                    "0, or prints every problem (one line per kind, with line numbers) and exits 1. "
                    + CONTRACT)
    validate.add_argument("submission", help="the submission CSV, e.g. submission.csv")
    validate.add_argument("--test", required=True, help="the released test.csv (id,pixels) whose ids must "
                                                        "appear")
    validate.set_defaults(handler=run_validate)

    score = commands.add_parser(
        "score", help="accuracy, macro-F1 and per-class recall against an answer key",
        description="Score SUBMISSION against the instructor's answer key (id,emotion). An invalid "
                    "submission prints its problems and exits 1.")
    score.add_argument("submission", help="the submission CSV")
    score.add_argument("--key", required=True, help="the answer key CSV (id,emotion), instructor-only")
    score.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    score.set_defaults(handler=run_score)


def run_validate(args: argparse.Namespace) -> int:
    from fercourse.submission import validate_submission

    problems = validate_submission(args.submission, args.test)
    if not problems:
        print(f"{args.submission}: valid")
        return 0
    print(f"{args.submission}: {len(problems)} problem{'s' if len(problems) > 1 else ''}:")
    for problem in problems:
        print(f"- {problem}")
    return 1


def run_score(args: argparse.Namespace) -> int:
    from fercourse.submission import SubmissionError, format_score, score_submission

    try:
        result = score_submission(args.submission, args.key)
    except SubmissionError as error:
        print(f"{args.submission}: not scored, {len(error.problems)} problem(s):", file=sys.stderr)
        for problem in error.problems:
            print(f"- {problem}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if args.json else format_score(result))
    return 0
