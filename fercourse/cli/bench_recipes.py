"""``fercourse bench recipes``: seed_cnn vs reference under one budget (registered by
``fercourse.cli.bench``)."""

from __future__ import annotations

import argparse
import json

from fercourse.errors import InputError


def register_subcommand(commands) -> None:
    """Add ``recipes`` to the ``fercourse bench`` subcommands."""
    from fercourse.cli.train import SOURCE_HELP, add_sample_size_options

    parser = commands.add_parser(
        "recipes", help="train seed_cnn and reference under the same budget; print both test accuracies",
        description="Train the seed courses' CNN recipe (seed_cnn) and ours (reference) one after the other, "
                    "under the same budget, on the same data and validation split, then score each once on "
                    "the test split and print both accuracies and the difference. Reports validation "
                    "accuracy, macro-F1, disgust recall, whether TTA was used and the machine's load.",
        epilog="Example (real FER2013, 20 minutes each): fercourse bench recipes --data ../shared/fer2013 "
               "--minutes 20 --out /tmp/recipe-bench")
    parser.add_argument("--data", default="sample", metavar="SOURCE", help=SOURCE_HELP + " (default: sample)")
    parser.add_argument("--minutes", type=float, default=None, metavar="M", help="training minutes per "
                                                                                 "recipe")
    parser.add_argument("--epochs", type=int, default=None, metavar="N", help="epoch budget per recipe")
    parser.add_argument("--seed", type=int, default=0, help="random seed, the same for both (default: 0)")
    parser.add_argument("--quick", action="store_true", help="the recipes' quick settings (a smoke run)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for the two models and their training records (keep it out of git)")
    parser.add_argument("--resume", action="store_true",
                        help="continue each recipe from its checkpoint in DIR (an interrupted bench, or a "
                             "recipe trained there first with 'fercourse train'); one that used its budget "
                             "is only scored")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of the table")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    add_sample_size_options(parser)
    parser.set_defaults(handler=run, tensorflow=True)


def run(args: argparse.Namespace) -> int:
    from fercourse.bench.recipes import bench_recipes, format_bench
    from fercourse.cli.train import load_data

    if args.minutes is None and args.epochs is None:
        raise InputError("give a budget: --minutes M, --epochs N or both (the same for both recipes)")
    result = bench_recipes(load_data(args), out=args.out, minutes=args.minutes, epochs=args.epochs,
                           seed=args.seed, quick=args.quick, resume=args.resume,
                           verbose=0 if args.quiet else 2)
    print(json.dumps(result, indent=2) if args.json else format_bench(result))
    return 0
