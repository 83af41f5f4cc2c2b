"""``fercourse bench``: benchmarks that print ratios against a baseline measured in the same run."""

from __future__ import annotations

import argparse

from fercourse.cli import add_command_group


def register(subparsers) -> None:
    commands = add_command_group(subparsers, "bench", help="benchmarks (ratios against a baseline in the same run)",
                                 description="Benchmarks that print figures and ratios against a "
                                             "baseline measured in the same process.")
    load = commands.add_parser("load", help="Kaggle CSV loading: seed parse vs fercourse, cold and cached",
                               description="Load a Kaggle fer2013.csv three ways in one process: the seed "
                                           "courses' per-row int() parse, fercourse's first load, and "
                                           "fercourse's second (cached) load; print seconds and ratios.")
    load.add_argument("csv", nargs="?", default=None,
                      help="a Kaggle fer2013.csv (default: convert ../shared/fer2013 into a temporary one)")
    load.add_argument("--json", action="store_true", help="print the figures as JSON")
    load.set_defaults(handler=run_load)
    detect = commands.add_parser("detect", help="demo speed: detect+classify latency on a 640x480 photo",
                                 description="Median detect+classify latency (warm, CPU) of fercourse.demo's "
                                             "EmotionDetector on a 640x480 photo, and images/s for a batch.")
    detect.add_argument("--model", default=None, metavar="PATH",
                        help="a saved Keras model (default: an untrained simple CNN, same cost)")
    detect.add_argument("--repeats", type=int, default=20, help="timed runs (default 20)")
    detect.add_argument("--batch", type=int, default=16, help="photos in the batch run (default 16)")
    detect.add_argument("--json", action="store_true", help="print the figures as JSON")
    detect.set_defaults(handler=run_detect)
    from fercourse.cli.bench_recipes import register_subcommand as register_recipes

    register_recipes(commands)


def run_load(args: argparse.Namespace) -> int:
    import json

    from fercourse.benchmarks import bench_load

    result = bench_load(args.csv)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


def run_detect(args: argparse.Namespace) -> int:
    import json

    from fercourse.demo.bench import bench_detect

    result = bench_detect(args.model, repeats=args.repeats, batch=args.batch)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0
