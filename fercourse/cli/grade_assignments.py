"""``fercourse grade new`` and ``fercourse grade calibrate``: make an assignment, then set its tiers."""

from __future__ import annotations

import argparse

COURSE_HELP = "the nbgrader course folder (default autograder)"


def register(commands) -> None:
    """Add ``new`` and ``calibrate`` to the ``fercourse grade`` group's subparsers."""
    new = commands.add_parser(
        "new", help="create an assignment from the autograded notebook template",
        description="Write COURSE/source/NAME/NAME.ipynb from the template (intro, imports, parameters, "
                    "task cells with reference solutions, the submission-format and accuracy-tier cells "
                    "scored outside the kernel, a saved-model check for keras, one written answer graded "
                    "by hand), add NAME to nbgrader_config.py (exclude_overwriting; model_files for keras) "
                    "and a placeholder to thresholds.json. Refuses an existing assignment. Then edit the "
                    "notebook and run `fercourse grade calibrate NAME --data ...`.")
    new.add_argument("name", help="assignment name: lower-case letters, digits and underscores (a3_mlp)")
    new.add_argument("--course", default="autograder", help=COURSE_HELP)
    new.add_argument("--kind", choices=("sklearn", "keras"), default="sklearn",
                     help="sklearn: a classifier on flat pixels, students submit submission.csv; keras: a "
                          "model on (48, 48, 1) images trained once with fit_or_load, students submit "
                          "submission.csv and model.keras (default sklearn)")
    new.add_argument("--title", default=None, help="the notebook's title (default: NAME with spaces)")
    new.set_defaults(handler=run_new)

    calibrate = commands.add_parser(
        "calibrate", help="set an assignment's three accuracy tiers from its reference and the dummy",
        description="Prepare SOURCE as `grade setup` does, run the source notebook's reference solution "
                    "from a scratch copy (never inside source/), score its submission.csv and the "
                    "majority-class dummy against the answer key, and write three tiers between them (a "
                    "margin of 1% of the test rows, at least 3, inside each) to COURSE/thresholds.json "
                    "with what was measured. Refuses when the reference does not beat the dummy by four "
                    "margins.")
    calibrate.add_argument("name", help="the assignment (COURSE/source/NAME/NAME.ipynb)")
    calibrate.add_argument("--data", required=True,
                           help="'sample', a Kaggle fer2013.csv, course CSVs or an image-folder root")
    calibrate.add_argument("--course", default="autograder", help=COURSE_HELP)
    calibrate.add_argument("--dataset", choices=("sample", "fer2013"), default=None,
                           help="thresholds set to write (default: sample for 'sample', fer2013 otherwise)")
    calibrate.add_argument("--n-train", type=int, default=None,
                           help="sample only: training images (default 10000; the CI e2e course uses 1400)")
    calibrate.add_argument("--n-test", type=int, default=None,
                           help="sample only: test images (default 2000; CI e2e: 280)")
    calibrate.add_argument("--salt", default="fercourse",
                           help="salt of the prepared release, as in grade setup")
    calibrate.add_argument("--no-test-disguise", dest="disguise_test", action="store_false", default=None,
                           help="measure on undisguised test faces (only for a course set up with "
                                "--no-test-disguise)")
    calibrate.add_argument("--margin-rows", type=int, default=None,
                           help="test rows between the dummy and tier 1, and between tier 3 and the "
                                "reference (default 1%% of the test rows, at least 3)")
    calibrate.add_argument("--dry-run", action="store_true",
                           help="measure and print the tiers; write nothing")
    calibrate.set_defaults(handler=run_calibrate)


def run_new(args: argparse.Namespace) -> int:
    from fercourse.grading.template import new_assignment

    made = new_assignment(args.name, args.course, kind=args.kind, title=args.title)
    print(f"notebook:    {made.notebook} ({made.kind}, {made.points} points; students submit "
          f"{', '.join(made.submitted_files)})")
    print(f"config:      {made.config}: {args.name} added to exclude_overwriting"
          + (" and SnapshotSubmission.model_files" if made.kind == "keras" else ""))
    print(f"thresholds:  {made.thresholds}: placeholder (autograde refuses {args.name} until calibrated)")
    print(f"next:        edit the TODOs and the reference solutions, then `fercourse grade calibrate "
          f"{args.name} --data sample --course {args.course}`")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    from fercourse.grading.calibrate import calibrate

    calibrate(args.name, args.data, args.course, n_train=args.n_train, n_test=args.n_test,
              dataset=args.dataset, salt=args.salt, disguise_test=args.disguise_test,
              margin_rows=args.margin_rows, dry_run=args.dry_run, progress=True,
              log=lambda line: print(line, flush=True))
    return 0
