"""``fercourse grade``: set up the nbgrader course's data and key pin; the class leaderboard."""

from __future__ import annotations

import argparse

from fercourse.cli import add_command_group, grade_assignments
from fercourse.config import ANSWER_KEY_ENV


def register(subparsers) -> None:
    commands = add_command_group(subparsers, "grade",
                                 description="Tools for the nbgrader course in autograder/ (see "
                                             "autograder/README.md, the instructor guide).")

    setup = commands.add_parser(
        "setup", help="put train/test CSVs into every assignment and pin the answer key",
        description="Prepare SOURCE like `fercourse data prepare`, copy train.csv and test.csv into "
                    "COURSE/source/<assignment>/data/, write the answer key to --key-out (outside the "
                    "course) and pin its SHA-256 and thresholds set in COURSE/answer_key.pin.json.")
    setup.add_argument("source", help="'sample', a Kaggle fer2013.csv, course CSVs or an image-folder root "
                                      "(e.g. ../shared/fer2013)")
    setup.add_argument("--course", default="autograder",
                       help="the nbgrader course folder (default autograder)")
    setup.add_argument("--key-out", required=True,
                       help="where to write the answer key CSV; must be outside the course folder")
    setup.add_argument("--dataset", choices=("sample", "fer2013"), default=None,
                       help="thresholds set (default: sample for 'sample', fer2013 otherwise)")
    setup.add_argument("--n-train", type=int, default=None, help="sample only: training images")
    setup.add_argument("--n-test", type=int, default=None, help="sample only: test images")
    setup.add_argument("--salt", default="fercourse",
                       help="secret mixed into the ids, the test faces' disguise and the public/private "
                            "split (change per offering)")
    setup.add_argument("--public-fraction", type=float, default=0.5,
                       help="share of the test rows whose accuracy students see (feedback, public "
                            "leaderboard); the rest are private and decide `grade leaderboard --final` "
                            "(default 0.5, as Kaggle's FER2013 challenge)")
    setup.add_argument("--no-test-disguise", dest="disguise_test", action="store_false", default=None,
                       help="release the test faces unchanged, as in the source (by default each is "
                            "shifted and maybe mirrored so that a pixel lookup in the public FER2013 "
                            "does not find its label; never for the built-in sample, whose faces are not "
                            "public); only for courses that are not graded")
    setup.set_defaults(handler=run_setup)
    grade_assignments.register(commands)  # grade new, grade calibrate

    from fercourse.cli.leaderboard import register_grade_command as register_leaderboard

    register_leaderboard(commands)

    from fercourse.cli.grade_autograde import register_subcommand as register_autograde

    register_autograde(commands)


def run_setup(args: argparse.Namespace) -> int:
    from fercourse.data.disguise import DESCRIPTION
    from fercourse.grading import setup_course

    done = setup_course(args.source, args.course, args.key_out, dataset=args.dataset, n_train=args.n_train,
                        n_test=args.n_test, salt=args.salt, disguise_test=args.disguise_test,
                        public_fraction=args.public_fraction)
    for folder in done.data_dirs:
        print(f"data:        {folder}/train.csv ({done.n_train} rows), test.csv ({done.n_test} rows)")
    print("test faces:  " + ("disguised: " + DESCRIPTION if done.test_disguised else
                              "NOT disguised (--no-test-disguise, or the built-in sample)"))
    print(f"answer key:  {done.answer_key} (instructor-only; never inside the course folder)")
    print(f"split:       {done.split} ({done.n_public} public test rows shown in feedback, "
          f"{done.n_test - done.n_public} private for the final leaderboard; instructor-only)")
    print(f"pinned:      sha256 {done.sha256}, thresholds set '{done.dataset}'")
    print(f"autograde:   cd {args.course} && {ANSWER_KEY_ENV}={done.answer_key} "
          "nbgrader autograde ASSIGNMENT")
    return 0
