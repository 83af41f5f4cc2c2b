"""``fercourse train``: train a named recipe under an epoch or wall-time budget, with resume."""

from __future__ import annotations

import argparse
import json

from fercourse.cli import add_command
from fercourse.cli.options import add_data_option, add_sample_size_options, load_data


def register(subparsers) -> None:
    from fercourse.training.recipes import RECIPES

    recipes = "; ".join(f"{name}: {recipe.description}" for name, recipe in RECIPES.items())
    parser = add_command(subparsers, "train",
        description="Train a recipe on SOURCE's train split. 10% of train (stratified, fixed seed) is held "
                    "out for validation; the best epoch by validation accuracy is saved to OUT. The test "
                    "split is never used: score it once, at the end, with 'fercourse evaluate'. Beside OUT "
                    "go OUT's stem + .json (the training record), .last.keras and .last.json (the resume "
                    "checkpoint).",
        epilog=f"Recipes: {recipes}. Example: fercourse train --data ../shared/fer2013 --recipe reference "
               "--out artifacts/reference.keras --minutes 60; then fercourse evaluate "
               "artifacts/reference.keras --data ../shared/fer2013 --tta shift")
    add_data_option(parser)
    parser.add_argument("--recipe", required=True, choices=list(RECIPES), help="the recipe to train")
    parser.add_argument("--out", required=True, metavar="MODEL.keras", help="where to save the best model")
    parser.add_argument("--epochs", type=int, default=None, metavar="N",
                        help="epoch budget (default: the recipe's, 10 with --quick)")
    parser.add_argument("--minutes", type=float, default=None, metavar="M",
                        help="wall-time budget for training, checked after every batch; the epoch in "
                             "progress is then validated and checkpointed")
    parser.add_argument("--seed", type=int, default=0, help="random seed for weights, augmentation and "
                                                            "batches")
    parser.add_argument("--quick", action="store_true",
                        help="the recipe's quick setting (narrow model, few epochs): for CI and smoke runs")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT's .last.keras checkpoint: epoch count, optimizer and "
                             "schedule go on; budgets are totals over all sessions (starts fresh when there "
                             "is none)")
    parser.add_argument("--quiet", action="store_true", help="no progress display, only the final summary")
    parser.add_argument("--json", action="store_true", help="print the training record as JSON at the end")
    add_sample_size_options(parser)
    parser.set_defaults(handler=run, tensorflow=True)


def run(args: argparse.Namespace) -> int:
    import sys

    from fercourse.training.recipes import artifact_paths, train_recipe

    paths = artifact_paths(args.out)  # a bad --out fails before the data loads
    dataset = load_data(args)
    verbose = 0 if args.quiet else (1 if sys.stderr.isatty() else 2)
    record = train_recipe(args.recipe, dataset, paths.model, epochs=args.epochs, minutes=args.minutes,
                          seed=args.seed, quick=args.quick, resume=args.resume, verbose=verbose)
    if args.json:
        print(json.dumps(record.to_dict(), indent=2))
        return 0
    reasons = {"epochs": "the epoch budget", "time_budget": "the time budget",
               "early_stopping": "early stopping"}
    partial = " (last epoch partial)" if record.partial_last_epoch else ""
    resumed = f", resumed at epoch {record.resumed_from_epoch}" if record.resumed else ""
    print(f"{record.recipe}: {record.epochs_run} epochs{partial}{resumed}, stopped by "
          f"{reasons[record.stopped_by]}, {record.train_seconds / 60:.1f} min of training")
    print(f"best validation accuracy {record.best_val_accuracy:.4f} at epoch {record.best_epoch} "
          f"(validation: {record.split_sizes['val']} images carved from train)")
    print(f"model:  {paths.model}")
    print(f"record: {paths.record}")
    tta = f" --tta {record.tta}" if record.tta else ""
    print(f"next:   fercourse evaluate {paths.model} --data {args.data}{tta}   (the test split, once)")
    return 0
