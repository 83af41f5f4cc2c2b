"""``fercourse experiment``: the long, shared experiments on real FER2013, run piece by piece and recorded."""

from __future__ import annotations

import sys

from fercourse.cli import add_command_group
from fercourse.errors import InputError


def register(subparsers) -> None:
    commands = add_command_group(
        subparsers, "experiment",
        description="The long comparisons the lessons quote (augmentation once the plain model overfits, "
                    "the trick ladder, every model on test), one command each. Each (arm, seed) piece is "
                    "trained (resumably), scored on validation, train and test, and recorded in "
                    "results/fer2013.json as soon as it finishes; pieces already recorded are skipped.")
    listing = commands.add_parser("list", help="list the experiments, their arms, budgets and seeds",
                                  description="List the experiments with their arms, budgets and seeds.")
    listing.set_defaults(handler=list_experiments)

    run = commands.add_parser(
        "run", help="run the pieces of one experiment not yet recorded",
        description="Run the pieces of experiment NAME that results/fer2013.json does not hold yet (with "
                    "--record), or all of them (without). Trained models and their resume checkpoints go "
                    "to ARTIFACTS/experiments/NAME/ARM-seedN.keras: an interrupted piece continues from "
                    "its last epoch when run again.",
        epilog="Examples: fercourse experiment run augmentation --data ../shared/fer2013 --record;  "
               "fercourse experiment run ladder --data ../shared/fer2013 --arms lesson_cnn --seeds 0 1 2 "
               "--record;  fercourse experiment run zoo --data sample --quick (a smoke test)")
    run.add_argument("name", metavar="NAME", help="the experiment (see 'fercourse experiment list')")
    run.add_argument("--data", default="fer2013", metavar="SOURCE",
                     help="FER2013 as an image-folder root or Kaggle CSV, 'fer2013' ($FERCOURSE_FER2013), or "
                          "'sample' for a smoke test (default: fer2013)")
    run.add_argument("--arms", nargs="+", default=None, metavar="ARM", help="only these arms")
    run.add_argument("--seeds", nargs="+", type=int, default=None, metavar="SEED", help="only these seeds")
    run.add_argument("--quick", action="store_true", help="the recipes' quick setting: a smoke test")
    run.add_argument("--artifacts", default="artifacts", metavar="DIR",
                     help="root for the trained models (default: artifacts/)")
    run.add_argument("--record", action="store_true",
                     help="record each piece in the course's results/fer2013.json as it finishes, and skip "
                          "pieces recorded there already (real data only, not with --quick)")
    run.set_defaults(handler=run_experiment, tensorflow=True)


def list_experiments(args) -> int:
    from fercourse.course.experiments import EXPERIMENTS

    for experiment in EXPERIMENTS.values():
        budget = f"{experiment.epochs} epochs" + (f", {experiment.minutes:g} min per model"
                                                  if experiment.minutes else "")
        print(f"{experiment.name}: {experiment.title} ({budget}; seeds "
              f"{', '.join(map(str, experiment.seeds))}; lesson {experiment.lesson})")
        for arm in experiment.arms:
            print(f"  {arm.name}: {arm.title}")
    return 0


def run_experiment(args) -> int:
    from pathlib import Path

    from fercourse.config import is_sample
    from fercourse.course import experiments
    from fercourse.course.results import results_path

    if args.record and (args.quick or is_sample(args.data)):
        raise InputError("--record: only real data without --quick is recorded (the sample's figures show "
                         "the method, not FER2013 results)")
    measured = experiments.run_experiment(
        args.name, args.data, arms=args.arms, seeds=args.seeds, quick=args.quick,
        folder=Path(args.artifacts) / "experiments", record=results_path() if args.record else None,
        log=lambda line: print(line, file=sys.stderr, flush=True))
    for key, values in measured.items():
        print(f"{key}: test accuracy {values.get('test_accuracy', float('nan')):.3f}")
    return 0
