"""``fercourse grade``: the nbgrader course's instructor commands, one group in one module.

``setup`` (data and key pin), ``new`` and ``calibrate`` (an assignment and its tiers), ``tiers`` (the
guide's tables of them),
``autograde`` (a class in parallel or on Dask), ``leaderboard`` (the class's standings) and ``review``
(submissions that deserve a human look). Options
that several commands share are defined once (:func:`_course_option`, :func:`_release_options`).
Building this parser imports nothing heavy: each handler imports the grading code (nbgrader,
TensorFlow) it needs when it runs.
"""

from __future__ import annotations

import argparse
import json
import sys

from fercourse.cli import add_command_group
from fercourse.config import ANSWER_KEY_ENV

COURSE_DEFAULT = "autograder"
DATASETS = ("sample", "fer2013")


def register(subparsers) -> None:
    """Add the ``fercourse grade`` group and its seven commands."""
    commands = add_command_group(subparsers, "grade",
                                 description="Tools for the nbgrader course in autograder/ (see "
                                             "autograder/README.md, the instructor guide).")
    _register_setup(commands)
    _register_new(commands)
    _register_calibrate(commands)
    _register_tiers(commands)
    _register_autograde(commands)
    _register_leaderboard(commands)
    _register_review(commands)


def _course_option(parser: argparse.ArgumentParser) -> None:
    """``--course``: the nbgrader course folder (``autograder/``), for every command of the group."""
    parser.add_argument("--course", default=COURSE_DEFAULT,
                        help=f"the nbgrader course folder (default {COURSE_DEFAULT})")


def _release_options(parser: argparse.ArgumentParser, *, dataset_help: str, salt_help: str) -> None:
    """The options that prepare a release as ``grade setup`` does (``setup`` and ``calibrate``)."""
    parser.add_argument("--dataset", choices=DATASETS, default=None,
                        help=f"{dataset_help} (default: sample for 'sample', fer2013 otherwise)")
    parser.add_argument("--n-train", type=int, default=None,
                        help="sample only: training images (default 10000; the CI e2e course uses 1400)")
    parser.add_argument("--n-test", type=int, default=None,
                        help="sample only: test images (default 2000; CI e2e: 280)")
    parser.add_argument("--salt", default=None, help=salt_help)


def _register_setup(commands) -> None:
    setup = commands.add_parser(
        "setup", help="put train/test CSVs into every assignment and pin the answer key",
        description="Prepare SOURCE like `fercourse data prepare`, copy train.csv and test.csv into "
                    "COURSE/source/<assignment>/data/, write the answer key to --key-out (outside the "
                    "course) and pin its SHA-256 and thresholds set in COURSE/answer_key.pin.json.")
    setup.add_argument("source", help="'sample', a Kaggle fer2013.csv, course CSVs or an image-folder root "
                                      "(e.g. ../shared/fer2013)")
    _course_option(setup)
    setup.add_argument("--key-out", required=True,
                       help="where to write the answer key CSV; must be outside the course folder")
    _release_options(setup, dataset_help="thresholds set",
                     salt_help="secret mixed into the ids and the public/private split (default: a random "
                               "one, kept beside the key in <key>.salt; pass the same salt to set up the "
                               "same key again)")
    setup.add_argument("--public-fraction", type=float, default=0.5,
                       help="share of the test rows whose accuracy students see (feedback, public "
                            "leaderboard); the rest are private and decide `grade leaderboard --final` "
                            "(default 0.5, as Kaggle's FER2013 challenge; not used with --test-set)")
    setup.add_argument("--test-set", default=None, metavar="PATH",
                       help="an instructor-held test set of labelled 48x48 faces that are not public: a "
                            "folder of <emotion>/ subfolders or a CSV with emotion and pixels columns. "
                            "Its faces are released unlabelled beside SOURCE's test faces and are the "
                            "private part: the tiers and the final leaderboard count them only, while "
                            "SOURCE's test faces stay the public part (FER2013's labels are public)")
    setup.set_defaults(handler=run_setup)


def run_setup(args: argparse.Namespace) -> int:
    """``fercourse grade setup``."""
    from fercourse.grading.authoring.setup import salt_path, setup_course

    salt = {} if args.salt is None else {"salt": args.salt}
    done = setup_course(args.source, args.course, args.key_out, dataset=args.dataset, n_train=args.n_train,
                        n_test=args.n_test, public_fraction=args.public_fraction,
                        test_set=args.test_set, **salt)
    for folder in done.data_dirs:
        print(f"data:        {folder}/train.csv ({done.n_train} rows), test.csv ({done.n_test} rows)")
    print(f"answer key:  {done.answer_key} (instructor-only; never inside the course folder)")
    if done.n_held:
        print(f"split:       {done.split} ({done.n_public} public test rows from {args.source} shown in "
              f"feedback; {done.n_held} held faces from {args.test_set} private: the tiers and the final "
              "leaderboard count them only; instructor-only)")
    else:
        print(f"split:       {done.split} ({done.n_public} public test rows shown in feedback, "
              f"{done.n_test - done.n_public} private for the final leaderboard; instructor-only)")
    print(f"salt:        {salt_path(done.answer_key)} ("
          + ("given" if args.salt is not None else "random") + "; instructor-only: the same salt sets up "
          "the same key)")
    print(f"pinned:      sha256 {done.sha256}, thresholds set '{done.dataset}'")
    print(f"autograde:   cd {args.course} && {ANSWER_KEY_ENV}={done.answer_key} "
          "nbgrader autograde ASSIGNMENT")
    return 0


def _register_new(commands) -> None:
    new = commands.add_parser(
        "new", help="create an assignment from the autograded notebook template",
        description="Copy the template notebook to COURSE/source/NAME/NAME.ipynb (intro, imports, "
                    "parameters, task cells with reference solutions, the submission-format and "
                    "accuracy-tier cells scored outside the kernel, a saved-model check for keras, one "
                    "written answer graded by hand), add NAME to COURSE/assignments.json (the files "
                    "students submit; the model file for keras) and a placeholder to thresholds.json. "
                    "Refuses an existing assignment. Then edit the notebook and run `fercourse grade "
                    "calibrate NAME --data ...`.")
    new.add_argument("name", help="assignment name: lower-case letters, digits and underscores (a3_mlp)")
    _course_option(new)
    new.add_argument("--kind", choices=("sklearn", "keras"), default="sklearn",
                     help="sklearn: a classifier on flat pixels, students submit submission.csv; keras: a "
                          "model on (48, 48, 1) images trained once with fit_or_load, students submit "
                          "submission.csv and model.keras (default sklearn)")
    new.add_argument("--title", default=None, help="the notebook's title (default: NAME with spaces)")
    new.set_defaults(handler=run_new)


def run_new(args: argparse.Namespace) -> int:
    """``fercourse grade new``."""
    from fercourse.grading.authoring.template import new_assignment

    made = new_assignment(args.name, args.course, kind=args.kind, title=args.title)
    print(f"notebook:    {made.notebook} ({made.kind}, {made.points} points; students submit "
          f"{', '.join(made.submitted_files)})")
    print(f"assignments: {made.assignments}: {args.name} added"
          + (" with its model file" if made.kind == "keras" else ""))
    print(f"thresholds:  {made.thresholds}: placeholder (autograde refuses {args.name} until calibrated)")
    print(f"next:        edit the TODOs and the reference solutions, then `fercourse grade calibrate "
          f"{args.name} --data sample --course {args.course}`")
    return 0


def _register_calibrate(commands) -> None:
    calibrate = commands.add_parser(
        "calibrate", help="set an assignment's three accuracy tiers from its reference runs and the lessons' "
                          "simple baselines",
        description="Prepare SOURCE as `grade setup` does, run the source notebook's reference solution "
                    "once per seed from a scratch copy (never inside source/), score each submission.csv "
                    "and the lessons' simple baselines (majority class, naive Bayes) against the answer "
                    "key, and write three tiers to COURSE/thresholds.json with what was measured and the "
                    "rule of each: tier 1 = best simple baseline + a margin of 1% of the test rows (at "
                    "least 3), tier 3 = mean of the reference runs - 2 spreads (their standard deviation, at "
                    "least the standard error of an accuracy on the test rows), tier 2 halfway. Refuses when "
                    "there is no room for three increasing tiers.")
    calibrate.add_argument("name", help="the assignment (COURSE/source/NAME/NAME.ipynb)")
    calibrate.add_argument("--data", required=True,
                           help="'sample', a Kaggle fer2013.csv, course CSVs or an image-folder root")
    _course_option(calibrate)
    _release_options(calibrate, dataset_help="thresholds set to write",
                     salt_help="salt of the prepared release (default: fercourse); pass the course's, "
                               "which grade setup keeps in <key>.salt, to measure on the release your "
                               "students get (an SGD reference's accuracy moves with the row order)")
    calibrate.add_argument("--margin-rows", type=int, default=None,
                           help="test rows between the dummy and tier 1, and between tier 3 and the "
                                "reference (default 1%% of the test rows, at least 3)")
    calibrate.add_argument("--seeds", type=_seeds, default=(0, 1, 2), metavar="S,S,S",
                           help="seeds of the reference runs, at least 3 (default 0,1,2)")
    calibrate.add_argument("--min-spread", type=float, default=None, metavar="ACCURACY",
                           help="floor of the spread below the reference runs' mean (default: the standard "
                                "error of an accuracy on the test rows; 0 trusts the seeds' deviation alone)")
    calibrate.add_argument("--dry-run", action="store_true",
                           help="measure and print the tiers; write nothing")
    calibrate.set_defaults(handler=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    """``fercourse grade calibrate``."""
    from fercourse.grading.authoring.calibrate import calibrate

    salt = {} if args.salt is None else {"salt": args.salt}
    calibrate(args.name, args.data, args.course, n_train=args.n_train, n_test=args.n_test,
              dataset=args.dataset, margin_rows=args.margin_rows,
              dry_run=args.dry_run, seeds=args.seeds, min_spread=args.min_spread, progress=True,
              log=lambda line: print(line, flush=True),
              **salt)
    return 0


def _register_tiers(commands) -> None:
    tiers = commands.add_parser(
        "tiers", help="print the tiers of thresholds.json as the guide's tables (or rewrite them there)",
        description="Print COURSE/thresholds.json's tiers as Markdown tables, one per dataset: for each "
                    "assignment the tiers, the rule that set them and what its calibration measured (the "
                    "reference's test and validation accuracy per seed, the simple baselines). With "
                    "--write, replace the generated block of the instructor guide (COURSE/README.md, between "
                    "its marker lines) instead; run it after every `grade calibrate`. With --recompute, "
                    "first apply today's tier rules again to what each `grade calibrate` record measured "
                    "(after a change of the rules: nothing is trained again) and write thresholds.json.")
    _course_option(tiers)
    tiers.add_argument("--recompute", action="store_true",
                       help="set the tiers again from the recorded measurements by today's rules")
    tiers.add_argument("--write", action="store_true",
                       help="rewrite the tables in COURSE/README.md instead of printing them")
    tiers.set_defaults(handler=run_tiers)


def run_tiers(args: argparse.Namespace) -> int:
    """``fercourse grade tiers``."""
    from pathlib import Path

    from fercourse.grading.authoring.course_files import read_thresholds_table
    from fercourse.grading.authoring.tiers_table import guide_block, update_guide
    from fercourse.grading.instructor_files import THRESHOLDS_FILE

    course = Path(args.course)
    table = read_thresholds_table(course / THRESHOLDS_FILE)
    if args.recompute:
        _recompute_tiers(table, course / THRESHOLDS_FILE)
    if not args.write:
        print(guide_block(table))
        return 0
    guide = course / "README.md"
    changed = update_guide(guide, table)
    print(f"{guide}: the tiers tables {'rewritten from' if changed else 'already match'} "
          f"{course / THRESHOLDS_FILE}")
    return 0


def _recompute_tiers(table: dict, thresholds_file) -> None:
    """Apply today's rules to every record ``grade calibrate`` wrote; print each change; write the file."""
    from fercourse.grading.authoring.course_files import write_thresholds_table
    from fercourse.grading.authoring.tier_rules import retier

    for assignment, entry in table.items():
        for dataset, record in (entry.get("calibration") or {}).items() if isinstance(entry, dict) else ():
            if not record.get("reference_accuracies"):
                print(f"{assignment}/{dataset}: set by the earlier single-run rule: kept (run grade "
                      "calibrate)", file=sys.stderr)
                continue
            before, entry[dataset] = entry.get(dataset), retier(record)
            print(f"{assignment}/{dataset}: tiers {', '.join(map(str, entry[dataset]))}"
                  + ("" if before is None or [float(t) for t in before] == entry[dataset] else
                     f" (were {', '.join(str(t) for t in before)})"), file=sys.stderr)
    write_thresholds_table(thresholds_file, table)


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers, e.g. 0,1,2") from None


def _register_autograde(commands) -> None:
    autograde = commands.add_parser(
        "autograde", help="autograde every submission of an assignment in parallel (or on a Dask cluster)",
        description="Autograde ASSIGNMENT for every submitted student: each student is one task that runs "
                    "nbgrader's own autograde (sandbox, outside-the-kernel scoring, integrity checks) in a "
                    "scratch course of its own, on --workers local processes or on the workers of a Dask "
                    "cluster (--scheduler). This process alone writes the gradebook and places the "
                    "autograded folders where nbgrader puts them, so generate_feedback, export and "
                    "formgrader work as after `nbgrader autograde`. A failed task is retried once, then "
                    "reported by student. Submissions graded already and unchanged since are skipped "
                    f"unless --force. The answer key's path comes from {ANSWER_KEY_ENV}, as for nbgrader "
                    "autograde.",
        epilog=f"Example: {ANSWER_KEY_ENV}=~/fercourse-private/answer_key.csv fercourse grade autograde "
               "a2_cnn --course autograder --workers 4 (instructor guide, section Large classes)")
    autograde.add_argument("assignment", help="the assignment to grade, e.g. a1_baselines")
    _course_option(autograde)
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
    """``fercourse grade autograde``."""
    from fercourse.grading.coordinator.parallel import autograde

    extra = (f"--Execute.timeout={args.timeout}",) if args.timeout is not None else ()
    summary = autograde(args.course, args.assignment, students=args.student, workers=args.workers,
                        scheduler=args.scheduler, force=args.force, nbgrader_args=extra,
                        log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print("\n".join(summary.lines()))
    return 1 if summary.count("failed") else 0


def _register_leaderboard(commands) -> None:
    leaderboard = commands.add_parser(
        "leaderboard", help="rank the class on an assignment: static HTML page + CSV (public or --final)",
        description="Rank the class on ASSIGNMENT from the verdicts the grader recorded outside the student "
                    "kernels (autograded/<student>/ASSIGNMENT/.fercourse-verdict-*.json): accuracy on the "
                    "public test rows (what feedback shows), or on the private rows with --final. Equal "
                    "accuracy shares a rank; late submissions (gradebook timestamp after the due date) are "
                    "marked; submissions without a valid submission.csv are listed unranked. Writes --out "
                    "(one HTML file, no scripts or external resources: opens offline) and a CSV next to it.")
    leaderboard.add_argument("assignment", help="assignment name, e.g. a1_baselines")
    _course_option(leaderboard)
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
    """``fercourse grade leaderboard``."""
    from fercourse.grading.records.leaderboard import standings, write_leaderboard

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


def _register_review(commands) -> None:
    review = commands.add_parser(
        "review", help="list graded submissions that deserve a human look (scores kept)",
        description="From the verdicts the grader recorded for ASSIGNMENT, list the submissions whose "
                    "accuracy (on all, the public or the private test rows) is above a plausible ceiling "
                    "(FER2013 0.76: beyond the best published ensembles; the sample 0.85), and those whose "
                    "submitted model does not explain their submission.csv. Nothing is changed: the "
                    "points stay what the grader computed; the list is for a person to look at.")
    review.add_argument("assignment", help="assignment name, e.g. a1_baselines")
    _course_option(review)
    review.add_argument("--ceiling", type=float, default=None,
                        help="flag accuracies above this (default: by the course's thresholds set, 0.76 "
                             "for fer2013, 0.85 for the sample)")
    review.add_argument("--out", default=None, help="also write the list as CSV to this file")
    review.set_defaults(handler=run_review)


def run_review(args: argparse.Namespace) -> int:
    """``fercourse grade review``."""
    from pathlib import Path

    from fercourse.grading.records.review import render_csv, review

    flags, n_records, ceiling = review(args.course, args.assignment, args.ceiling)
    students = len({flag.student for flag in flags})
    print(f"review of {args.assignment}: {students} of {n_records} graded submissions need a look "
          f"(ceiling {ceiling:.2f}; scores kept as graded)")
    for flag in flags:
        points = "" if flag.points is None else f", {flag.points} of {flag.n_tiers} tiers kept"
        if flag.kind == "model":
            points = ", accuracy points withheld by the model check"
        accuracy = "" if flag.accuracy is None else f" (accuracy {flag.accuracy:.4f}{points})"
        print(f"  {flag.student}: {flag.kind}{accuracy}: {flag.detail}")
    if args.out:
        Path(args.out).write_text(render_csv(flags), encoding="utf-8")
        print(f"csv: {args.out}")
    return 0
